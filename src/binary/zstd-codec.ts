/**
 * The one interface both zstd libraries sit behind (src/binary/zstd-zlib.ts: Node's own
 * node:zlib; src/binary/zstd-napi.ts: the zstd-napi package, for Nodes without it). The
 * callers use src/binary/zstd.ts, which checks parameters, splits frames and reports errors
 * the same way whichever codec runs.
 */
import type { Transform } from 'node:stream';
import { DiskImageError } from '../errors.js';

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

/** A frame that holds more than the caller's bound (each codec's decoder throws it, or a RangeError as node:zlib's maxOutputLength does). */
export class ZstdTooLarge extends DiskImageError {
  constructor(readonly maxSize: number) {
    super('FORMAT', `zstd data decompresses to more than ${maxSize} bytes`);
  }
}
