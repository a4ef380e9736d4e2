/**
 * The cpio newc writer against GNU cpio: `cpio -itv` lists our archive, `cpio -idm` extracts
 * it to a tree equal to the source (types, modes, owners, mtimes in seconds, device numbers,
 * hard links, symlinks, UTF-8 and newline names); our reader reads back what we wrote;
 * SOURCE_DATE_EPOCH gives identical bytes; what newc cannot hold is refused or warned about.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpioBytes, planCpio } from '../../src/archive/cpio-writer.js';
import { readCpio } from '../../src/archive/cpio-reader.js';
import { dirTree } from '../../src/tree/dir-source.js';
import { treeFromEntries } from '../../src/tree/entries.js';
import { bufferContent, type FileTree, type TreeEntry } from '../../src/tree/model.js';
import { compareTrees, everyTypeTreeUnavailable, formatDifferences, makeEveryTypeTree } from '../helpers/compare-tree.js';
import { hasTool } from '../helpers/tools.js';

const why = everyTypeTreeUnavailable() ?? (!hasTool('cpio') ? 'cpio is not installed (run scripts/setup-host.sh)' : undefined);

function entry(p: string, type: TreeEntry['type'], extra: Partial<TreeEntry> = {}): TreeEntry {
  const t = { sec: 1_600_000_000, nsec: 0 };
  return { path: p, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, atime: t, mtime: t, ctime: t, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map(), ...extra };
}

describe.skipIf(why !== undefined)(`cpio writer against GNU cpio (${why ?? 'root'})`, () => {
  let work: string;
  let src: string;
  let tree: FileTree;
  let archive: Uint8Array;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-cpio-'));
    src = path.join(work, 'src');
    fs.mkdirSync(src);
    makeEveryTypeTree(src, { manyEntries: 30 });
    fs.writeFileSync(path.join(src, 'etc/new\nline'), 'newline in the name\n');
    fs.utimesSync(path.join(src, 'etc/new\nline'), 1_500_000_000, 1_500_000_000);
    fs.utimesSync(path.join(src, 'etc'), 1_500_000_000, 1_500_000_000);
    tree = dirTree(src);
    archive = cpioBytes(planCpio(tree));
    fs.writeFileSync(path.join(work, 'a.cpio'), archive);
  });
  afterAll(() => {
    tree?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('cpio -itv lists every entry with its name, in tree order', () => {
    const r = spawnSync('cpio', ['-it', '--quiet'], { input: archive, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const expected = tree.entries.map((e) => (e.path === '/' ? '.' : e.path.slice(1)));
    expect(r.stdout).toBe(expected.map((n) => `${n}\n`).join(''));
    const v = spawnSync('cpio', ['-itv', '--quiet', '--numeric-uid-gid'], { input: archive, encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^crw--w----\s+1 0\s+0\s+4,\s+1 .* dev\/tty1$/m);
    expect(v.stdout).toMatch(/^brw-------\s+1 0\s+0\s+259,\s+1048575 .* dev\/big-numbers$/m);
    expect(v.stdout).toMatch(/^-rwsr-xr-x .* bin\/setuid$/m);
    expect(v.stdout).toMatch(/^-rw-r-----\s+1 123456\s+654321 .* odd-owner$/m);
  });

  it('cpio -idm extracts a tree equal to the source (xattrs aside: newc has none)', () => {
    // GNU cpio sets no symlink times and sets a directory's before its children are made
    // (the kernel defers directory times to the end): those times are checked with our reader.
    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const r = spawnSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames'], { input: archive, cwd: out, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const diffs = compareTrees(tree, out, { ignore: ['xattrs'], mtimeGranularityNs: 1e9 })
      .filter((d) => !(d.field === 'mtime' && ['dir', 'symlink'].includes(tree.get(d.path)!.type)));
    expect(formatDifferences(diffs)).toBe('');
    const stored = new Map(readCpio(archive)[0]!.entries.map((e) => [e.name, e.header.c_mtime]));
    for (const e of tree.entries) expect([e.path, stored.get(e.path === '/' ? '.' : e.path.slice(1))]).toEqual([e.path, e.mtime.sec]);
  });

  it('our reader reads back what we wrote; hard links carry their data once, with the last link', () => {
    const [a, ...more] = readCpio(archive);
    expect(more).toHaveLength(0);
    expect(a!.entries.map((e) => e.name)).toEqual(tree.entries.map((e) => (e.path === '/' ? '.' : e.path.slice(1))));
    const links = a!.entries.filter((e) => ['links/one', 'links/two', 'etc/three'].includes(e.name));
    expect(new Set(links.map((e) => e.header.c_ino)).size).toBe(1);
    expect(links.map((e) => e.header.c_nlink)).toEqual([3, 3, 3]);
    expect(links.map((e) => e.data.length)).toEqual([0, 0, 15]); // tree order: etc/three, links/one, links/two
    const dev = a!.entries.find((e) => e.name === 'dev/big-numbers')!;
    expect([dev.type, dev.header.c_rdevmajor, dev.header.c_rdevminor]).toEqual(['blockdev', 259, 1048575]);
    const inodes = a!.entries.filter((e) => !links.includes(e)).map((e) => e.header.c_ino);
    expect(new Set(inodes).size).toBe(inodes.length);
  });

  it('warns once per kind for the extended attributes newc drops', () => {
    const w = planCpio(tree).warnings;
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^extended attributes dropped .*: \d+ entries \(/);
  });

  it('same tree and SOURCE_DATE_EPOCH: identical bytes, later times clamped', () => {
    const again = dirTree(src);
    try {
      const one = cpioBytes(planCpio(tree, { sourceDateEpoch: 1_550_000_000 }));
      const two = cpioBytes(planCpio(again, { sourceDateEpoch: 1_550_000_000 }));
      expect(Buffer.compare(one, two)).toBe(0);
      const times = readCpio(one)[0]!.entries.map((e) => [e.name, e.header.c_mtime] as const);
      expect(times.find(([n]) => n === 'etc/new\nline')![1]).toBe(1_500_000_000);
      expect(Math.max(...times.map(([, t]) => t))).toBe(1_550_000_000);
    } finally {
      again.close();
    }
  });
});

describe('cpio writer limits', () => {
  it('refuses a file over 4 GiB - 1, naming it', () => {
    const big = entry('/big', 'file', { size: 2 ** 32, content: { size: 2 ** 32, read: () => new Uint8Array(0) } });
    expect(() => planCpio(treeFromEntries([entry('/', 'dir'), big]))).toThrow(/\/big is 4294967296 bytes: a cpio newc archive holds files up to 4 GiB - 1/);
  });

  it('clamps times before 1970 and after 2106 with a warning that names them', () => {
    const early = entry('/early', 'file', { mtime: { sec: -5, nsec: 0 } });
    const late = entry('/late', 'file', { mtime: { sec: 2 ** 33, nsec: 0 } });
    const plan = planCpio(treeFromEntries([entry('/', 'dir'), early, late]));
    expect(plan.warnings).toEqual([
      'times before 1970 written as 1970-01-01 (newc times are unsigned): 1 entry (/early)',
      'times after 2106-02-07 written as 2106-02-07 (newc times are 32-bit): 1 entry (/late)',
    ]);
    expect(readCpio(cpioBytes(plan))[0]!.entries.map((e) => e.header.c_mtime)).toEqual([1_600_000_000, 0, 0xffffffff]);
  });

  it('counts name sizes in UTF-8 bytes and pads names and data to 4 bytes', () => {
    const data = new TextEncoder().encode('abcde');
    const f = entry('/名前', 'file', { size: 5, content: bufferContent(data) });
    const bytes = cpioBytes(planCpio(treeFromEntries([entry('/', 'dir'), f])));
    const [a] = readCpio(bytes);
    const e = a!.entries[1]!;
    expect(e.header.c_namesize).toBe(7); // 6 bytes of UTF-8 and the NUL
    expect(e.offset % 4).toBe(0);
    expect((e.data.byteOffset - bytes.byteOffset) % 4).toBe(0);
    expect(new TextDecoder().decode(e.data)).toBe('abcde');
    expect(bytes.length % 4).toBe(0);
  });

  it('reads concatenated archives (early microcode first), skipping NUL padding between them', () => {
    const first = cpioBytes(planCpio(treeFromEntries([entry('/', 'dir'), entry('/kernel', 'dir')])));
    const second = cpioBytes(planCpio(treeFromEntries([entry('/', 'dir'), entry('/init', 'file')])));
    const both = Buffer.concat([first, new Uint8Array(508), second]);
    expect(readCpio(both).map((a) => a.entries.map((e) => e.name))).toEqual([['.', 'kernel'], ['.', 'init']]);
    expect(() => readCpio(both.subarray(0, both.length - 4))).toThrow(/cpio/);
  });
});
