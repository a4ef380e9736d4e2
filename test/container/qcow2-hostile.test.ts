// Hostile qcow2 images given to the reader: each damage ends in a DiskImageError with a
// stable code and a message naming what is wrong, never a hang or a huge allocation.
import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../src/binary/block-device.js';
import { compressorPool, type ClusterCompressor } from '../../src/container/compress.js';
import { Qcow2Reader } from '../../src/container/qcow2/reader.js';
import { compressedEntry, Qcow2HeaderV3 } from '../../src/container/qcow2/struct.js';
import { writeQcow2 } from '../../src/container/qcow2/writer.js';
import { DiskImageError } from '../../src/errors.js';

const CS = 65536;

async function image(compress?: ClusterCompressor): Promise<Uint8Array> {
  const size = 4 * CS;
  const data = new Uint8Array(size);
  data.fill(0x41, 0, CS);
  data.fill(0x42, 2 * CS, 3 * CS);
  let out = new Uint8Array(0);
  const sink = {
    writeAt(o: number, d: Uint8Array) {
      if (o + d.length > out.length) {
        const b = new Uint8Array(o + d.length);
        b.set(out);
        out = b;
      }
      out.set(d, o);
    },
  };
  const r = await writeQcow2({ size, readAt: (o, n) => data.slice(o, o + n) }, sink, compress ? { compression: 'deflate', compressor: compress } : {});
  return out.subarray(0, r.length);
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const header = (b: Uint8Array) => Qcow2HeaderV3.decode(b);
const l2Offset = (b: Uint8Array) => Number(view(b).getBigUint64(Number(header(b).l1_table_offset), false) & 0x00fffffffffffe00n);

function patchHeader(b: Uint8Array, patch: Partial<ReturnType<typeof header>>): Uint8Array {
  const c = b.slice();
  Qcow2HeaderV3.encode({ ...header(c), ...patch }, c);
  return c;
}

function failure(b: Uint8Array, readAll = true): DiskImageError {
  try {
    const q = Qcow2Reader.open(new MemoryBlockDevice(b));
    if (readAll) q.readAt(0, q.size);
  } catch (e) {
    if (e instanceof DiskImageError) return e;
    throw new Error(`not a DiskImageError: ${(e as Error).stack}`);
  }
  throw new Error('the hostile image was accepted');
}

let plain: Uint8Array;
let compressed: Uint8Array;
let pool: ClusterCompressor;
beforeAll(async () => {
  pool = compressorPool('deflate', 1);
  plain = await image();
  compressed = await image(pool);
});
afterAll(() => pool.close());

describe('qcow2 reader, hostile images', () => {
  it('reads the undamaged images', () => {
    for (const b of [plain, compressed]) {
      const q = Qcow2Reader.open(new MemoryBlockDevice(b));
      const all = q.readAt(0, q.size);
      expect(all[0]).toBe(0x41);
      expect(all[2 * CS + 5]).toBe(0x42);
      expect(all[CS + 5]).toBe(0);
    }
  });

  const cases: [string, () => Uint8Array, string, RegExp][] = [
    ['not qcow2 at all', () => new Uint8Array(4096).fill(0x20), 'FORMAT', /magic/],
    ['a file shorter than a header', () => plain.slice(0, 40), 'FORMAT', /at least 72 bytes/],
    ['version 4', () => patchHeader(plain, { version: 4 }), 'FORMAT', /version 2 or 3/],
    ['cluster_bits 40', () => patchHeader(plain, { cluster_bits: 40 }), 'FORMAT', /cluster_bits/],
    ['a backing file', () => patchHeader(plain, { backing_file_offset: 512n, backing_file_size: 8 }), 'UNSUPPORTED', /backing file/],
    ['encryption', () => patchHeader(plain, { crypt_method: 1 }), 'UNSUPPORTED', /encrypted/],
    ['an external data file', () => patchHeader(plain, { incompatible_features: 4n }), 'UNSUPPORTED', /external data file/],
    ['marked corrupt', () => patchHeader(plain, { incompatible_features: 2n }), 'UNSUPPORTED', /corrupt/],
    ['an unknown incompatible feature', () => patchHeader(plain, { incompatible_features: 1n << 40n }), 'UNSUPPORTED', /unknown incompatible/],
    ['the refcount table in the header', () => patchHeader(plain, { refcount_table_offset: 0n }), 'FORMAT', /refcount table apart from the header/],
    ['the refcount table past the end', () => patchHeader(plain, { refcount_table_offset: BigInt(plain.length) }), 'FORMAT', /refcount table inside the file/],
    ['the L1 table past the end', () => patchHeader(plain, { l1_table_offset: BigInt(plain.length + CS) }), 'FORMAT', /L1 table inside the file/],
    ['the L1 table on the refcount table', () => patchHeader(plain, { l1_table_offset: header(plain).refcount_table_offset }), 'FORMAT', /apart from the refcount table/],
    ['an L1 table too small for the size', () => patchHeader(plain, { size: 1n << 40n }), 'FORMAT', /L1 table of at least/],
    ['a size that overflows', () => patchHeader(plain, { size: 1n << 62n, l1_size: 0xffffffff }), 'FORMAT', /size below 2\^53/],
    ['a huge L1 table', () => patchHeader(plain, { size: 1n << 50n, l1_size: 1 << 25 }), 'FORMAT', /L1 table of at most/],
    ['a header length past the cluster', () => patchHeader(plain, { header_length: 1 << 20 }), 'FORMAT', /header_length/],
    ['a header extension longer than the header cluster', () => {
      const c = plain.slice();
      view(c).setUint32(112, 0x12345678, false);
      view(c).setUint32(116, 0x7fffffff, false);
      return c;
    }, 'FORMAT', /header extension/],
    ['an L1 entry past the end of the file', () => {
      const c = plain.slice();
      view(c).setBigUint64(Number(header(c).l1_table_offset), BigInt(c.length + 16 * CS), false);
      return c;
    }, 'FORMAT', /an L2 table inside the file/],
    ['an L1 entry that is not cluster-aligned', () => {
      const c = plain.slice();
      view(c).setBigUint64(Number(header(c).l1_table_offset), BigInt(l2Offset(c) + 512), false);
      return c;
    }, 'FORMAT', /cluster boundary/],
    ['an L1 entry pointing at the refcount table', () => {
      const c = plain.slice();
      view(c).setBigUint64(Number(header(c).l1_table_offset), BigInt(Number(header(c).refcount_table_offset)), false);
      return c;
    }, 'FORMAT', /apart from the refcount table/],
    ['an L2 entry past the end of the file', () => {
      const c = plain.slice();
      view(c).setBigUint64(l2Offset(c), BigInt(c.length + CS) | (1n << 63n), false);
      return c;
    }, 'FORMAT', /inside the file/],
    ['an L2 entry pointing into the L1 table (overlapping clusters)', () => {
      const c = plain.slice();
      view(c).setBigUint64(l2Offset(c) + 16, (1n << 63n) | BigInt(Number(header(c).l1_table_offset)), false);
      return c;
    }, 'FORMAT', /apart from the L1 table/],
    ['an L2 entry with reserved bits', () => {
      const c = plain.slice();
      view(c).setBigUint64(l2Offset(c), view(c).getBigUint64(l2Offset(c), false) | 0x100n, false);
      return c;
    }, 'FORMAT', /reserved bits/],
    ['compressed data that is not deflate', () => {
      const c = compressed.slice();
      const e = view(c).getBigUint64(l2Offset(c), false);
      const off = Number(e & ((1n << 54n) - 1n));
      c.fill(0xff, off, off + 64);
      return c;
    }, 'FORMAT', /decompressor/],
    ['compressed data that grows past a cluster (a bomb)', () => {
      const bomb = deflateRawSync(new Uint8Array(64 * CS), { windowBits: 12 });
      const c = new Uint8Array(compressed.length + CS);
      c.set(compressed);
      c.set(bomb, compressed.length);
      view(c).setBigUint64(l2Offset(c), compressedEntry(16, compressed.length, Math.min(bomb.length, CS - 512)), false);
      return c;
    }, 'FORMAT', /decompressor/],
    ['compressed data past the end of the file', () => {
      const c = compressed.slice();
      view(c).setBigUint64(l2Offset(c), compressedEntry(16, c.length + 1000, 100), false);
      return c;
    }, 'FORMAT', /inside the file/],
  ];
  for (const [name, make, code, msg] of cases) {
    it(`${name}: ${code}`, () => {
      const e = failure(make());
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
    });
  }
});
