import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ZstdStreamCompressor, zstdCompress, zstdDecompress } from '../../src/binary/zstd.js';
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

function streamed(data: Uint8Array, workers: number, piece: number, level = 3): Uint8Array {
  const parts: Uint8Array[] = [];
  const c = new ZstdStreamCompressor((b) => parts.push(b), { level, workers });
  for (let i = 0; i < data.length; i += piece) c.write(data.subarray(i, i + piece));
  c.end();
  return Buffer.concat(parts);
}

describe('zstd', () => {
  const data = sample(3_000_000);

  it('one-shot round trip, empty and large', () => {
    expect(zstdDecompress(zstdCompress(new Uint8Array(0)))).toEqual(new Uint8Array(0));
    const z = zstdCompress(data, { level: 5 });
    expect(z.length).toBeLessThan(data.length / 2);
    expect(Buffer.compare(zstdDecompress(z), data)).toBe(0);
  });

  it('stream output is the same bytes whatever the piece size and worker count (>= 1)', () => {
    const a = streamed(data, 1, 65536);
    const b = streamed(data, 2, 1000_003);
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
    expect(() => zstdDecompress(new TextEncoder().encode('not zstd at all'))).toThrow(/zstd data at offset 0/);
  });

  it.skipIf(!hasTool('zstd'))('the zstd command accepts the stream output and decompresses it to the input (zstd not installed: run scripts/setup-host.sh)', () => {
    const z = streamed(data, 2, 100_000, 9);
    const t = spawnSync('zstd', ['-t', '-q'], { input: z });
    expect(t.status, t.stderr.toString()).toBe(0);
    const d = spawnSync('zstd', ['-d', '-c'], { input: z, maxBuffer: 1 << 26 });
    expect(Buffer.compare(d.stdout, data)).toBe(0);
    const cli = spawnSync('zstd', ['-3', '-c'], { input: data, maxBuffer: 1 << 26 });
    expect(Buffer.compare(zstdDecompress(cli.stdout), data)).toBe(0);
  });
});
