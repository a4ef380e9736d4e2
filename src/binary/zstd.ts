/**
 * Zstandard (RFC 8878) compression and decompression in-process. One interface, two
 * libraries behind it (src/binary/zstd-codec.ts): Node's own `node:zlib` where it has zstd
 * (Node 22.15+), else the optional npm package zstd-napi (Node 20); docs/dependencies.md says
 * why, docs/benchmarks.md compares the two. One-shot `zstdCompress` / `zstdDecompress` for
 * pieces held in memory (a qcow2 cluster, a test), and `zstdCompressStream` for large outputs
 * written as they are produced (a ramdisk's cpio archive). With `workers` > 0 the library
 * compresses on its own threads (ZSTD_c_nbWorkers), so the caller's thread goes on producing
 * input meanwhile; the output is one frame, and the same bytes for the same input, level and
 * library with any worker count of 1 or more (0 workers gives other bytes).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { DiskImageError } from '../errors.js';
import { ZstdTooLarge, type ZstdCodec, type ZstdParams } from './zstd-codec.js';
import { zstdFrameAt, zstdFrames } from './zstd-frame.js';
import { loadZstdNapi, napiCodec } from './zstd-napi.js';
import { zlibCodec, zlibZstd } from './zstd-zlib.js';

export type ZstdLibrary = ZstdCodec['name'];

let chosen: ZstdCodec | undefined;

/** Why no zstd library is usable here, naming the real cause. */
function missingZstd(napi: Error): DiskImageError {
  const notInstalled = (napi as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /'zstd-napi\/binding'/.test(napi.message);
  const cause = notInstalled
    ? 'the optional package zstd-napi is not installed'
    : `the optional package zstd-napi is installed but its native part did not load (${napi.message.split('\n')[0]}): its install script did not run or failed`;
  return new DiskImageError('MISSING_TOOL', `no zstd library: Node ${process.version}'s node:zlib has no zstd (Node 22.15 and later have it), and ${cause}`,
    notInstalled
      ? 'run on Node 22.15 or later, or install zstd-napi next to diskimage-ts (`npm install zstd-napi`)'
      : 'run on Node 22.15 or later, or build zstd-napi: `npm rebuild zstd-napi --foreground-scripts` (it downloads a prebuilt binary, else compiles: a C++ compiler, make and python3)',
    { cause: napi });
}

/**
 * The library in use: `prefer` when given and available here, else node:zlib when this Node
 * has zstd, else zstd-napi. Throws MISSING_TOOL when neither is usable.
 */
export function zstdLibrary(prefer?: ZstdLibrary): ZstdCodec {
  if (chosen && (!prefer || chosen.name === prefer)) return chosen;
  const z = zlibZstd();
  if (z && prefer !== 'zstd-napi') return (chosen = zlibCodec(z));
  const napi = loadZstdNapi();
  if (napi instanceof Error) {
    if (z) return (chosen = zlibCodec(z));
    throw missingZstd(napi);
  }
  return (chosen = napiCodec(napi));
}

export const ZSTD_MIN_LEVEL = 1;
export const ZSTD_MAX_LEVEL = 19;
export const ZSTD_DEFAULT_LEVEL = 3;

export interface ZstdOptions {
  /** Compression level, 1..19 (default 3, zstd's own default). */
  level?: number;
  /**
   * Compression threads of the library (0: compress on the calling thread). Default for the
   * stream compressor: one per core but one, at least one (the calling thread is busy making
   * the input: on 2 cores one worker was faster than two, same bytes; docs/benchmarks.md); 0 for
   * one-shot compression.
   */
  workers?: number;
  /** Add the frame's XXH64 content checksum (default true, as the zstd command does). */
  checksum?: boolean;
}

function checkedParams(opts: ZstdOptions, defaultWorkers: number): ZstdParams {
  const level = opts.level ?? ZSTD_DEFAULT_LEVEL;
  if (!Number.isInteger(level) || level < ZSTD_MIN_LEVEL || level > ZSTD_MAX_LEVEL) {
    throw new DiskImageError('CONFIG', `zstd level ${level} is not supported`, `use a whole number from ${ZSTD_MIN_LEVEL} to ${ZSTD_MAX_LEVEL}`);
  }
  return { level, checksum: opts.checksum !== false, workers: opts.workers ?? defaultWorkers };
}

/** Compresses `data` into one zstd frame (with its content size in the header). */
export function zstdCompress(data: Uint8Array, opts: ZstdOptions = {}): Uint8Array {
  const p = checkedParams(opts, 0);
  return zstdLibrary().compress(data, p);
}

/** One frame's content, the library's failure reported as a FORMAT error at the frame's offset. */
function decodeFrame(codec: ZstdCodec, data: Uint8Array, start: number, end: number, maxSize: number): Uint8Array {
  try {
    return codec.decompressFrame(data.subarray(start, end), maxSize);
  } catch (e) {
    if (e instanceof RangeError || e instanceof ZstdTooLarge) throw new DiskImageError('FORMAT', `zstd data decompresses to more than ${maxSize} bytes (frame at offset ${start})`, undefined, { cause: e });
    throw new DiskImageError('FORMAT', `zstd data at offset ${start}: ${(e as Error).message}`, undefined, { cause: e });
  }
}

/**
 * Decompresses every frame in `data` (concatenated frames decompress to their concatenated
 * contents, as the zstd command does; skippable frames are skipped). Throws a FORMAT error for
 * data that is not zstd or ends inside a frame; `maxSize` bounds the output (default 4 GiB).
 */
export function zstdDecompress(data: Uint8Array, maxSize = 2 ** 32): Uint8Array {
  const codec = zstdLibrary();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const f of zstdFrames(data)) {
    if (f.skippable) continue;
    const part = decodeFrame(codec, data, f.start, f.end, maxSize - total);
    total += part.length;
    parts.push(part);
  }
  const result = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    result.set(p, at);
    at += p.length;
  }
  return result;
}

/**
 * Decompresses the zstd frame at the start of `src` (trailing bytes are ignored) into `dst`;
 * returns the number of bytes written. Throws when the frame is damaged or does not fit `dst`:
 * a hostile frame can never make it allocate more than the caller sized (qcow2 clusters).
 */
export function zstdDecompressInto(src: Uint8Array, dst: Uint8Array): number {
  const f = zstdFrameAt(src, 0);
  const out = decodeFrame(zstdLibrary(), src, 0, f.end, dst.length);
  dst.set(out);
  return out.length;
}

/**
 * A stream that compresses what is written to it into one frame: pipe input in, read the
 * compressed bytes out. Default workers: one per core but one, at least one.
 */
export function zstdCompressStream(opts: ZstdOptions = {}): Transform {
  const p = checkedParams(opts, Math.max(1, availableParallelism() - 1));
  return zstdLibrary().compressStream(p);
}

/**
 * For a worker thread that compresses qcow2 clusters (src/container/compress.ts): the path
 * of the zstd-napi module when that is the library in use, undefined when it is node:zlib.
 */
export function zstdWorkerModule(): string | undefined {
  return zstdLibrary().name === 'zstd-napi' ? createRequire(import.meta.url).resolve('zstd-napi') : undefined;
}
