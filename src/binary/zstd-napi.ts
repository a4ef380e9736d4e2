/**
 * The zstd codec of the npm package zstd-napi (a native build of libzstd), behind
 * src/binary/zstd.ts's ZstdCodec: used only on a Node whose `node:zlib` has no zstd (Node 20,
 * 22 before 22.15), where it is an optional dependency built at install.
 */
import { createRequire } from 'node:module';
import { Transform } from 'node:stream';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { InternalError } from '../errors.js';
import { ZstdTooLarge, type ZstdCodec, type ZstdParams } from './zstd-codec.js';

type Binding = typeof ZstdBinding;

/** zstd-napi's binding, or the reason it did not load (not installed, not built). */
export function loadZstdNapi(): Binding | Error {
  try {
    return createRequire(import.meta.url)('zstd-napi/binding') as Binding;
  } catch (e) {
    return e as Error;
  }
}

function context(b: Binding, p: ZstdParams): ZstdBinding.CCtx {
  const cctx = new b.CCtx();
  cctx.setParameter(b.CParameter.compressionLevel, p.level);
  cctx.setParameter(b.CParameter.checksumFlag, p.checksum ? 1 : 0);
  if (p.workers > 0) cctx.setParameter(b.CParameter.nbWorkers, p.workers);
  return cctx;
}

/** Runs `cctx` over `src` with `directive` until it is consumed (and, for `end`, flushed); chunks to `emit`. */
function drive(b: Binding, cctx: ZstdBinding.CCtx, out: Uint8Array, src: Uint8Array, directive: number, emit: (c: Uint8Array) => void): void {
  for (;;) {
    const [remaining, written, consumed] = cctx.compressStream2(out, src, directive);
    if (written > 0) emit(out.slice(0, written));
    src = src.subarray(consumed);
    if (directive === b.EndDirective.end ? remaining === 0 : src.length === 0) return;
  }
}

function compressStream(b: Binding, p: ZstdParams): Transform {
  const cctx = context(b, p);
  const out = new Uint8Array(Math.max(b.cStreamOutSize(), 1 << 20));
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        drive(b, cctx, out, chunk, b.EndDirective.continue, (c) => this.push(c));
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    flush(done) {
      try {
        drive(b, cctx, out, new Uint8Array(0), b.EndDirective.end, (c) => this.push(c));
        done();
      } catch (e) {
        done(e as Error);
      }
    },
  });
}

/** The codec over zstd-napi's binding `b`. */
export function napiCodec(b: Binding): ZstdCodec {
  return {
    name: 'zstd-napi',
    compress(data, p) {
      const cctx = context(b, p);
      cctx.setPledgedSrcSize(data.length);
      const parts: Uint8Array[] = [];
      drive(b, cctx, new Uint8Array(b.compressBound(data.length)), data, b.EndDirective.end, (c) => parts.push(c));
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
    decompressFrame(frame, maxSize) {
      const dctx = new b.DCtx();
      const parts: Uint8Array[] = [];
      const out = new Uint8Array(b.dStreamOutSize());
      let total = 0;
      let src = frame;
      for (;;) {
        const [hint, written, consumed] = dctx.decompressStream(out, src);
        total += written;
        if (total > maxSize) throw new ZstdTooLarge(maxSize);
        if (written > 0) parts.push(out.slice(0, written));
        src = src.subarray(consumed);
        if (hint === 0) break;
        if (written === 0 && consumed === 0) throw new InternalError('the zstd decoder made no progress');
      }
      return Buffer.concat(parts);
    },
    compressStream: (p) => compressStream(b, p),
  };
}
