// qcow2 writer and reader, checked by qemu-img: check (clean), compare (identical to the raw
// image), info --output=json (format, compat, compression type); our reader against
// `qemu-img convert -O raw` of images qemu-img made (fixtures/qcow2, see make.sh there).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { MemoryBlockDevice } from '../../src/binary/block-device.js';
import { compressorPool, type ClusterCompressor } from '../../src/container/compress.js';
import { Qcow2Reader } from '../../src/container/qcow2/reader.js';
import { writeQcow2, type Qcow2Options } from '../../src/container/qcow2/writer.js';
import { hasTool, mustRun } from '../helpers/tools.js';
import { expectCleanAndIdentical, patternImage, qemuCheck, qemuCompare, qemuInfo, toFile } from './images.js';

const noQemu = !hasTool('qemu-img');
const REASON = 'needs qemu-img (apt-get install qemu-utils)';
let dir: string;
const pools: Record<string, ClusterCompressor> = {};
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qcow2-'));
  pools.deflate = compressorPool('deflate', 2);
  pools.zstd = compressorPool('zstd', 2);
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await Promise.all(Object.values(pools).map((p) => p.close()));
});

function readAll(file: string): Uint8Array {
  const dev = FileBlockDevice.open(file);
  try {
    const q = Qcow2Reader.open(dev);
    return q.readAt(0, q.size);
  } finally {
    dev.close();
  }
}

const CASES: { name: string; o: Qcow2Options; compat: string; compression?: string }[] = [
  { name: 'v3 uncompressed', o: {}, compat: '1.1' },
  { name: 'v2 (compat=0.10) uncompressed', o: { compat: '0.10' }, compat: '0.10' },
  { name: 'v3 deflate', o: { compression: 'deflate' }, compat: '1.1', compression: 'zlib' },
  { name: 'v2 deflate', o: { compat: '0.10', compression: 'deflate' }, compat: '0.10' },
  { name: 'v3 zstd', o: { compression: 'zstd' }, compat: '1.1', compression: 'zstd' },
  { name: 'v3 uncompressed, 4 KiB clusters', o: { clusterBits: 12 }, compat: '1.1' },
];

describe.skipIf(noQemu)(`qcow2 writer, checked by qemu-img (${REASON})`, () => {
  for (const c of CASES) {
    it(`${c.name}: check clean, compare identical, info right, our reader equal`, async () => {
      const raw = path.join(dir, `${c.name.replace(/\W+/g, '_')}.raw`);
      const file = raw.replace(/\.raw$/, '.qcow2');
      const size = 2 * 1024 * 1024 + 25 * 512; // not a multiple of the cluster size
      const src = patternImage(raw, size);
      const compressor = c.o.compression ? pools[c.o.compression] : undefined;
      await toFile(file, (sink) => writeQcow2(src, sink, { ...c.o, ...(compressor ? { compressor } : {}) }));
      expectCleanAndIdentical(raw, file, 'qcow2');
      const info = qemuInfo(file);
      expect(info.format).toBe('qcow2');
      expect(info['virtual-size']).toBe(size);
      expect(info['cluster-size']).toBe(2 ** (c.o.clusterBits ?? 16));
      expect(info['format-specific'].data.compat).toBe(c.compat);
      if (c.compression) expect(info['format-specific'].data['compression-type']).toBe(c.compression);
      expect(Buffer.from(readAll(file)).equals(Buffer.from(src.bytes))).toBe(true);
      if (c.o.compression) {
        // compressed clusters really are compressed: smaller than the uncompressed container
        const plain = file.replace(/\.qcow2$/, '.plain.qcow2');
        await toFile(plain, (sink) => writeQcow2(src, sink, { compat: c.o.compat ?? '1.1' }));
        expect(fs.statSync(file).size).toBeLessThan(fs.statSync(plain).size);
      }
    });
  }

  it('never stores a zero cluster: allocated clusters = clusters with data', async () => {
    const raw = path.join(dir, 'zeros.raw');
    const src = patternImage(raw, 2 * 1024 * 1024);
    const file = path.join(dir, 'zeros.qcow2');
    let stored = 0;
    await toFile(file, async (sink) => { const r = await writeQcow2(src, sink); stored = r.dataClusters; return r; });
    const expected = new Set<number>();
    for (let c = 0; c * 65536 < src.size; c++) if (src.bytes.subarray(c * 65536, (c + 1) * 65536).some((b) => b !== 0)) expected.add(c);
    expect(stored).toBe(expected.size);
    const map = JSON.parse(mustRun('qemu-img', ['map', '--output=json', '-f', 'qcow2', file])) as { start: number; length: number; data: boolean }[];
    const dataBytes = map.filter((m) => m.data).reduce((s, m) => s + m.length, 0);
    expect(dataBytes).toBe(expected.size * 65536);
  });

  it('a 1 TiB mostly empty disk: small file, check clean, compare identical', async () => {
    const size = 2 ** 40;
    const raw = path.join(dir, 'tib.raw');
    fs.writeFileSync(raw, '');
    fs.truncateSync(raw, size);
    const chunks: [number, Uint8Array][] = [[0, new Uint8Array(4096).fill(1)], [2 ** 39 + 65536 * 3 + 17, new Uint8Array(100000).fill(7)], [size - 512, new Uint8Array(512).fill(9)]];
    const fd = fs.openSync(raw, 'r+');
    for (const [at, d] of chunks) fs.writeSync(fd, d, 0, d.length, at);
    fs.closeSync(fd);
    const rawDev = FileBlockDevice.open(raw);
    const file = path.join(dir, 'tib.qcow2');
    try {
      await toFile(file, (sink) => writeQcow2({ size, readAt: (o, n) => rawDev.readAt(o, n), dataRanges: chunks.map(([a, d]) => [a, a + d.length] as const) }, sink));
    } finally {
      rawDev.close();
    }
    expect(fs.statSync(file).size).toBeLessThan(2 << 20);
    expect(qemuCheck(file, 'qcow2').status).toBe(0);
    expect(qemuCompare(raw, file, 'qcow2')).toBe('Images are identical.');
    const dev = FileBlockDevice.open(file);
    try {
      const q = Qcow2Reader.open(dev);
      expect(q.size).toBe(size);
      const [at, d] = chunks[1]!;
      expect(Buffer.from(q.readAt(at, d.length)).equals(Buffer.from(d))).toBe(true);
      expect(q.readAt(2 ** 39, 1000).every((b) => b === 0)).toBe(true);
    } finally {
      dev.close();
    }
  });

  it('writes the same bytes for the same input (deterministic)', async () => {
    const raw = path.join(dir, 'det.raw');
    const src = patternImage(raw, 1 << 20);
    const a = path.join(dir, 'det-a.qcow2');
    const b = path.join(dir, 'det-b.qcow2');
    await toFile(a, (s) => writeQcow2(src, s, { compression: 'deflate', compressor: pools.deflate! }));
    await toFile(b, (s) => writeQcow2(src, s, { compression: 'deflate', compressor: pools.deflate! }));
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  });

  it('an empty disk (size 0) and a disk with no data', async () => {
    for (const size of [0, 3 * 65536]) {
      const raw = path.join(dir, `empty${size}.raw`);
      fs.writeFileSync(raw, new Uint8Array(size));
      const file = path.join(dir, `empty${size}.qcow2`);
      await toFile(file, (s) => writeQcow2(new MemoryBlockDevice(size), s));
      expect(qemuCheck(file, 'qcow2').status).toBe(0);
      expect(qemuCompare(raw, file, 'qcow2')).toBe('Images are identical.');
    }
  });
});

const FIX = path.resolve(__dirname, '../../fixtures/qcow2');
const FIXTURES = fs.existsSync(FIX) ? fs.readdirSync(FIX).filter((n) => n.endsWith('.qcow2.gz')).map((n) => n.slice(0, -3)) : [];

/** Expands fixtures/qcow2/NAME.gz into the temp folder. */
function fixture(name: string): string {
  const out = path.join(dir, name);
  fs.writeFileSync(out, gunzipSync(fs.readFileSync(path.join(FIX, `${name}.gz`))));
  return out;
}

describe.skipIf(noQemu)(`qcow2 reader against qemu-img convert -O raw of images qemu-img made (${REASON})`, () => {
  it('there are fixtures of every kind', () => {
    expect(FIXTURES.sort()).toEqual(['v2-deflate.qcow2', 'v2.qcow2', 'v3-deflate.qcow2', 'v3-zero-clusters.qcow2', 'v3-zstd.qcow2', 'v3.qcow2']);
  });
  for (const name of FIXTURES) {
    it(`${name}: byte for byte`, () => {
      const file = fixture(name);
      const out = path.join(dir, `${name}.raw`);
      mustRun('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', file, out]);
      const info = qemuInfo(file);
      const dev = FileBlockDevice.open(file);
      try {
        const q = Qcow2Reader.open(dev);
        expect(q.size).toBe(info['virtual-size']);
        expect(q.info.compat).toBe(info['format-specific'].data.compat);
        expect(Buffer.from(q.readAt(0, q.size)).equals(fs.readFileSync(out))).toBe(true);
        // and unaligned reads across cluster boundaries
        expect(Buffer.from(q.readAt(65536 - 100, 70000)).equals(fs.readFileSync(out).subarray(65536 - 100, 65536 - 100 + 70000))).toBe(true);
      } finally {
        dev.close();
      }
    });
  }
});
