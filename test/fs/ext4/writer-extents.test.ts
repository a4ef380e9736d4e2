/**
 * Extent trees, holes, shared xattr blocks and the htree hash, checked by e2fsprogs and the
 * kernel: a file with 2,000 separate data blocks (depth-2 tree), one with 6 (depth 1), one of
 * only zeros (no blocks at all); two files with the same block-sized xattrs share one xattr
 * block with h_refcount 2; our half-MD4 equals `debugfs dx_hash`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../../src/binary/file-device.js';
import { uuidToBytes } from '../../../src/binary/guid.js';
import { writeExt4 } from '../../../src/fs/ext4/index.js';
import { halfMd4Hash, seedWords } from '../../../src/fs/ext4/hash.js';
import { openExt4 } from '../../../src/fs/ext4/reader.js';
import { treeFromEntries } from '../../../src/tree/entries.js';
import { type FileTree, type TreeEntry, bufferContent } from '../../../src/tree/model.js';
import { compareTrees, formatDifferences, hasTool } from '../../helpers/compare-tree.js';
import { mountUnavailable, withMountedImage } from '../../helpers/mount.js';

const T = { sec: 1_600_000_000, nsec: 5 };
function entry(p: string, type: TreeEntry['type'], extra: Partial<TreeEntry> = {}): TreeEntry {
  return { path: p, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, atime: T, mtime: T, ctime: T, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map(), ...extra };
}
/** `n` data blocks, each followed by a hole of one block. */
function holey(n: number): Uint8Array {
  const b = new Uint8Array(n * 2 * 4096);
  for (let i = 0; i < n; i++) b.fill((i % 250) + 1, i * 8192, i * 8192 + 4096);
  return b;
}
function file(p: string, data: Uint8Array, xattrs = new Map<string, Uint8Array>()): TreeEntry {
  return entry(p, 'file', { size: data.length, content: bufferContent(data), xattrs });
}
const bigXattrs = () => new Map([['user.a', new Uint8Array(1500).fill(1)], ['user.b', new Uint8Array(1500).fill(2)]]);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ext4-extents-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const HASH_SEED = '1a2b3c4d-1111-2222-3333-444455556666';

describe.skipIf(!hasTool('debugfs'))('half-MD4 directory hash', () => {
  it('equals debugfs dx_hash for ASCII, long and non-ASCII names', () => {
    const seed = seedWords(uuidToBytes(HASH_SEED));
    for (const name of ['a', 'hello.txt', 'x'.repeat(40), 'entry-000123-nnnn', 'n'.repeat(200), 'ünï']) {
      const out = execFileSync('debugfs', ['-R', `dx_hash -h half_md4 -s ${HASH_SEED} ${name}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const m = /is 0x([0-9a-f]+)/.exec(out);
      expect(halfMd4Hash(Buffer.from(name), seed), name).toBe(parseInt(m![1]!, 16));
    }
  });
});

const why = mountUnavailable() ?? (hasTool('e2fsck') && hasTool('debugfs') ? undefined : 'e2fsprogs missing');

describe.skipIf(why !== undefined)(`extent trees, holes and shared xattr blocks (${why ?? 'root'})`, () => {
  let tree: FileTree;
  const image = path.join(tmp, 'x.img');
  const debugfs = (cmd: string) => execFileSync('debugfs', ['-R', cmd, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  beforeAll(() => {
    tree = treeFromEntries([
      entry('/', 'dir'),
      file('/depth2', holey(2000)),
      file('/depth1', holey(6)),
      file('/four', holey(4)),
      file('/zeros', new Uint8Array(3 * 4096 + 7)),
      file('/x1', Buffer.from('one'), bigXattrs()),
      file('/x2', Buffer.from('two'), bigXattrs()),
      file('/x3', Buffer.from('three'), new Map([['user.small', Buffer.from('fits in the inode')]])),
    ]);
    const dev = FileBlockDevice.create(image, 64 << 20);
    writeExt4(dev, tree, { seed: 'extents', timestamp: 1_700_000_000, journalSize: 0, hashSeed: HASH_SEED });
    dev.close();
  });

  it('passes e2fsck -fn', () => {
    const r = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('builds trees of depth 0, 1 and 2 and leaves zero blocks as holes', () => {
    const depth = (p: string) => {
      const lines = debugfs(`dump_extents ${p}`).split('\n').filter((l) => /^\s*\d+\/\s*\d+/.test(l));
      return Math.max(...lines.map((l) => Number(/^\s*\d+\/\s*(\d+)/.exec(l)![1])));
    };
    expect(depth('/four')).toBe(0);
    expect(depth('/depth1')).toBe(1);
    expect(depth('/depth2')).toBe(2);
    expect(debugfs('stat /zeros')).toMatch(/Blockcount: 0\b/);
    expect(debugfs('stat /zeros')).toMatch(/Size: 12295\b/);
    // 2000 data blocks + 6 leaves + 1 index block, in 512-byte units
    expect(debugfs('stat /depth2')).toMatch(new RegExp(`Blockcount: ${(2000 + 6 + 1) * 8}\\b`));
  });

  it('shares one xattr block between identical attribute sets (refcount 2) and keeps small ones in the inode', () => {
    const acl = (p: string) => Number(/File ACL: (\d+)/.exec(debugfs(`stat ${p}`))![1]);
    expect(acl('/x1')).toBeGreaterThan(0);
    expect(acl('/x1')).toBe(acl('/x2'));
    expect(acl('/x3')).toBe(0);
    const raw = fs.readFileSync(image).subarray(acl('/x1') * 4096, acl('/x1') * 4096 + 8);
    expect(raw.readUInt32LE(0)).toBe(0xea020000);
    expect(raw.readUInt32LE(4)).toBe(2);
  });

  it('mounts and compares equal', async () => {
    const diffs = await withMountedImage(image, { fstype: 'ext4' }, (mnt) => compareTrees(tree, mnt, { allowExtra: ['/lost+found'] }));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
  });
});

describe.skipIf(!hasTool('e2fsck'))('contents that say where their data is (dataRanges)', () => {
  it('are read only there, and the file reads back whole, holes as zeros', () => {
    const size = 64 << 20;
    const ranges: [number, number][] = [[100, 10], [200, 5000], [3 * 4096, 1], [40 * 2 ** 20 + 7, 3], [size - 2, 2]];
    const want = new Uint8Array(size);
    ranges.forEach(([off, len], k) => want.fill(k + 1, off, off + len));
    const asked: [number, number][] = [];
    const content = {
      size,
      dataRanges: () => ranges,
      read(offset: number, length: number): Uint8Array {
        asked.push([offset, length]);
        return want.slice(offset, offset + length);
      },
    };
    const tree = treeFromEntries([entry('/', 'dir'), entry('/sparse', 'file', { size, content })]);
    const image = path.join(tmp, 'ranges.img');
    const dev = FileBlockDevice.create(image, 96 << 20);
    try {
      writeExt4(dev, tree, { seed: 'ranges', timestamp: 1_700_000_000, journalSize: 4 << 20 });
    } finally {
      dev.close();
    }
    // Whole blocks around each range; the first two ranges share block 0 and are read as one.
    expect(asked).toEqual([[0, 8192], [3 * 4096, 4096], [40 * 2 ** 20, 4096], [size - 4096, 4096]]);
    expect(asked.reduce((n, [, l]) => n + l, 0)).toBe(5 * 4096);
    const fsck = spawnSync('e2fsck', ['-fn', image], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    const back = openExt4(FileBlockDevice.open(image)).readFile('/sparse');
    expect(Buffer.from(back).equals(want)).toBe(true);
    expect(fs.statSync(image).blocks * 512).toBeLessThan(16 << 20);
  });
});
