/**
 * The one interface both zstd libraries sit behind (src/binary/zstd-zlib.ts: Node's own
 * node:zlib; src/binary/zstd-napi.ts: the zstd-napi package, for Nodes without it). The
 * callers use src/binary/zstd.ts, which checks parameters, splits frames and reports errors
 * the same way whichever codec runs.
 */
import type { Transform } from 'node:stream';

/** Checked compression parameters. */
export interface ZstdParams {
  /** 1..19. */
  level: number;
  /** The frame's XXH64 content checksum. */
  checksum: boolean;
  /** libzstd's own compression threads (ZSTD_c_nbWorkers); 0: on the calling thread. */
  workers: number;
}

export interface ZstdCodec {
  readonly name: 'node:zlib' | 'zstd-napi';
  /** One frame, with its content size in the header. */
  compress(data: Uint8Array, p: ZstdParams): Uint8Array;
  /** Exactly one whole frame (src/binary/zstd-frame.ts found it) to its content; throws when it holds more than `maxSize`. */
  decompressFrame(frame: Uint8Array, maxSize: number): Uint8Array;
  /** A stream that compresses what is written into one frame. */
  compressStream(p: ZstdParams): Transform;
}
