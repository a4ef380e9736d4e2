/**
 * Writes an initramfs file: optional uncompressed archives first (early microcode, which
 * the kernel looks for uncompressed at the start), then the main cpio newc archive of the
 * tree, compressed in-process as it is produced:
 * - zstd (default, levels 1-19): src/binary/zstd.ts, compressing on the library's threads
 *   while this thread writes the archive;
 * - gzip (levels 1-9): node:zlib on libuv's thread pool, the same overlap; DIB's format;
 * - xz (levels 0-9): the host's `xz` (xz-utils) with `--check=crc32`, the only check the
 *   kernel's xz decoder accepts, and a fixed thread count so the bytes do not depend on the
 *   machine (docs/dependencies.md says why not an npm package);
 * - none.
 * The file is written under a temporary name next to the output; the caller publishes it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { cpioBytes, cpioChunks, planCpio, type CpioOptions } from '../archive/cpio-writer.js';
import { zstdCompressStream, ZSTD_DEFAULT_LEVEL, ZSTD_MAX_LEVEL, ZSTD_MIN_LEVEL } from '../binary/zstd.js';
import { ConfigError, DiskImageError, MissingToolError } from '../errors.js';
import { fileError } from '../binary/file-device.js';
import type { FileTree } from '../tree/model.js';

export type Compression = 'zstd' | 'gzip' | 'xz' | 'none';
export const COMPRESSIONS: readonly Compression[] = ['zstd', 'gzip', 'xz', 'none'];

const LEVELS: Record<Compression, { min: number; max: number; default: number }> = {
  zstd: { min: ZSTD_MIN_LEVEL, max: ZSTD_MAX_LEVEL, default: ZSTD_DEFAULT_LEVEL },
  gzip: { min: 1, max: 9, default: 6 },
  xz: { min: 0, max: 9, default: 6 },
  none: { min: 0, max: 0, default: 0 },
};

/** Threads xz uses whatever the machine: its multi-threaded output depends on the count. */
const XZ_THREADS = 2;

/** Checks a compression name and level; returns the level to use. */
export function checkCompression(compression: string, level: number | undefined, where: string): number {
  if (!COMPRESSIONS.includes(compression as Compression)) {
    throw new ConfigError(where, `unknown compression '${compression}'`, `use one of ${COMPRESSIONS.join(', ')}`);
  }
  const l = LEVELS[compression as Compression];
  if (level === undefined) return l.default;
  if (compression === 'none') throw new ConfigError(where, 'an uncompressed ramdisk has no compression level');
  if (!Number.isInteger(level) || level < l.min || level > l.max) {
    throw new ConfigError(where, `${compression} level ${level} is not supported`, `use a whole number from ${l.min} to ${l.max}`);
  }
  return level;
}

export interface InitramfsOptions extends CpioOptions {
  compression: Compression;
  level?: number;
  /** Trees written first, each as its own uncompressed archive (early microcode). */
  early?: FileTree[];
  /** Called with each warning of the archive planner. */
  warn?: (message: string) => void;
}

export interface InitramfsResult {
  /** Bytes of the uncompressed main archive and of the file written. */
  archiveSize: number;
  size: number;
}

async function pipeChunks(chunks: Iterable<Uint8Array>, into: Writable): Promise<void> {
  for (const c of chunks) {
    // The chunk is reused by the writer after this step: the stream gets its own copy.
    if (!into.write(Buffer.from(c))) await once(into, 'drain');
  }
  into.end();
}

/** Writes the initramfs of `tree` to `file` (created; must not exist). */
export async function writeInitramfs(tree: FileTree, file: string, opts: InitramfsOptions): Promise<InitramfsResult> {
  const level = checkCompression(opts.compression, opts.level, 'compression');
  const plan = planCpio(tree, opts);
  for (const w of plan.warnings) opts.warn?.(w);
  const fd = fs.openSync(file, 'wx', 0o644);
  let closed = false;
  const writeAll = (data: Uint8Array): void => {
    try {
      for (let at = 0; at < data.length;) at += fs.writeSync(fd, data, at, data.length - at);
    } catch (e) {
      throw fileError(e, file, 'writing the ramdisk');
    }
  };
  try {
    for (const t of opts.early ?? []) {
      const early = planCpio(t, opts);
      for (const w of early.warnings) opts.warn?.(`early archive: ${w}`);
      writeAll(cpioBytes(early));
    }
    switch (opts.compression) {
      case 'none':
        for (const c of cpioChunks(plan)) writeAll(c);
        break;
      case 'zstd': {
        const z = zstdCompressStream({ level });
        const out = fs.createWriteStream('', { fd, autoClose: false });
        z.pipe(out);
        await Promise.all([pipeChunks(cpioChunks(plan), z), finished(out)]);
        break;
      }
      case 'gzip': {
        const gz = zlib.createGzip({ level, chunkSize: 1 << 20 });
        const out = fs.createWriteStream('', { fd, autoClose: false });
        gz.pipe(out);
        await Promise.all([pipeChunks(cpioChunks(plan), gz), finished(out)]);
        break;
      }
      case 'xz': {
        const child = spawn('xz', ['-z', '-c', `-${level}`, '--check=crc32', `--threads=${XZ_THREADS}`], { stdio: ['pipe', fd, 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
        const exit = new Promise<number | null>((resolve, reject) => {
          child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new MissingToolError('xz', 'compress the ramdisk with xz', 'xz-utils') : e));
          child.on('close', (code) => resolve(code));
        });
        await Promise.all([pipeChunks(cpioChunks(plan), child.stdin!).catch((e) => { child.kill(); throw e; }), exit]);
        const code = await exit;
        if (code !== 0) throw new DiskImageError('IO', `xz exited with ${code} while compressing the ramdisk: ${stderr.trim()}`);
        break;
      }
    }
    fs.fsyncSync(fd);
    const size = fs.fstatSync(fd).size;
    fs.closeSync(fd);
    closed = true;
    return { archiveSize: plan.size, size };
  } finally {
    if (!closed) fs.closeSync(fd);
  }
}
