/**
 * The mount-and-compare harness itself: an every-type tree copied into ext4 by the reference
 * tool (mke2fs -d, placed 1 MiB into an image with -E offset=), mounted through a read-only
 * loop device at that offset, compares equal to its source; a changed source does not; and
 * the loop device is gone afterwards even when the callback throws.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirTree } from '../../src/tree/dir-source.js';
import { type FileTree, bufferContent } from '../../src/tree/model.js';
import { compareTrees, everyTypeTreeUnavailable, formatDifferences, makeEveryTypeTree } from '../helpers/compare-tree.js';
import { mountUnavailable, withMountedImage } from '../helpers/mount.js';
import { mustRun } from '../helpers/tools.js';

const why = everyTypeTreeUnavailable() ?? mountUnavailable();
const OFFSET = 1 << 20;
const FS_SIZE = 64 << 20;

function loopsFor(image: string): string {
  return mustRun('losetup', ['-j', image]).trim();
}

describe.skipIf(why !== undefined)(`mount-and-compare harness (${why ?? 'root'})`, () => {
  let work: string;
  let src: string;
  let image: string;
  let tree: FileTree;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-harness-'));
    src = path.join(work, 'src');
    fs.mkdirSync(src);
    makeEveryTypeTree(src, { manyEntries: 300 });
    image = path.join(work, 'disk.img');
    fs.writeFileSync(image, '');
    fs.truncateSync(image, OFFSET + FS_SIZE + OFFSET);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-I', '256', '-E', `offset=${OFFSET}`, '-d', src, image, `${FS_SIZE / 1024}k`],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    tree = dirTree(src);
  });
  afterAll(() => {
    tree?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('finds no difference between a tree and its mke2fs -d copy', async () => {
    const diffs = await withMountedImage(image, { offset: OFFSET, size: FS_SIZE, fstype: 'ext4' }, (mnt) =>
      // mke2fs -d (1.47) keeps whole seconds only, gives the root its own times, adds lost+found.
      compareTrees(tree, mnt, { allowExtra: ['/lost+found'], mtimeGranularityNs: 1e9 }).filter((d) => !(d.path === '/' && d.field === 'mtime')));
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    expect(loopsFor(image)).toBe('');
  });

  it('reports each kind of difference', async () => {
    const changed = new Map(tree.entries.map((e) => [e.path, { ...e }]));
    const edit = (p: string, f: (e: (typeof tree.entries)[number]) => void): void => f(changed.get(p)!);
    edit('/etc/small.txt', (e) => { e.content = bufferContent(Buffer.from('hello, trees\n')); });
    edit('/bin/setuid', (e) => { e.mode = 0o755; });
    edit('/odd-owner', (e) => { e.uid = 1; e.gid = 2; });
    edit('/sparse', (e) => { e.mtime = { ...e.mtime, sec: e.mtime.sec + 1 }; });
    edit('/dev/loop7', (e) => { e.rdevMinor = 8; });
    edit('/short-link', (e) => { e.linkTarget = 'etc/other'; });
    edit('/bin/cap', (e) => { e.xattrs = new Map(); });
    edit('/links/two', (e) => { e.hardlinkKey = undefined; });
    changed.delete('/lone');
    const entries = [...changed.values()];
    entries.push({ ...tree.get('/empty')!, path: '/not-in-image' });
    const other: FileTree = { entries, get: (p) => entries.find((e) => e.path === p), close() {} };
    const diffs = await withMountedImage(image, { offset: OFFSET, size: FS_SIZE }, (mnt) =>
      compareTrees(other, mnt, { allowExtra: ['/lost+found'], mtimeGranularityNs: 1e9 }).filter((d) => d.path !== '/'));
    const got = diffs.map((d) => `${d.path} ${d.field}`).sort();
    expect(got).toEqual([
      '/bin/cap xattrs', '/bin/setuid mode', '/dev/loop7 rdev', '/etc/small.txt content',
      '/etc/three hardlinks', '/links/one hardlinks', '/links/two hardlinks',
      '/lone presence', '/not-in-image presence', '/odd-owner gid', '/odd-owner uid',
      '/short-link linkTarget', '/sparse mtime',
    ].sort());
  });

  it('unmounts and detaches when the callback throws', async () => {
    let seen = '';
    await expect(withMountedImage(image, { offset: OFFSET, size: FS_SIZE }, (mnt) => {
      seen = mnt;
      expect(fs.existsSync(path.join(mnt, 'etc/small.txt'))).toBe(true);
      throw new Error('callback failed');
    })).rejects.toThrow('callback failed');
    expect(loopsFor(image)).toBe('');
    expect(fs.existsSync(seen)).toBe(false);
  });
});
