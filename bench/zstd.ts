/**
 * Benchmark: the two zstd libraries behind src/binary/zstd.ts, node:zlib (Node 22.15+) and
 * zstd-napi, in the three shapes we use: a ramdisk's stream (level 3, one worker thread, 1 MiB
 * writes of a cpio-like mix), qcow2's one-shot 64 KiB clusters (level 3, calling thread), and
 * decompression of those clusters into a buffer (the qcow2 reader). Alternating libraries,
 * median of RUNS, MB/s of input. Decides which library src/binary/zstd.ts prefers.
 * Usage: node --import tsx bench/zstd.ts [RUNS]   (needs both: Node 22.15+ and zstd-napi built)
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { zstdCompress, zstdCompressStream, zstdDecompressInto, zstdLibrary, type ZstdLibrary } from '../src/binary/zstd.js';

const RUNS = Number(process.argv[2] ?? 5);
const CLUSTER = 65536;

/** Compressible but not trivial: text-like runs, a counter and pseudo-random bytes (as a root tree's mix). */
function sample(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 61 === 60 ? 10 : (i % 5 === 0 ? (x >>> 24) : 97 + ((i >> 7) % 26));
  }
  return out;
}

const data = sample(64 << 20);
const clusters = Array.from({ length: data.length / CLUSTER }, (_, i) => data.subarray(i * CLUSTER, (i + 1) * CLUSTER));

async function stream(): Promise<number> {
  const pieces = function* () {
    for (let i = 0; i < data.length; i += 1 << 20) yield data.subarray(i, i + (1 << 20));
  };
  return (await buffer(Readable.from(pieces()).pipe(zstdCompressStream({ level: 3, workers: 1 })))).length;
}

const shapes: Record<string, () => Promise<number> | number> = {
  'stream, level 3, 1 worker (ramdisk)': stream,
  'one-shot 64 KiB clusters, level 3 (qcow2 writer)': () => clusters.reduce((n, c) => n + zstdCompress(c, { checksum: false }).length, 0),
  'decompress 64 KiB clusters into a buffer (qcow2 reader)': () => {
    const dst = new Uint8Array(CLUSTER);
    return packed.reduce((n, c) => n + zstdDecompressInto(c, dst), 0);
  },
};

const libraries: ZstdLibrary[] = ['node:zlib', 'zstd-napi'];
for (const l of libraries) {
  if (zstdLibrary(l).name !== l) throw new Error(`${l} is not available on Node ${process.version}: this benchmark needs both`);
}
const packed = clusters.map((c) => zstdCompress(c, { checksum: false }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`64 MiB of input, median of ${RUNS}, Node ${process.version}\n`);
console.log('| shape | node:zlib MB/s | zstd-napi MB/s | node:zlib / zstd-napi |');
console.log('|---|---|---|---|');
for (const [name, run] of Object.entries(shapes)) {
  const times: Record<string, number[]> = { 'node:zlib': [], 'zstd-napi': [] };
  for (let r = 0; r < RUNS; r++) {
    for (const l of libraries) {
      zstdLibrary(l);
      const t0 = performance.now();
      await run();
      times[l]!.push((performance.now() - t0) / 1000);
    }
  }
  const mbs = (l: string) => data.length / 1e6 / median(times[l]!);
  console.log(`| ${name} | ${mbs('node:zlib').toFixed(0)} | ${mbs('zstd-napi').toFixed(0)} | ${(mbs('node:zlib') / mbs('zstd-napi')).toFixed(2)} |`);
}
