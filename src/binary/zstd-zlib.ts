/**
 * The zstd codec of Node's own `node:zlib` (Node 22.15+ and 23.8+: zstdCompressSync,
 * zstdDecompressSync, createZstdCompress), behind src/binary/zstd.ts's ZstdCodec. Nothing
 * to build at install. Our @types/node is that of the oldest Node we support (20), which
 * does not declare these, so the few members used are declared here and looked up at run time.
 */
import type { Transform } from 'node:stream';
import type { ZstdCodec, ZstdParams } from './zstd-codec.js';

interface ZlibZstdOptions {
  params?: Record<number, number>;
  maxOutputLength?: number;
  chunkSize?: number;
}

/** The zstd members of node:zlib (Node 22.15+), as far as we use them. */
interface ZlibZstd {
  zstdCompressSync(data: Uint8Array, opts: ZlibZstdOptions): Buffer;
  zstdDecompressSync(data: Uint8Array, opts: ZlibZstdOptions): Buffer;
  createZstdCompress(opts: ZlibZstdOptions): Transform;
  constants: Record<string, number>;
}

/** node:zlib's zstd, or undefined on a Node without it (20, 22 before 22.15). */
export function zlibZstd(): ZlibZstd | undefined {
  const z = process.getBuiltinModule('node:zlib') as unknown as Partial<ZlibZstd>;
  return typeof z.zstdCompressSync === 'function' && typeof z.createZstdCompress === 'function' ? (z as ZlibZstd) : undefined;
}

/**
 * libzstd's parameters for `p`. `workers` is not passed on: node:zlib's stream already
 * compresses on libuv's thread pool while the caller goes on, and with ZSTD_c_nbWorkers set
 * its stream ended before libzstd had flushed the frame (Node 24.21: a push after EOF, the
 * output cut short), so the frame is made on one thread, the same bytes for any `workers`.
 */
function params(z: ZlibZstd, p: ZstdParams): Record<number, number> {
  const c = z.constants;
  return {
    [c.ZSTD_c_compressionLevel!]: p.level,
    [c.ZSTD_c_checksumFlag!]: p.checksum ? 1 : 0,
  };
}

/** The codec over node:zlib `z`. */
export function zlibCodec(z: ZlibZstd): ZstdCodec {
  return {
    name: 'node:zlib',
    compress: (data, p) => z.zstdCompressSync(data, { params: { ...params(z, p), [z.constants.ZSTD_c_contentSizeFlag!]: 1 } }),
    decompressFrame: (frame, maxSize) => z.zstdDecompressSync(frame, { maxOutputLength: Math.max(1, maxSize) }),
    compressStream: (p) => z.createZstdCompress({ params: params(z, p), chunkSize: 1 << 20 }),
  };
}
