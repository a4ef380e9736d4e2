/**
 * The zstd calls the containers make, in one place so the library is easy to swap. Node 20's
 * zlib has no zstd; zstd-napi binds libzstd (see the README's dependency notes). Decompression
 * goes into a buffer the caller sized, so a hostile frame can never make it allocate more.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Binding {
  DCtx: new () => { decompress(dst: Uint8Array, src: Uint8Array): number };
  findFrameCompressedSize(src: Uint8Array): number;
}

let binding: Binding | undefined;
function zstdBinding(): Binding {
  binding ??= require('zstd-napi/binding') as Binding;
  return binding;
}

/** Path of the module a worker thread loads to compress with zstd. */
export function zstdModulePath(): string {
  return require.resolve('zstd-napi');
}

/**
 * Decompresses the zstd frame at the start of `src` (trailing padding is ignored) into `dst`;
 * returns the number of bytes written. Throws when the frame is damaged or does not fit `dst`.
 */
export function zstdDecompressInto(src: Uint8Array, dst: Uint8Array): number {
  const z = zstdBinding();
  const frame = z.findFrameCompressedSize(src);
  return new z.DCtx().decompress(dst, src.subarray(0, frame));
}
