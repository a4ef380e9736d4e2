/**
 * The one place where a path given on the command line is checked against what it must be,
 * before any work starts: a file to read, a tar input (a file, a FIFO or stdin), a layout file
 * (a regular file of bounded size), a folder to read, a place to write the log, an image name
 * to create. Each refusal names the option, the path, and what the path is instead.
 * The options say which rule applies to them in their table (option-table.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors.js';

/** What a path option must name. */
export type PathRule =
  /** A folder that is read (--root-dir, --early-dir). */
  | 'read-dir'
  /** A tar archive: a regular file, a FIFO, or - for stdin (--root-tar). */
  | 'tar-input'
  /** A file the whole log is appended to (--logfile). */
  | 'log-file'
  /** A folder made when missing (--image-cache). */
  | 'cache-dir'
  /** The name of image files to create next to each other (-o): NAME.TYPE. */
  | 'output-name';

/** The largest layout YAML read from a file: DIB's layouts are a few KiB. */
export const MAX_LAYOUT_FILE_BYTES = 1 << 20;

/** Filesystems whose files are kernel interfaces, not places for a log. */
const KERNEL_FS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x64626720: 'debugfs', 0x27e0eb: 'cgroupfs', 0x63677270: 'cgroup2fs' };

/** What a stat says a path is, in words. */
export function describeKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'a special file';
}

function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError(p, `cannot look at this path (${code ?? (e as Error).message})`);
  }
}

function checkLogFile(where: string, p: string): void {
  if (p === '') throw new ConfigError(where, 'expected a file name but it is empty', 'give the file the log is appended to');
  const st = statOf(p);
  if (st?.isDirectory()) throw new ConfigError(where, `${p} is a directory, not a file to write the log to`, `name a file inside it, e.g. ${path.join(p, 'build.log')}`);
  if (st && (st.isSocket() || st.isBlockDevice())) throw new ConfigError(where, `${p} is ${describeKind(st)}, not a file to write the log to`);
  const dir = path.dirname(path.resolve(p));
  const dst = statOf(dir);
  if (!dst) throw new ConfigError(where, `the folder ${dir} of ${p} does not exist`, 'create it first, or name a file in an existing folder');
  if (!dst.isDirectory()) throw new ConfigError(where, `${dir} (the folder of ${p}) is ${describeKind(dst)}, not a directory`);
  const fsType = fs.statfsSync(dir).type;
  if (KERNEL_FS[fsType]) throw new ConfigError(where, `${p} is on ${KERNEL_FS[fsType]}, a kernel interface, not a place for a log`, 'name a file on a real filesystem');
  try {
    fs.accessSync(st ? p : dir, fs.constants.W_OK);
  } catch (e) {
    throw new ConfigError(where, `${p} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'name a file you can write');
  }
}

function checkOutputName(where: string, p: string): void {
  if (p === '') throw new ConfigError(where, 'expected an image name but it is empty', 'e.g. -o debian (writes debian.qcow2)');
  if (p.endsWith('/') || path.basename(p) === '.' || path.basename(p) === '..') {
    throw new ConfigError(where, `'${p}' names a folder, not an image name`, `give a file name without its extension, e.g. ${path.join(p, 'image')}`);
  }
  const st = statOf(p);
  if (st?.isDirectory()) throw new ConfigError(where, `'${p}' is a directory, not an image name`, `give a file name without its extension, e.g. ${path.join(p, 'image')}`);
}

/** Checks `value` of option `where` against `rule`; throws ConfigError naming both. */
export function checkPath(rule: PathRule, where: string, value: string): void {
  switch (rule) {
    case 'log-file': return checkLogFile(where, value);
    case 'output-name': return checkOutputName(where, value);
    case 'read-dir': {
      const st = statOf(value);
      if (!st) throw new ConfigError(where, `${value} does not exist`, 'give an existing folder');
      if (!st.isDirectory()) throw new ConfigError(where, `${value} is ${describeKind(st)}, not a directory`, 'give a folder');
      return;
    }
    case 'cache-dir': {
      const st = statOf(value);
      if (st && !st.isDirectory()) throw new ConfigError(where, `${value} is ${describeKind(st)}, not a directory`, 'give a folder (it is made when missing)');
      return;
    }
    case 'tar-input': {
      if (value === '-') return;
      if (value === '') throw new ConfigError(where, 'expected a tar archive but the path is empty', 'give the archive, or - for stdin');
      const st = statOf(value);
      if (!st) throw new ConfigError(where, `${value} does not exist`, 'give an existing tar archive, or - for stdin');
      if (!st.isFile() && !st.isFIFO()) {
        throw new ConfigError(where, `${value} is ${describeKind(st)}, not a tar archive (a regular file, a FIFO or - for stdin)`, 'give the archive itself, or pipe it in with - ');
      }
      return;
    }
  }
}

/**
 * Reads a layout YAML file: it must be a regular file of at most MAX_LAYOUT_FILE_BYTES (a
 * character device such as /dev/zero, or a FIFO, could be read forever).
 */
export function readLayoutFile(file: string, where: string, hint: string): string {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO must not wait for a writer; fstat then refuses it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such layout file' : `cannot open it (${code ?? (e as Error).message})`;
    throw new ConfigError(where, where === file ? why : `cannot read layout file ${file}: ${why}`, hint);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(where, `${file} is ${describeKind(st)}, not a layout file (a regular YAML file)`, hint);
    if (st.size > MAX_LAYOUT_FILE_BYTES) {
      throw new ConfigError(where, `${file} is ${st.size} bytes; a layout file may have at most ${MAX_LAYOUT_FILE_BYTES} bytes`, 'a block-device layout is a few KiB of YAML: check the file name');
    }
    const buf = Buffer.alloc(MAX_LAYOUT_FILE_BYTES + 1);
    let n = 0;
    for (let r = 1; r > 0 && n < buf.length; n += r) r = fs.readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_LAYOUT_FILE_BYTES) throw new ConfigError(where, `${file} grew beyond ${MAX_LAYOUT_FILE_BYTES} bytes while it was read`, hint);
    return buf.toString('utf8', 0, n);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(where, `cannot read the layout file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, hint);
  } finally {
    fs.closeSync(fd);
  }
}
