/**
 * ext4 writer sizing, determinism, growth and options: same seed => same bytes (sha256), a tree
 * that does not fit gives a NoSpaceError naming the size it needs, `resize2fs` grows a written
 * image by 1 GiB with `e2fsck -fn` clean before and after, mke2fs options parse or are refused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../../src/binary/block-device.js';
import { FileBlockDevice } from '../../../src/binary/file-device.js';
import { ConfigError, NoSpaceError } from '../../../src/errors.js';
import { ext4SizeFor, minimumSize, parseMkfsOptions, treeNeeds, writeExt4 } from '../../../src/fs/ext4/index.js';
import { treeFromEntries } from '../../../src/tree/entries.js';
import { type FileTree, type TreeEntry, bufferContent } from '../../../src/tree/model.js';
import { hasTool } from '../../helpers/compare-tree.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ext4-sizing-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const T = { sec: 1_650_000_000, nsec: 123_456_789 };
function entry(p: string, type: TreeEntry['type'], extra: Partial<TreeEntry> = {}): TreeEntry {
  return { path: p, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, atime: T, mtime: T, ctime: T, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map(), ...extra };
}
function file(p: string, data: Uint8Array): TreeEntry {
  return entry(p, 'file', { size: data.length, content: bufferContent(data) });
}

/** A generated tree: `files` files of `bytes` pseudo-random bytes each, spread over a few directories. */
function generatedTree(files: number, bytes: number): FileTree {
  const out: TreeEntry[] = [entry('/', 'dir')];
  for (let d = 0; d < 4; d++) out.push(entry(`/d${d}`, 'dir'));
  for (let i = 0; i < files; i++) {
    const data = new Uint8Array(bytes).map((_, k) => (i * 31 + k * 7 + (k >> 9)) & 0xff);
    out.push(file(`/d${i % 4}/f${String(i).padStart(5, '0')}`, data));
  }
  return treeFromEntries(out);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('determinism', () => {
  it('writes identical bytes for the same seed and timestamp, different ones for another seed', () => {
    const tree = generatedTree(300, 5000);
    const size = ext4SizeFor(tree, { journalSize: 4 << 20 });
    const run = (seed: string) => {
      const dev = new MemoryBlockDevice(size);
      writeExt4(dev, tree, { seed, timestamp: 1_700_000_000, journalSize: 4 << 20 });
      return sha(dev.bytes);
    };
    const a = run('s1');
    expect(run('s1')).toBe(a);
    expect(run('s2')).not.toBe(a);
  });
});

/** e2fsck -fn on what was written to `dev` (through a file): its exit status and output. */
function e2fsck(dev: MemoryBlockDevice, name: string): { status: number | null; out: string } {
  const img = path.join(tmp, name);
  fs.writeFileSync(img, dev.bytes);
  const r = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
  fs.rmSync(img);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const MiB = 2 ** 20;
const KiB64 = 65536;
const up64k = (n: number): number => Math.ceil(n / KiB64) * KiB64;

describe.skipIf(!hasTool('e2fsck'))('sizing', () => {
  it('follows DIB: du of the tree / 0.6 plus the journal, or du plus the extra size plus the journal, rounded up to 64 KiB', () => {
    const tree = generatedTree(100, 40_000);
    // What `du -a -c -x` reports for this tree on ext4 with 4 KiB blocks, worked out by hand:
    // 100 files of 40,000 bytes take 10 blocks each; the root and the 4 folders (25 short
    // names each) take one block each: 1,005 blocks.
    const du = (100 * 10 + 5) * 4096;
    const needs = treeNeeds(tree);
    expect(needs.inodes).toBe(105);
    expect(needs.contentBytes).toBe(du);
    // DIB: size = du / 0.6, + the 64 MiB journal, rounded up to 64 KiB: 73,990,144 bytes.
    const dib = ext4SizeFor(tree, {});
    expect(dib).toBe(up64k(du / 0.6 + 64 * MiB));
    expect(dib).toBe(73_990_144);
    // DIB_IMAGE_EXTRA_SIZE: du + the extra size instead of du / 0.6, the journal still added.
    expect(ext4SizeFor(tree, { extraSize: 100 * MiB })).toBe(up64k(du + 100 * MiB + 64 * MiB));
    expect(ext4SizeFor(tree, { extraSize: 100 * MiB, journalSize: 0 })).toBe(up64k(du + 100 * MiB));
    expect(ext4SizeFor(tree, { extraSize: 100 * MiB, journalSize: 0 })).toBe(108_986_368);
    // DIB_IMAGE_SIZE wins as given.
    expect(ext4SizeFor(tree, { size: 123 * MiB })).toBe(123 * MiB);
    // Never below what the tree needs: with no extra and no journal, the minimum (rounded).
    const bare = ext4SizeFor(tree, { extraSize: 0, journalSize: 0 });
    expect(bare).toBe(Math.max(up64k(du), up64k(minimumSize(needs, { journalSize: 0 }))));
    // and each of these sizes holds the tree in a filesystem e2fsck finds clean
    for (const [size, opts] of [[dib, {}], [bare, { journalSize: 0 }]] as const) {
      const dev = new MemoryBlockDevice(size);
      writeExt4(dev, tree, { ...opts, seed: 'dib' });
      const r = e2fsck(dev, `dib-${size}.img`);
      expect(r.status, r.out).toBe(0);
    }
  });

  it('fits a tree into exactly its minimum size, and e2fsck finds it clean', () => {
    const tree = generatedTree(200, 40_000);
    const opts = { journalSize: 0, seed: 'min' };
    const min = minimumSize(treeNeeds(tree), opts);
    const dev = new MemoryBlockDevice(min);
    writeExt4(dev, tree, opts);
    const r = e2fsck(dev, 'min.img');
    expect(r.status, r.out).toBe(0);
    // 200 files, 4 folders, lost+found and the 10 reserved inodes (the root is inode 2)
    expect(r.out).toMatch(/ 215\/\d+ files /);
  });

  it('gives a NoSpaceError naming the size it needs when the tree does not fit, and that size fits', () => {
    const tree = generatedTree(400, 100_000); // ~40 MB
    let err: unknown;
    try {
      writeExt4(new MemoryBlockDevice(16 << 20), tree, { journalSize: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NoSpaceError);
    const ns = err as NoSpaceError;
    expect(ns.needed).toBeGreaterThan(400 * 100_000);
    expect(ns.message).toContain(String(ns.needed));
    const dev = new MemoryBlockDevice(ns.needed);
    writeExt4(dev, tree, { journalSize: 0 });
    const r = e2fsck(dev, 'needed.img');
    expect(r.status, r.out).toBe(0);
  });
});

describe('options', () => {
  it('parses the mke2fs options DIB passes', () => {
    expect(parseMkfsOptions(['-i 4096 -J size=64', '-m', '1', '-L', 'cloudimg-rootfs', '-U', '0b5b6a43-8d4f-4d55-9b51-5a0c9a1c7e21',
      '-E', 'hash_seed=1a2b3c4d-1111-2222-3333-444455556666,lazy_itable_init=1', '-N', '5000', '-I', '256'])).toEqual({
      inodeRatio: 4096, journalSize: 64 << 20, reservedPercent: 1, label: 'cloudimg-rootfs',
      uuid: '0b5b6a43-8d4f-4d55-9b51-5a0c9a1c7e21', hashSeed: '1a2b3c4d-1111-2222-3333-444455556666', inodeCount: 5000, inodeSize: 256,
    });
  });
  it('refuses what it cannot honour with a ConfigError naming the option', () => {
    expect(() => parseMkfsOptions(['-O', '^metadata_csum'])).toThrow(ConfigError);
    expect(() => parseMkfsOptions(['-I', '128'])).toThrow(/-I/);
    expect(() => parseMkfsOptions(['-E', 'stride=4'])).toThrow(/stride=4/);
    expect(() => parseMkfsOptions(['-i'])).toThrow(/-i/);
    expect(() => writeExt4(new MemoryBlockDevice(64 << 20), generatedTree(1, 1), { label: 'seventeen-bytes!!' })).toThrow(ConfigError);
  });
});

describe.skipIf(!hasTool('resize2fs') || !hasTool('e2fsck'))('growth', () => {
  it('resize2fs grows a written image by 1 GiB and e2fsck -fn stays clean', () => {
    const tree = generatedTree(500, 9000);
    const img = path.join(tmp, 'grow.img');
    const size = ext4SizeFor(tree, {});
    const dev = FileBlockDevice.create(img, size);
    writeExt4(dev, tree, { seed: 'grow', timestamp: 1_700_000_000 });
    dev.close();
    // Same reserved GDT blocks (room for online growth) as mke2fs gives a filesystem of this size.
    const field = (file: string, name: string) =>
      /:\s+(\d+)/.exec(execFileSync('dumpe2fs', ['-h', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith(name)) ?? '')?.[1];
    const ref = path.join(tmp, 'grow-ref.img');
    fs.writeFileSync(ref, '');
    fs.truncateSync(ref, size);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-I', '256', '-T', 'default', ref]);
    expect(field(img, 'Reserved GDT blocks')).toMatch(/^[1-9]\d*$/);
    expect(field(img, 'Reserved GDT blocks')).toBe(field(ref, 'Reserved GDT blocks'));
    expect(field(img, 'Block count')).toBe(field(ref, 'Block count'));
    fs.rmSync(ref);
    const before = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    expect(before.status, before.stdout).toBe(0);
    fs.truncateSync(img, size + 2 ** 30);
    execFileSync('resize2fs', [img], { stdio: ['ignore', 'pipe', 'pipe'] });
    const after = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    expect(after.status, after.stdout).toBe(0);
    const out = execFileSync('dumpe2fs', ['-h', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(Number(/Block count:\s+(\d+)/.exec(out)?.[1]) * 4096).toBe(Math.floor((size + 2 ** 30) / 4096) * 4096);
  });
});

describe.skipIf(process.getuid?.() !== 0 || !hasTool('losetup') || !hasTool('e2fsck'))('journal and read-write use', () => {
  it('mounts read-write, takes writes through the journal, and stays clean for e2fsck -fn', () => {
    const tree = generatedTree(50, 3000);
    const img = path.join(tmp, 'rw.img');
    const dev = FileBlockDevice.create(img, 256 << 20);
    writeExt4(dev, tree, { seed: 'rw', timestamp: 1_700_000_000 });
    dev.close();
    const loop = execFileSync('losetup', ['--show', '-f', img], { encoding: 'utf8' }).trim();
    const mnt = fs.mkdtempSync(path.join(tmp, 'mnt-'));
    try {
      execFileSync('mount', ['-t', 'ext4', '-o', 'data=journal', loop, mnt]);
      try {
        fs.writeFileSync(path.join(mnt, 'd0', 'new-file'), Buffer.alloc(200_000, 7));
        fs.mkdirSync(path.join(mnt, 'new-dir'));
        for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(mnt, 'new-dir', `n${i}`), String(i));
        fs.rmSync(path.join(mnt, 'd1', 'f00001'));
        expect(fs.readFileSync(path.join(mnt, 'd2', 'f00002')).length).toBe(3000);
      } finally {
        execFileSync('umount', [mnt]);
      }
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
    const r = spawnSync('e2fsck', ['-fn', img], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // 11 reserved inodes (root and lost+found among them) + 4 dirs + 50 files, then +2 +300 -1.
    expect(r.stdout).toMatch(/: 366\/\d+ files/);
  });
});

describe.skipIf(!hasTool('mke2fs') || !hasTool('debugfs'))('journal superblock', () => {
  it('is byte-equal to the one mke2fs writes for the same UUID and size (and the same journal size)', () => {
    const uuid = '0b5b6a43-8d4f-4d55-9b51-5a0c9a1c7e21';
    const size = 256 << 20;
    const ours = path.join(tmp, 'j-ours.img');
    const ref = path.join(tmp, 'j-ref.img');
    const dev = FileBlockDevice.create(ours, size);
    writeExt4(dev, generatedTree(3, 100), { uuid, timestamp: 1_700_000_000 });
    dev.close();
    fs.writeFileSync(ref, '');
    fs.truncateSync(ref, size);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-I', '256', '-T', 'default', '-U', uuid, ref]);
    const jsb = (img: string) => {
      const blk = Number(execFileSync('debugfs', ['-R', 'bmap <8> 0', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const fd = fs.openSync(img, 'r');
      const b = Buffer.alloc(1024);
      fs.readSync(fd, b, 0, 1024, blk * 4096);
      fs.closeSync(fd);
      return b.toString('hex');
    };
    expect(jsb(ours)).toBe(jsb(ref));
  });
});
