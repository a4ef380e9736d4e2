/**
 * A FileTree read from a host directory (the chroot DIB built): an lstat walk that never
 * follows symlinks (in C, native/walk.c, when built; else in TypeScript), siblings sorted
 * bytewise, hard links grouped by (st_dev, st_ino), extended attributes read with lgetxattr
 * semantics (llistxattr in C; @napi-rs/xattr, which does not follow symlinks) including
 * security.*, trusted.* and the POSIX ACLs as the raw system.posix_acl_* bytes the kernel
 * hands out. File content is read lazily through a few descriptors opened on demand, so a
 * tree of any size holds at most FD_CACHE descriptors; a writer that announces its reading
 * order (readAhead in model.ts) gets them from a helper thread that reads ahead.
 */
import { isAscii } from 'node:buffer';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import { type ContentSource, DEVICE_PLACEHOLDER_XATTR, entryTypeOfMode, type FileContent, type FileTree, type TreeEntry } from './model.js';
import { type AheadFile, ReadAhead, type ReadAheadOptions } from './read-ahead.js';
import { splitDev, timestampFromNs, treeFromEntries } from './entries.js';
import { XattrThread, type XattrOutcome, xattrOutcome } from './xattr-thread.js';
import { type NativeWalk, nativeWalk, W, WALK_FIELDS } from './native-walk.js';
import { getSystemErrorMap } from 'node:util';

export interface DirTreeOptions {
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  /** Do not descend into directories on another filesystem (mount points); default true. */
  oneFileSystem?: boolean;
  /** Leave out a path (tree path like '/proc') and, for a directory, everything below it. */
  exclude?: (treePath: string) => boolean;
  /**
   * Read ahead on a helper thread (read-ahead.ts) when a writer announces at least this many
   * bytes of contents; default 8 MiB (below that the helper's start-up costs more than it saves).
   */
  readAheadMin?: number;
  /**
   * Read extended attributes on a helper thread (xattr-thread.ts) once the walk has met this
   * many entries; default 1024 (below that the helper's start-up costs more than it saves).
   * Not with devicePlaceholders, whose marks decide an entry's type as it is met.
   */
  xattrThreadMin?: number;
  /**
   * Which walk lists the directory: our C walk (native-walk.ts) when it is built, else the
   * TypeScript one ('auto', the default); or that one ('native': an error when it is not
   * built, 'typescript'). Both give the same tree.
   */
  walker?: 'auto' | 'native' | 'typescript';
  /** Which helper reads ahead (see ReadAheadOptions.reader); default 'auto'. */
  reader?: ReadAheadOptions['reader'];
  /**
   * Read an empty regular file marked with DEVICE_PLACEHOLDER_XATTR as the device it names
   * (an unprivileged build's stand-in for a device node); default false.
   */
  devicePlaceholders?: boolean;
  /**
   * Owners as the image should have them, from the host's ids (an unprivileged build read from
   * outside its user namespace: the namespace's map applied backwards); default: as on the host.
   */
  mapIds?: (id: number, kind: 'uid' | 'gid') => number;
}

/**
 * An empty file marked with DEVICE_PLACEHOLDER_XATTR (devicePlaceholders) made into the device
 * it names, mark removed; false for any other entry. A mark that does not parse is an error.
 */
function asMarkedDevice(entry: TreeEntry, hostPath: string): boolean {
  const mark = entry.type === 'file' ? entry.xattrs.get(DEVICE_PLACEHOLDER_XATTR) : undefined;
  if (!mark) return false;
  const m = /^([bc]) (\d+) (\d+)$/.exec(Buffer.from(mark).toString('latin1'));
  if (!m) throw new InputError(`${hostPath}: the device mark ${DEVICE_PLACEHOLDER_XATTR} is '${Buffer.from(mark).toString('latin1')}', expected 'c MAJOR MINOR' or 'b MAJOR MINOR'`);
  entry.xattrs.delete(DEVICE_PLACEHOLDER_XATTR);
  Object.assign(entry, { type: m[1] === 'b' ? 'blockdev' : 'chardev', size: 0, rdevMajor: Number(m[2]), rdevMinor: Number(m[3]) });
  return true;
}

// Loaded with require: importing a CommonJS package from ESM first parses its source for
// export names (cjs-module-lexer), which costs start-up time (docs/benchmarks.md).
const require = createRequire(import.meta.url);
const { getAttributeSync, listAttributesSync } = require('@napi-rs/xattr') as typeof import('@napi-rs/xattr');

const FD_CACHE = 8;
const READ_AHEAD_MIN = 8 << 20;
const XATTR_THREAD_MIN = 1024;

/** Descriptors opened on demand and closed least-recently-used first. */
class FdCache {
  private readonly open = new Map<string, number>();
  private closed = false;
  get(file: string): number {
    if (this.closed) throw new InputError(`${file}: the directory tree was closed before its content was read`);
    let fd = this.open.get(file);
    if (fd !== undefined) {
      this.open.delete(file);
      this.open.set(file, fd);
      return fd;
    }
    if (this.open.size >= FD_CACHE) {
      const [oldest, ofd] = this.open.entries().next().value as [string, number];
      this.open.delete(oldest);
      fs.closeSync(ofd);
    }
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    this.open.set(file, fd);
    return fd;
  }
  closeAll(): void {
    for (const fd of this.open.values()) fs.closeSync(fd);
    this.open.clear();
    this.closed = true;
  }
}

/** A regular file's content in the host directory. */
class DirFile implements FileContent {
  /** Its place in the current read-ahead's list, or -1. */
  aheadIndex = -1;
  constructor(readonly file: string, readonly size: number, readonly source: DirContents) {}
  read(offset: number, length: number): Uint8Array {
    return this.source.read(this, offset, length);
  }
}

/** The entries of one walk with more than one link, by `dev:ino`. */
class HardLinks {
  private readonly byKey = new Map<string, TreeEntry[]>();
  add(key: string, e: TreeEntry): void {
    const group = this.byKey.get(key);
    if (group) group.push(e);
    else this.byKey.set(key, [e]);
  }
  /** Only links that meet inside the tree form a group (hardlinkKey); a lone link is an ordinary file. */
  group(): void {
    for (const [key, group] of this.byKey) {
      if (group.length < 2) continue;
      for (const e of group) e.hardlinkKey = key;
    }
  }
}

/** Contents of one walk: read directly through the descriptor cache, or from a read-ahead. */
class DirContents implements ContentSource {
  private readonly fds = new FdCache();
  private ahead: ReadAhead | undefined;
  private aheadFiles: DirFile[] = [];

  constructor(private readonly minAhead: number, private readonly reader: ReadAheadOptions['reader']) {}

  readAhead(contents: readonly FileContent[]): void {
    this.stopAhead();
    const files: AheadFile[] = [];
    let bytes = 0;
    for (const c of contents) {
      if (!(c instanceof DirFile) || c.source !== this || c.size === 0 || c.aheadIndex >= 0) continue;
      c.aheadIndex = files.length;
      this.aheadFiles.push(c);
      files.push({ path: c.file, size: c.size });
      bytes += c.size;
    }
    if (bytes >= this.minAhead && files.length > 0) this.ahead = new ReadAhead(files, { reader: this.reader });
    else this.stopAhead();
  }

  close(): void {
    this.stopAhead();
    this.fds.closeAll();
  }

  read(c: DirFile, offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, c.size - offset));
    const early = c.aheadIndex >= 0 ? this.ahead?.take(c.aheadIndex, offset, n) : undefined;
    if (early) return early;
    const pooled = Buffer.allocUnsafe(n); // not zero-filled: every byte is read into
    const buf = new Uint8Array(pooled.buffer, pooled.byteOffset, n);
    let got = 0;
    const fd = this.fds.get(c.file);
    while (got < n) {
      const r = fs.readSync(fd, buf, got, n - got, offset + got);
      if (r === 0) {
        throw new InputError(`${c.file}: file shrank while the tree was being read (size was ${c.size}, got EOF at ${offset + got})`,
          'do not modify the source directory while an image is built from it');
      }
      got += r;
    }
    return buf;
  }

  private stopAhead(): void {
    this.ahead?.close();
    this.ahead = undefined;
    for (const c of this.aheadFiles) c.aheadIndex = -1;
    this.aheadFiles = [];
  }
}

/** An entry's attributes as a map, or the error for what could not be read. */
function xattrMap(file: string, o: XattrOutcome): Map<string, Uint8Array> {
  if ('failed' in o) {
    throw new InputError(o.failed === 'list' ? `${file}: cannot list extended attributes: ${o.message}`
      : `${file}: cannot read extended attribute ${o.name}: ${o.message}`);
  }
  return new Map(o.names.map((n, i) => [n, o.values[i]!]));
}

/** `file`'s extended attributes (lgetxattr semantics: a symlink's own), names sorted. */
export function readXattrs(file: string): Map<string, Uint8Array> {
  return xattrMap(file, xattrOutcome(listAttributesSync, getAttributeSync, file));
}

function decodeName(raw: Buffer, dir: string): string {
  if (isAscii(raw)) return raw.toString('latin1');
  const s = raw.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(raw)) {
    throw new InputError(`${dir}: a directory entry name is not valid UTF-8 (bytes ${raw.toString('hex')})`,
      'rename the file; tree paths are UTF-8 strings');
  }
  return s;
}

/**
 * Walks `rootPath` and returns its tree; call close() when the writers are done with it. The
 * walk is our C addon's (native-walk.ts, nativeTree below) when it is built, else the one
 * here, its TypeScript twin; both make the same entries, and fail on the same inputs.
 */
export function dirTree(rootPath: string, opts: DirTreeOptions = {}): FileTree {
  const withXattrs = opts.xattrs ?? true;
  const oneFs = opts.oneFileSystem ?? true;
  const root = path.resolve(rootPath);
  let rootSt: fs.BigIntStats;
  try {
    rootSt = fs.lstatSync(root, { bigint: true });
  } catch (e) {
    throw new InputError(`source directory ${root}: ${(e as Error).message}`);
  }
  if (!rootSt.isDirectory()) throw new InputError(`source directory ${root}: expected a directory but it is not one`);

  const contents = new DirContents(opts.readAheadMin ?? READ_AHEAD_MIN, opts.reader);
  const walk = opts.walker === 'typescript' ? undefined : nativeWalk();
  if (!walk && opts.walker === 'native') throw new InputError('the native directory walk is not built (build/Release/walk.node)', 'run npm ci (it builds it with node-gyp)');
  if (walk) {
    try {
      return nativeTree(root, walk(root, oneFs, withXattrs), opts, contents);
    } catch (e) {
      contents.close();
      throw e;
    }
  }
  const entries: TreeEntry[] = [];
  const links = new HardLinks();
  // Attributes are read on a helper thread once the walk is big enough; its entries by number.
  const threadMin = withXattrs && !opts.devicePlaceholders ? (opts.xattrThreadMin ?? XATTR_THREAD_MIN) : Infinity;
  let thread: XattrThread | undefined;
  const threaded: { entry: TreeEntry; hostPath: string }[] = [];

  const visit = (hostPath: string, treePath: string, st: fs.BigIntStats): void => {
    const type = entryTypeOfMode(Number(st.mode));
    if (!type) throw new InputError(`${hostPath}: unknown file type (mode 0o${st.mode.toString(8)})`);
    const rdev = type === 'chardev' || type === 'blockdev' ? splitDev(st.rdev) : { major: 0, minor: 0 };
    const size = type === 'file' || type === 'symlink' ? Number(st.size) : 0;
    const entry: TreeEntry = {
      path: treePath, type,
      mode: Number(st.mode) & 0o7777,
      uid: opts.mapIds ? opts.mapIds(Number(st.uid), 'uid') : Number(st.uid),
      gid: opts.mapIds ? opts.mapIds(Number(st.gid), 'gid') : Number(st.gid),
      atime: timestampFromNs(st.atimeNs), mtime: timestampFromNs(st.mtimeNs), ctime: timestampFromNs(st.ctimeNs),
      size, rdevMajor: rdev.major, rdevMinor: rdev.minor,
      xattrs: new Map(),
    };
    if (withXattrs && entries.length >= threadMin) {
      thread ??= new XattrThread(require.resolve('@napi-rs/xattr'), listAttributesSync, getAttributeSync);
      threaded[thread.add(hostPath)] = { entry, hostPath };
    } else if (withXattrs) entry.xattrs = readXattrs(hostPath);
    if (opts.devicePlaceholders && asMarkedDevice(entry, hostPath)) {
      entries.push(entry);
      return;
    }
    if (type === 'symlink') {
      const target = fs.readlinkSync(hostPath, { encoding: 'buffer' });
      entry.linkTarget = decodeName(target, hostPath);
      entry.size = target.length;
    }
    if (type === 'file') entry.content = new DirFile(hostPath, size, contents);
    if (type !== 'dir' && st.nlink > 1n) links.add(`${st.dev}:${st.ino}`, entry);
    entries.push(entry);
    if (type !== 'dir') return;
    if (oneFs && st.dev !== rootSt.dev) return;
    let names: Buffer[];
    try {
      names = fs.readdirSync(hostPath, { encoding: 'buffer' }).sort(Buffer.compare);
    } catch (e) {
      throw new InputError(`${hostPath}: cannot list the directory: ${(e as Error).message}`, 'build the image as root, or fix the permissions');
    }
    for (const raw of names) {
      const name = decodeName(raw, hostPath);
      const childTree = treePath === '/' ? '/' + name : treePath + '/' + name;
      if (opts.exclude?.(childTree)) continue;
      const childHost = hostPath === '/' ? '/' + name : hostPath + '/' + name;
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(childHost, { bigint: true });
      } catch (e) {
        throw new InputError(`${childHost}: cannot stat: ${(e as Error).message}`, 'do not modify the source directory while it is read');
      }
      visit(childHost, childTree, st);
    }
  };
  try {
    visit(root, '/', rootSt);
    for (const [n, o] of thread?.finish() ?? []) threaded[n]!.entry.xattrs = xattrMap(threaded[n]!.hostPath, o);
  } catch (e) {
    thread?.close();
    contents.close();
    throw e;
  }

  links.group();
  return treeFromEntries(entries, () => contents.close());
}

/** Node's text for an errno failure of a system call on `file`, as fs would throw it. */
function errnoMessage(f: { op: string; errno: number }, file: string): string {
  const [code, text] = getSystemErrorMap().get(-f.errno) ?? [`E${f.errno}`, 'unknown error'];
  return `${code}: ${text}, ${f.op} '${file}'`;
}

/** The FileTree of the C walk's answer, entry by entry as the TypeScript walk above makes them. */
function nativeTree(root: string, r: NativeWalk, opts: DirTreeOptions, contents: DirContents): FileTree {
  const { names, stats, extra } = r;
  const entries: TreeEntry[] = [];
  const links = new HardLinks();
  const trees: string[] = [];
  const hosts: string[] = [];
  let skipBelow = Infinity; // depth of an excluded directory whose entries are being passed over
  // The names decoded at once; when the text holds U+FFFD (some name is not UTF-8, or has that
  // character) each is decoded by itself, which names a bad one.
  const text = names.toString('utf8');
  const split = text.includes('\ufffd') ? undefined : text.split('\0');
  let p = 0;
  for (let i = 0, at = 0; at < stats.length; i++, at += WALK_FIELDS) {
    let raw: Buffer | undefined;
    if (!split) {
      const end = names.indexOf(0, p);
      raw = names.subarray(p, end);
      p = end + 1;
    }
    const depth = stats[at + W.DEPTH]!;
    if (depth > skipBelow) continue;
    skipBelow = Infinity;
    let treePath = '/';
    let hostPath = root;
    if (depth > 0) {
      const parentHost = hosts[depth - 1]!;
      const name = split ? split[i]! : decodeName(raw!, parentHost);
      treePath = depth === 1 ? '/' + name : trees[depth - 1] + '/' + name;
      hostPath = parentHost === '/' ? '/' + name : parentHost + '/' + name;
      if (opts.exclude?.(treePath)) {
        skipBelow = depth;
        continue;
      }
    }
    trees[depth] = treePath;
    hosts[depth] = hostPath;
    const x = extra[i];
    const failed = x?.failed;
    if (failed?.op === 'lstat') throw new InputError(`${hostPath}: cannot stat: ${errnoMessage(failed, hostPath)}`, 'do not modify the source directory while it is read');
    const mode = stats[at + W.MODE]!;
    const type = entryTypeOfMode(mode);
    if (!type) throw new InputError(`${hostPath}: unknown file type (mode 0o${mode.toString(8)})`);
    if (failed?.op === 'listxattr') throw new InputError(`${hostPath}: cannot list extended attributes: ${errnoMessage(failed, hostPath)}`);
    if (failed?.op === 'getxattr') throw new InputError(`${hostPath}: cannot read extended attribute ${failed.name}: ${errnoMessage(failed, hostPath)}`);
    if (failed?.op === 'readlink') throw new InputError(`${hostPath}: cannot read the symlink: ${errnoMessage(failed, hostPath)}`);
    const device = type === 'chardev' || type === 'blockdev';
    const uid = stats[at + W.UID]!;
    const gid = stats[at + W.GID]!;
    const entry: TreeEntry = {
      path: treePath, type,
      mode: mode & 0o7777,
      uid: opts.mapIds ? opts.mapIds(uid, 'uid') : uid,
      gid: opts.mapIds ? opts.mapIds(gid, 'gid') : gid,
      atime: { sec: stats[at + W.ATIME_SEC]!, nsec: stats[at + W.ATIME_NSEC]! },
      mtime: { sec: stats[at + W.MTIME_SEC]!, nsec: stats[at + W.MTIME_NSEC]! },
      ctime: { sec: stats[at + W.CTIME_SEC]!, nsec: stats[at + W.CTIME_NSEC]! },
      size: type === 'file' || type === 'symlink' ? stats[at + W.SIZE]! : 0,
      rdevMajor: device ? stats[at + W.RDEV_MAJOR]! : 0, rdevMinor: device ? stats[at + W.RDEV_MINOR]! : 0,
      xattrs: new Map(),
    };
    if (x?.xattrs) {
      const [xn, xv] = x.xattrs;
      const order = xn.map((_, k) => k).sort((a, b) => (xn[a]! < xn[b]! ? -1 : xn[a]! > xn[b]! ? 1 : 0));
      entry.xattrs = new Map(order.map((k) => [xn[k]!, new Uint8Array(xv[k]!.buffer, xv[k]!.byteOffset, xv[k]!.length)]));
    }
    if (opts.devicePlaceholders && asMarkedDevice(entry, hostPath)) {
      entries.push(entry);
      continue;
    }
    if (type === 'symlink') {
      const target = x?.target ?? Buffer.alloc(0);
      entry.linkTarget = decodeName(target, hostPath);
      entry.size = target.length;
    }
    if (type === 'file') entry.content = new DirFile(hostPath, entry.size, contents);
    if (type !== 'dir' && stats[at + W.NLINK]! > 1) links.add(`${stats[at + W.DEV]}:${stats[at + W.INO]}`, entry);
    entries.push(entry);
    if (failed?.op === 'scandir') {
      throw new InputError(`${hostPath}: cannot list the directory: ${errnoMessage(failed, hostPath)}`, 'build the image as root, or fix the permissions');
    }
  }
  links.group();
  return treeFromEntries(entries, () => contents.close());
}
