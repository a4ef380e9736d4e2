/**
 * Benchmark: the checksum kernels, native against their TypeScript twins, in GB/s over a
 * 64 MiB buffer and over 4 KiB blocks (what ext4 metadata checksums see). Decides which
 * implementation the formats use: CRC32 (GPT) via node:zlib, CRC32C (ext4) via @node-rs/crc32.
 * Usage: node --import tsx bench/crc.ts
 */
import { crc32, crc32Table } from '../src/binary/crc32.js';
import { crc32c, crc32cTable, loadNativeCrc32c } from '../src/binary/crc32c.js';

if (!loadNativeCrc32c()) throw new Error('@node-rs/crc32 does not load: run npm ci');
const big = new Uint8Array(64 << 20).map((_, i) => (i * 2654435761) >>> 24);

function rate(fn: (d: Uint8Array) => number, blockSize: number): number {
  const reps = 3;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < big.length; off += blockSize) fn(big.subarray(off, off + blockSize));
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return big.length / best / 1e9;
}

const rows: [string, (d: Uint8Array) => number][] = [
  ['CRC32 node:zlib (native)', (d) => crc32(d)],
  ['CRC32 table (TypeScript twin)', (d) => crc32Table(d)],
  ['CRC32C @node-rs/crc32 (native)', (d) => crc32c(d)],
  ['CRC32C slicing-by-8 (TypeScript twin)', (d) => crc32cTable(d)],
];
console.log('| kernel | GB/s, 64 MiB buffer | GB/s, 4 KiB blocks |');
console.log('|---|---|---|');
for (const [name, fn] of rows) {
  console.log(`| ${name} | ${rate(fn, big.length).toFixed(2)} | ${rate(fn, 4096).toFixed(2)} |`);
}
