/**
 * Overlay: the result must equal what cp -a of the base plus the same additions made on disk
 * gives (read back with the directory source), share the base's content objects, leave the
 * base untouched, and stay cheap over a large base.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirTree } from '../../src/tree/dir-source.js';
import { treeFromEntries, syntheticDir } from '../../src/tree/entries.js';
import { type TreeEntry, bufferContent, comparePaths } from '../../src/tree/model.js';
import { overlayTree } from '../../src/tree/overlay.js';
import { compareFileTrees, everyTypeTreeUnavailable, formatDifferences, makeEveryTypeTree } from '../helpers/compare-tree.js';

const why = everyTypeTreeUnavailable();
const T = { sec: 1700000000, nsec: 5 };

function file(p: string, text: string, mode = 0o644): TreeEntry {
  const data = Buffer.from(text);
  return { path: p, type: 'file', mode, uid: 0, gid: 0, atime: T, mtime: T, ctime: T, size: data.length,
    rdevMajor: 0, rdevMinor: 0, xattrs: new Map(), content: bufferContent(data) };
}

describe.skipIf(why !== undefined)(`overlay (${why ?? 'root'})`, () => {
  let work: string;
  let src: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-overlay-'));
    src = path.join(work, 'src');
    fs.mkdirSync(src);
    makeEveryTypeTree(src, { manyEntries: 50 });
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  it('equals the same additions made to a cp -a copy', () => {
    const copy = path.join(work, 'copy');
    execFileSync('cp', ['-a', src, copy]);
    const adds = [
      file('/boot/grub/grub.cfg', 'set timeout=1\n'),
      file('/boot/grub/i386-pc/normal.mod', 'module'),
      file('/etc/small.txt', 'replaced\n', 0o600), // replaces a file
      file('/deep/a', 'a file where a directory was\n'), // replaces a subtree
      { ...syntheticDir('/many'), mode: 0o700, mtime: T }, // new metadata, children kept
    ];
    // The same on disk.
    fs.mkdirSync(path.join(copy, 'boot/grub/i386-pc'), { recursive: true });
    fs.rmSync(path.join(copy, 'deep/a'), { recursive: true });
    fs.rmSync(path.join(copy, 'etc/small.txt'));
    for (const a of adds) {
      const p = path.join(copy, a.path);
      if (a.type === 'file') fs.writeFileSync(p, Buffer.from(a.content!.read(0, a.size)), { mode: a.mode });
      fs.chmodSync(p, a.mode);
    }
    const base = dirTree(src);
    const baseBefore = base.entries.map((e) => e.path);
    const over = overlayTree(base, adds, { closeBase: false });
    const disk = dirTree(copy);
    try {
      // Times: the on-disk copy has "now" times wherever we wrote; compare them apart.
      const diffs = compareFileTrees(disk, over, { ignore: ['mtime'] });
      expect(diffs, formatDifferences(diffs)).toEqual([]);
      const paths = over.entries.map((e) => e.path);
      expect([...paths].sort(comparePaths)).toEqual(paths);
      expect(base.entries.map((e) => e.path)).toEqual(baseBefore);
      expect(over.get('/boot')!.mtime).toEqual(base.get('/')!.mtime); // nearest existing ancestor
      expect(over.get('/boot/grub')).toMatchObject({ mode: 0o755, uid: 0, gid: 0, type: 'dir' });
      expect(over.get('/many')!.mode).toBe(0o700);
      expect(over.get('/deep/a/b')).toBeUndefined();
      expect(over.get('/etc/binary')).toBe(base.get('/etc/binary')); // shared, not copied
      expect(over.get('/etc/small.txt')!.xattrs.size).toBe(0);
    } finally {
      over.close();
      disk.close();
      base.close();
    }
  });

  it('refuses a file as a parent and a malformed path', () => {
    const base = dirTree(src);
    try {
      expect(() => overlayTree(base, [file('/empty/x', '')])).toThrow(/'\/empty' is a file, not a directory/);
      expect(() => overlayTree(base, [file('/etc/../x', '')])).toThrow(/not a tree path/);
      expect(() => overlayTree(base, [file('etc/x', '')])).toThrow(expect.objectContaining({ code: 'INPUT' }));
    } finally {
      base.close();
    }
  });

  it('layers 5 additions over a large base (200,000 entries): every parent before its children, the replaced file replaced', () => {
    const entries: TreeEntry[] = [syntheticDir('/')];
    for (let d = 0; d < 200; d++) {
      entries.push(syntheticDir(`/d${String(d).padStart(3, '0')}`));
      for (let f = 0; f < 999; f++) entries.push(file(`/d${String(d).padStart(3, '0')}/f${String(f).padStart(3, '0')}`, ''));
    }
    const base = treeFromEntries(entries);
    const over = overlayTree(base, ['/boot/grub/grub.cfg', '/etc/fstab', '/d100/f500', '/d199/zzz', '/a/b/c'].map((p) => file(p, 'x')));
    // Four new files (one replaces /d100/f500) and five new parents (/a, /a/b, /boot, /boot/grub, /etc).
    expect(over.entries.length).toBe(entries.length + 4 + 5);
    expect(over.get('/a/b')!.type).toBe('dir');
    expect(over.get('/d100/f500')!.size).toBe(1);
    // Speed is measured in bench/, not asserted here; what a single pass must keep is the order.
    const seen = new Set<string>();
    for (const e of over.entries) {
      if (e.path !== '/') expect(seen.has(e.path.slice(0, e.path.lastIndexOf('/')) || '/'), e.path).toBe(true);
      seen.add(e.path);
    }
  });
});
