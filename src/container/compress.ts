/**
 * Cluster compression spread over worker threads: qcow2's deflate (raw deflate, a 4 KiB
 * window, windowBits -12, memLevel 9, as qemu's qcow2_compress sets it up) and zstd (level 3,
 * one frame per cluster, as qemu's qcow2_zstd_compress), and zlib-format deflate for VMDK
 * grains (zlib's defaults, as qemu's vmdk driver calls compress()); zstd from node:zlib, or zstd-napi
 * on a Node without it (src/binary/zstd.ts chooses). Clusters go to the workers in batches
 * and come back in the order they were sent, so the writer places them in guest order.
 */
import { Worker } from 'node:worker_threads';
import { zstdWorkerModule } from '../binary/zstd.js';
import { DiskImageError } from '../errors.js';

/** deflate: raw (qcow2); zlib: with the RFC 1950 header (VMDK grains); gzip: -9 members (tgz); zstd: qcow2's zstd. */
export type CompressionType = 'deflate' | 'zlib' | 'gzip' | 'zstd';

export interface ClusterCompressor {
  /** Compresses each block; the promise keeps the order of the input. */
  compress(blocks: Uint8Array[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

// CommonJS run by `new Worker(..., { eval: true })`: no file to find next to the .ts or the .js.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
const napi = workerData.zstdPath ? require(workerData.zstdPath) : null;
const squeeze = napi
  ? (b) => napi.compress(b, { compressionLevel: 3 })
  : workerData.type === 'zstd'
    ? (b) => zlib.zstdCompressSync(b, { params: { [zlib.constants.ZSTD_c_compressionLevel]: 3 } })
  : workerData.type === 'zlib'
    ? (b) => zlib.deflateSync(b)
  : workerData.type === 'gzip'
    ? (b) => zlib.gzipSync(b, { level: 9 })
    : (b) => zlib.deflateRawSync(b, { windowBits: 12, memLevel: 9, level: zlib.constants.Z_DEFAULT_COMPRESSION });
parentPort.on('message', ({ id, data, lengths }) => {
  const outs = [];
  let pos = 0;
  let total = 0;
  for (const n of lengths) {
    const o = squeeze(new Uint8Array(data.buffer, data.byteOffset + pos, n));
    outs.push(o);
    total += o.length;
    pos += n;
  }
  const packed = new Uint8Array(total);
  const sizes = [];
  pos = 0;
  for (const o of outs) { packed.set(o, pos); pos += o.length; sizes.push(o.length); }
  parentPort.postMessage({ id, data: packed, lengths: sizes }, [packed.buffer]);
});
`;

interface Pending {
  resolve: (out: Uint8Array[]) => void;
  reject: (e: unknown) => void;
}

/** A pool of `threads` workers compressing with `type`. */
export function compressorPool(type: CompressionType, threads: number): ClusterCompressor {
  const workers: Worker[] = [];
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failed: unknown;
  const fail = (e: unknown) => {
    failed ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  for (let i = 0; i < Math.max(1, threads); i++) {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { type, zstdPath: type === 'zstd' ? zstdWorkerModule() ?? '' : '' } });
    w.on('message', (m: { id: number; data: Uint8Array; lengths: number[] }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      const out: Uint8Array[] = [];
      let pos = 0;
      for (const n of m.lengths) {
        out.push(m.data.subarray(pos, pos + n));
        pos += n;
      }
      p.resolve(out);
    });
    w.on('error', fail);
    w.on('exit', (code) => {
      if (code !== 0) fail(new DiskImageError('IO', `a compression worker exited with code ${code}`, 'see its error above; an exit of 134 or a kill is often memory running out'));
    });
    workers.push(w);
  }
  return {
    compress(blocks) {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      const total = blocks.reduce((s, b) => s + b.length, 0);
      const data = new Uint8Array(total);
      let pos = 0;
      for (const b of blocks) {
        data.set(b, pos);
        pos += b.length;
      }
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        workers[id % workers.length]!.postMessage({ id, data, lengths: blocks.map((b) => b.length) }, [data.buffer]);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
