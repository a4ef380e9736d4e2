/**
 * Read-ahead of host files on a helper thread (src/tree/read-ahead.ts), both our C addon's
 * (native/read-ahead.c) and its TypeScript twin's (a worker), and its use by the directory source: bytes served ahead equal the files' bytes whatever the read size; skipped
 * files and parts are passed over; anything the stream does not have (a file it could not
 * open, a file shorter than announced, a read out of order) comes back undefined so that the
 * caller reads it itself; and through dirTree the same reads give the same bytes, and the same
 * errors, with read-ahead and without.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../src/binary/block-device.js';
import { writeExt4 } from '../../src/fs/ext4/index.js';
import { dirTree } from '../../src/tree/dir-source.js';
import { type FileContent, readAhead } from '../../src/tree/model.js';
import { BATCH, nativeReadAhead, ReadAhead } from '../../src/tree/read-ahead.js';

/** xorshift32 bytes, so every file has distinct, repeatable content. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

// Around the batch size, small files that pack several to a batch, and big ones over several.
const SIZES = [1, 100, 4095, 4096, BATCH - 1, BATCH, BATCH + 1, 7, 3.5 * BATCH, ...Array.from({ length: 300 }, (_, i) => 1 + ((i * 7919) % 9000))];

let dir: string;
const files: { path: string; size: number; data: Uint8Array }[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-readahead-'));
  SIZES.forEach((size, i) => {
    const p = path.join(dir, `f${String(i).padStart(4, '0')}`);
    const data = bytes(size, i + 1);
    fs.writeFileSync(p, data);
    files.push({ path: p, size, data });
  });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Every test runs with each helper: the C one (native/read-ahead.c, built by npm ci) and its TypeScript twin.
const nativeWhy = nativeReadAhead() ? undefined : 'the native read-ahead is not built (npm ci builds it with node-gyp)';
for (const reader of ['native', 'typescript'] as const) {
  const skip = reader === 'native' ? nativeWhy : undefined;
  describe.skipIf(skip !== undefined)(`ReadAhead, ${reader} (${skip ?? 'built'})`, () => {
    it('serves every file whole, in order, in batch-sized reads', () => {
      const ra = new ReadAhead(files, { reader });
      try {
        files.forEach((f, i) => {
          for (let off = 0; off < f.size; off += BATCH) {
            const n = Math.min(BATCH, f.size - off);
            const got = ra.take(i, off, n);
            expect(got, `file ${i} at ${off}`).toBeDefined();
            expect(Buffer.from(got!).equals(f.data.subarray(off, off + n)), `file ${i} at ${off}`).toBe(true);
          }
        });
      } finally {
        ra.close();
      }
    });

    it('serves reads of other sizes by splitting and gathering pieces', () => {
      const ra = new ReadAhead(files, { reader });
      try {
        const step = 300_001;
        files.slice(0, 12).forEach((f, i) => {
          for (let off = 0; off < f.size; off += step) {
            const n = Math.min(step, f.size - off);
            const got = ra.take(i, off, n);
            expect(got, `file ${i} at ${off}`).toBeDefined();
            expect(Buffer.from(got!).equals(f.data.subarray(off, off + n))).toBe(true);
          }
        });
      } finally {
        ra.close();
      }
    });

    it('passes over skipped files and parts, and leaves earlier files to the caller', () => {
      const ra = new ReadAhead(files, { reader });
      try {
        expect(Buffer.from(ra.take(2, 0, 4095)!).equals(files[2]!.data)).toBe(true);
        // File 8 (3.5 batches): skip its first two batches.
        expect(Buffer.from(ra.take(8, 2 * BATCH, BATCH)!).equals(files[8]!.data.subarray(2 * BATCH, 3 * BATCH))).toBe(true);
        expect(ra.take(3, 0, 4096)).toBeUndefined(); // behind the stream now
        expect(Buffer.from(ra.take(200, 0, files[200]!.size)!).equals(files[200]!.data)).toBe(true);
        expect(ra.take(200, 0, 1)).toBeUndefined(); // a second read of the same bytes
      } finally {
        ra.close();
      }
    });

    it('has nothing for a file it cannot open or that is shorter than announced, and goes on after it', () => {
      const list = [
        { path: path.join(dir, 'missing'), size: 10 },
        files[1]!,
        { path: files[2]!.path, size: 3 * BATCH }, // really 4095 bytes
        files[3]!,
      ];
      const ra = new ReadAhead(list, { reader });
      try {
        expect(ra.take(0, 0, 10)).toBeUndefined();
        expect(Buffer.from(ra.take(1, 0, 100)!).equals(files[1]!.data)).toBe(true);
        expect(Buffer.from(ra.take(2, 0, 4095)!).equals(files[2]!.data)).toBe(true);
        expect(ra.take(2, 4095, 100)).toBeUndefined();
        expect(Buffer.from(ra.take(3, 0, 4096)!).equals(files[3]!.data)).toBe(true);
        expect(ra.take(3, 4096, 1)).toBeUndefined(); // past the end of the stream
      } finally {
        ra.close();
      }
    });

    it('has nothing once closed', () => {
      const ra = new ReadAhead(files, { reader });
      ra.close();
      expect(ra.take(0, 0, 1)).toBeUndefined();
    });
  });

  describe.skipIf(skip !== undefined)(`directory source with read-ahead, ${reader} (${skip ?? 'built'})`, () => {
    /** Reads every file of a fresh tree in `order`, in `chunk`-sized reads; returns them or the error text. */
    const readAll = (ahead: boolean, order: (c: FileContent[]) => FileContent[], chunk: number, before?: () => void): (string | Uint8Array)[] => {
      const tree = dirTree(dir, { readAheadMin: ahead ? 0 : Infinity, reader });
      try {
        const contents = tree.entries.filter((e) => e.type === 'file').map((e) => e.content!);
        before?.();
        readAhead(contents);
        return order(contents).map((c) => {
          try {
            const parts: Uint8Array[] = [];
            for (let off = 0; off < c.size; off += chunk) parts.push(Uint8Array.from(c.read(off, chunk)));
            return Buffer.concat(parts);
          } catch (e) {
            return (e as Error).message;
          }
        });
      } finally {
        tree.close();
      }
    };

    it('reads the same bytes as without, in order, backwards and with files skipped', () => {
      const orders: [string, (c: FileContent[]) => FileContent[]][] = [
        ['in order', (c) => c],
        ['backwards', (c) => [...c].reverse()],
        ['every third', (c) => c.filter((_, i) => i % 3 === 0)],
      ];
      for (const [name, order] of orders) {
        for (const chunk of [BATCH, 65_537]) {
          const plain = readAll(false, order, chunk);
          const ahead = readAll(true, order, chunk);
          expect(ahead.length, name).toBe(plain.length);
          ahead.forEach((a, i) => expect(Buffer.from(a as Uint8Array).equals(plain[i] as Uint8Array), `${name}, chunk ${chunk}, file ${i}`).toBe(true));
        }
      }
      expect(Buffer.from(readAll(true, (c) => c, BATCH)[8] as Uint8Array).equals(files[8]!.data)).toBe(true);
    });

    it('reports a file that shrank or went away after the walk as it does without read-ahead', () => {
      const victims = [files[5]!.path, files[20]!.path];
      const saved = victims.map((p) => fs.readFileSync(p));
      const damage = () => {
        fs.truncateSync(victims[0]!, 1000);
        fs.rmSync(victims[1]!);
      };
      try {
        const plain = readAll(false, (c) => c, BATCH, damage);
        victims.forEach((p, i) => fs.writeFileSync(p, saved[i]!));
        const ahead = readAll(true, (c) => c, BATCH, damage);
        expect(plain[5]).toMatch(/file shrank while the tree was being read \(size was 1048576, got EOF at 1000\)/);
        expect(plain[20]).toMatch(/ENOENT/);
        expect(ahead[5]).toBe(plain[5]);
        expect(ahead[20]).toBe(plain[20]);
        expect(Buffer.from(ahead[21] as Uint8Array).equals(files[21]!.data)).toBe(true);
      } finally {
        victims.forEach((p, i) => fs.writeFileSync(p, saved[i]!));
      }
    });

    it('gives the ext4 writer the same image as direct reads', () => {
      // The image records atimes, which a first listing or read moves (relatime): settle them first.
      const warm = dirTree(dir);
      for (const e of warm.entries) e.content?.read(0, 1);
      warm.close();
      const trees = [dirTree(dir, { readAheadMin: 0, reader }), dirTree(dir, { readAheadMin: Infinity })];
      const [ahead, direct] = trees.map((tree) => {
        const dev = new MemoryBlockDevice(64 << 20);
        try {
          writeExt4(dev, tree, { seed: 'read-ahead', timestamp: 1_700_000_000, journalSize: 4 << 20 });
        } finally {
          tree.close();
        }
        return dev.bytes;
      });
      expect(Buffer.from(ahead!).equals(direct!)).toBe(true);
    });
  });
}
