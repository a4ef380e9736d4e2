/**
 * The ext4 writer checked by the reference tools: a tree with every entry type (sparse and
 * > 4 GiB files, all modes, odd owners, ns times, short/long symlinks, devices, fifo, socket,
 * hard links, xattrs incl. security.capability and POSIX ACLs, a 20,000-entry directory) is
 * written 1 MiB into a bigger image; `e2fsck -fn` accepts it, the kernel mounts it read-only
 * and every attribute compares equal to the source, debugfs shows the htree index.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SliceBlockDevice } from '../../../src/binary/block-device.js';
import { FileBlockDevice } from '../../../src/binary/file-device.js';
import { ext4SizeFor, writeExt4 } from '../../../src/fs/ext4/index.js';
import { dirTree } from '../../../src/tree/dir-source.js';
import type { FileTree } from '../../../src/tree/model.js';
import { compareTrees, everyTypeTreeUnavailable, formatDifferences, hasTool, makeEveryTypeTree } from '../../helpers/compare-tree.js';
import { mountUnavailable, withMountedImage } from '../../helpers/mount.js';

const why = everyTypeTreeUnavailable() ?? mountUnavailable() ?? (hasTool('e2fsck') && hasTool('debugfs') ? undefined : 'e2fsprogs missing');
const OFFSET = 1 << 20;

export function e2fsck(target: string): { status: number | null; out: string } {
  const r = spawnSync('e2fsck', ['-fn', target], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe.skipIf(why !== undefined)(`ext4 writer, every entry type (${why ?? 'root'})`, () => {
  let work: string;
  let src: string;
  let image: string;
  let tree: FileTree;
  let fsSize: number;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'ext4-writer-'));
    src = path.join(work, 'src');
    fs.mkdirSync(src);
    makeEveryTypeTree(src, { manyEntries: 20_000, hugeSparse: true });
    tree = dirTree(src);
    fsSize = ext4SizeFor(tree, {});
    image = path.join(work, 'disk.img');
    const dev = FileBlockDevice.create(image, OFFSET + fsSize + OFFSET);
    try {
      const res = writeExt4(new SliceBlockDevice(dev, OFFSET, fsSize), tree, { seed: 'writer-test', timestamp: 1_700_000_000, label: 'every-type' });
      expect(res.size).toBeLessThanOrEqual(fsSize);
    } finally {
      dev.close();
    }
  }, 300_000);
  afterAll(() => {
    tree?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('passes e2fsck -fn', () => {
    const r = e2fsck(`${image}?offset=${OFFSET}`);
    expect(r.status, r.out).toBe(0);
  });

  it('mounts read-only and every path, type, mode, owner, size, mtime (ns), rdev, target, content, hard link and xattr compares equal', async () => {
    const diffs = await withMountedImage(image, { offset: OFFSET, size: fsSize, fstype: 'ext4' }, (mnt) =>
      compareTrees(tree, mnt, { allowExtra: ['/lost+found'] }));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
  }, 120_000);

  it('indexes the 20,000-entry directory with an htree (debugfs htree)', () => {
    const out = execFileSync('debugfs', ['-R', 'htree /many', `${image}?offset=${OFFSET}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
    expect(out).toMatch(/Hash Version: 1/);
    const count = /Number of entries \(count\): (\d+)/.exec(out);
    expect(Number(count?.[1])).toBeGreaterThan(50);
    const stat = execFileSync('debugfs', ['-R', 'stat /many', `${image}?offset=${OFFSET}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(stat).toMatch(/Flags: 0x81000/); // EXTENTS | INDEX
  });

  it('records the label, features and the > 4 GiB sparse file with holes', () => {
    const out = execFileSync('dumpe2fs', ['-h', `${image}?offset=${OFFSET}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(out).toMatch(/Filesystem volume name:\s+every-type/);
    expect(out).toMatch(/Filesystem features:\s+has_journal ext_attr resize_inode dir_index filetype extent 64bit flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum/);
    const stat = execFileSync('debugfs', ['-R', 'stat /huge-sparse', `${image}?offset=${OFFSET}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(stat).toMatch(/Size: 5368709120/);
    expect(stat).toMatch(/Blockcount: 16\b/); // two 4 KiB blocks: everything else is a hole
  });
});
