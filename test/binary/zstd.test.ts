import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { zstdCompress, zstdCompressStream, zstdDecompress, zstdDecompressInto, zstdLibrary, type ZstdLibrary } from '../../src/binary/zstd.js';
import { loadZstdNapi } from '../../src/binary/zstd-napi.js';
import { zlibZstd } from '../../src/binary/zstd-zlib.js';
import { hasTool } from '../helpers/tools.js';

/** Compressible but not trivial: text lines with a counter and some pseudo-random bytes. */
function sample(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 61 === 60 ? 10 : (i % 7 === 0 ? (x >>> 24) : 97 + ((i >> 6) % 26));
  }
  return out;
}

async function streamed(data: Uint8Array, workers: number, piece: number, level = 3): Promise<Uint8Array> {
  const pieces = function* () {
    for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece);
  };
  return buffer(Readable.from(pieces(), { objectMode: false }).pipe(zstdCompressStream({ level, workers })));
}

/** The libraries this Node can use: node:zlib from 22.15, zstd-napi where it is built (Node 20 always). */
const LIBRARIES: ZstdLibrary[] = [
  ...(zlibZstd() ? ['node:zlib' as const] : []),
  ...(loadZstdNapi() instanceof Error ? [] : ['zstd-napi' as const]),
];

it(`at least one zstd library loads on Node ${process.version} (${LIBRARIES.join(', ')})`, () => {
  expect(LIBRARIES.length).toBeGreaterThan(0);
  expect(zstdLibrary().name).toBe(LIBRARIES[0]);
});

describe.each(LIBRARIES)('zstd through %s', (library) => {
  const data = sample(3_000_000);
  beforeAll(() => {
    zstdLibrary(library);
  });
  afterAll(() => {
    zstdLibrary(LIBRARIES[0]);
  });

  it('the library asked for is the one in use', () => {
    expect(zstdLibrary().name).toBe(library);
  });

  it('one-shot round trip, empty and large', () => {
    expect(zstdDecompress(zstdCompress(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    const z = zstdCompress(data, { level: 5 });
    expect(z.length).toBeLessThan(data.length / 2);
    expect(Buffer.compare(zstdDecompress(z), data)).toBe(0);
  });

  it('stream output is the same bytes whatever the piece size and worker count (>= 1)', async () => {
    const a = await streamed(data, 1, 65536);
    const b = await streamed(data, 2, 1000_003);
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(zstdDecompress(a), data)).toBe(0);
  });

  it('concatenated frames decompress to the concatenation', () => {
    const two = Buffer.concat([zstdCompress(data.subarray(0, 1000)), zstdCompress(data.subarray(1000, 5000))]);
    expect(Buffer.compare(zstdDecompress(two), data.subarray(0, 5000))).toBe(0);
  });

  it('refuses levels outside 1..19, truncated and foreign data', () => {
    expect(() => zstdCompress(data, { level: 20 })).toThrow(/level 20/);
    expect(() => zstdCompress(data, { level: 0 })).toThrow(/level 0/);
    const z = zstdCompress(data);
    expect(() => zstdDecompress(z.subarray(0, z.length - 10))).toThrow(/ends inside a frame/);
    expect(() => zstdDecompress(new TextEncoder().encode('not zstd at all'))).toThrow(/zstd data at offset 0: not a zstd frame/);
    const damaged = Uint8Array.from(z);
    damaged[damaged.length - 2]! ^= 0xff; // inside the content checksum
    expect(() => zstdDecompress(damaged)).toThrow(/zstd data at offset 0: /);
  });

  it('decompresses one frame into a buffer, ignoring what follows it, refusing one too small', () => {
    const z = zstdCompress(data.subarray(0, 65536));
    const padded = Buffer.concat([z, Buffer.alloc(511, 0xaa)]);
    const dst = new Uint8Array(65536);
    expect(zstdDecompressInto(padded, dst)).toBe(65536);
    expect(Buffer.compare(dst, data.subarray(0, 65536))).toBe(0);
    expect(() => zstdDecompressInto(z, new Uint8Array(1000))).toThrow(/more than 1000 bytes/);
  });

  it.skipIf(!hasTool('zstd'))('the zstd command accepts the stream output and decompresses it to the input (zstd not installed: run scripts/setup-host.sh)', async () => {
    const z = await streamed(data, 2, 100_000, 9);
    const t = spawnSync('zstd', ['-t', '-q'], { input: z });
    expect(t.status, t.stderr.toString()).toBe(0);
    const d = spawnSync('zstd', ['-d', '-c'], { input: z, maxBuffer: 1 << 26 });
    expect(Buffer.compare(d.stdout, data)).toBe(0);
    const cli = spawnSync('zstd', ['-3', '-c'], { input: data, maxBuffer: 1 << 26 });
    expect(Buffer.compare(zstdDecompress(cli.stdout), data)).toBe(0);
  });
});
