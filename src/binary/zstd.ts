/**
 * Zstandard (RFC 8878) compression and decompression in-process, through the native zstd
 * library that the npm package zstd-napi builds (docs/dependencies.md says why this one).
 * One-shot `zstdCompress` / `zstdDecompress` for pieces held in memory (a qcow2 cluster, a
 * test), and `ZstdStreamCompressor` for large outputs written as they are produced (a
 * ramdisk's cpio archive). With `workers` > 0 the library compresses on its own threads
 * (ZSTD_c_nbWorkers), so the caller's thread goes on producing input meanwhile; the output
 * is one frame, and the same bytes for the same input and level with any worker count of 1
 * or more (zstd's multi-threaded output depends neither on timing nor on the thread count;
 * 0 workers gives other bytes).
 */
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { DiskImageError, InternalError } from '../errors.js';

const require = createRequire(import.meta.url);
let loaded: typeof ZstdBinding | undefined;

function binding(): typeof ZstdBinding {
  if (loaded) return loaded;
  try {
    loaded = require('zstd-napi/binding') as typeof ZstdBinding;
  } catch (e) {
    throw new DiskImageError('MISSING_TOOL', `the zstd native module (npm package zstd-napi) did not load: ${(e as Error).message}`,
      'reinstall with `npm ci` on a machine with a C++ compiler, make and python3 (zstd-napi builds from source when no prebuilt binary is offered)', { cause: e });
  }
  return loaded;
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

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < ZSTD_MIN_LEVEL || level > ZSTD_MAX_LEVEL) {
    throw new DiskImageError('CONFIG', `zstd level ${level} is not supported`, `use a whole number from ${ZSTD_MIN_LEVEL} to ${ZSTD_MAX_LEVEL}`);
  }
}

function newContext(opts: ZstdOptions, defaultWorkers: number): ZstdBinding.CCtx {
  const b = binding();
  const level = opts.level ?? ZSTD_DEFAULT_LEVEL;
  checkLevel(level);
  const cctx = new b.CCtx();
  cctx.setParameter(b.CParameter.compressionLevel, level);
  cctx.setParameter(b.CParameter.checksumFlag, opts.checksum === false ? 0 : 1);
  const workers = opts.workers ?? defaultWorkers;
  if (workers > 0) cctx.setParameter(b.CParameter.nbWorkers, workers);
  return cctx;
}

/** Compresses `data` into one zstd frame (with its content size in the header). */
export function zstdCompress(data: Uint8Array, opts: ZstdOptions = {}): Uint8Array {
  const b = binding();
  const cctx = newContext(opts, 0);
  const out = new Uint8Array(b.compressBound(data.length));
  cctx.setPledgedSrcSize(data.length);
  let produced = 0;
  let src = data;
  for (;;) {
    const [remaining, written, consumed] = cctx.compressStream2(out.subarray(produced), src, b.EndDirective.end);
    produced += written;
    src = src.subarray(consumed);
    if (remaining === 0) break;
  }
  return out.slice(0, produced);
}

/**
 * Decompresses every frame in `data` (concatenated frames decompress to their concatenated
 * contents, as the zstd command does). Throws a FORMAT error for data that is not zstd or
 * ends inside a frame; `maxSize` bounds the output (default 4 GiB).
 */
export function zstdDecompress(data: Uint8Array, maxSize = 2 ** 32): Uint8Array {
  const b = binding();
  const dctx = new b.DCtx();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let src = data;
  let pending = 0;
  const out = new Uint8Array(b.dStreamOutSize());
  while (src.length > 0 || pending > 0) {
    let result: [number, number, number];
    try {
      result = dctx.decompressStream(out, src);
    } catch (e) {
      throw new DiskImageError('FORMAT', `zstd data at offset ${data.length - src.length}: ${(e as Error).message}`, undefined, { cause: e });
    }
    const [hint, written, consumed] = result;
    if (written > 0) {
      total += written;
      if (total > maxSize) throw new DiskImageError('FORMAT', `zstd data decompresses to more than ${maxSize} bytes`);
      chunks.push(out.slice(0, written));
    }
    src = src.subarray(consumed);
    pending = hint;
    if (written === 0 && consumed === 0) {
      if (src.length === 0) break;
      throw new DiskImageError('FORMAT', `zstd data at offset ${data.length - src.length}: decoder made no progress`);
    }
  }
  if (pending > 0) throw new DiskImageError('FORMAT', `zstd data ends inside a frame (${data.length} bytes read)`);
  const result = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    result.set(c, at);
    at += c.length;
  }
  return result;
}

/**
 * A streaming compressor: `write` input as it is produced, `end` once; compressed bytes go
 * to `sink` as they come (each chunk is the sink's to keep). One frame results.
 */
export class ZstdStreamCompressor {
  private readonly cctx: ZstdBinding.CCtx;
  private readonly out: Uint8Array;
  private ended = false;

  constructor(
    private readonly sink: (chunk: Uint8Array) => void,
    opts: ZstdOptions = {},
  ) {
    const b = binding();
    this.cctx = newContext(opts, Math.max(1, availableParallelism() - 1));
    this.out = new Uint8Array(Math.max(b.cStreamOutSize(), 1 << 20));
  }

  write(data: Uint8Array): void {
    if (this.ended) throw new InternalError('ZstdStreamCompressor: write after end');
    const cont = binding().EndDirective.continue;
    let src = data;
    while (src.length > 0) {
      const [, written, consumed] = this.cctx.compressStream2(this.out, src, cont);
      if (written > 0) this.sink(this.out.slice(0, written));
      src = src.subarray(consumed);
    }
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    const end = binding().EndDirective.end;
    for (;;) {
      const [remaining, written] = this.cctx.compressStream2(this.out, new Uint8Array(0), end);
      if (written > 0) this.sink(this.out.slice(0, written));
      if (remaining === 0) break;
    }
  }
}

/** Path of the zstd-napi module, for a worker thread that compresses qcow2 clusters with it. */
export function zstdModulePath(): string {
  return require.resolve('zstd-napi');
}

/**
 * Decompresses the zstd frame at the start of `src` (trailing padding is ignored) into `dst`;
 * returns the number of bytes written. Throws when the frame is damaged or does not fit `dst`:
 * a hostile frame can never make it allocate more than the caller sized (qcow2 clusters).
 */
export function zstdDecompressInto(src: Uint8Array, dst: Uint8Array): number {
  const z = binding();
  const frame = z.findFrameCompressedSize(src);
  return new z.DCtx().decompress(dst, src.subarray(0, frame));
}
