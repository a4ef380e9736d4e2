/**
 * The directory source, both its C walk (native/walk.c) and its TypeScript twin, against the
 * reference tools: find -printf (type, mode, owner, size,
 * mtime, link count), stat (device numbers), getfattr -h (extended attributes, ACLs, without
 * following symlinks) and sha256sum (content), over the every-type tree.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { dirTree as walkTree, type DirTreeOptions } from '../../src/tree/dir-source.js';
import { nativeWalk } from '../../src/tree/native-walk.js';
import { comparePaths, type FileTree } from '../../src/tree/model.js';
import { everyTypeTreeUnavailable, makeEveryTypeTree } from '../helpers/compare-tree.js';

const why = everyTypeTreeUnavailable() ?? (!fs.existsSync('/usr/bin/getfattr') ? 'getfattr missing (attr)' : undefined);

// Every test runs with each walk: the C one (native/walk.c, built by npm ci) and its TypeScript twin.
const nativeWhy = nativeWalk() ? undefined : 'the native walk is not built (npm ci builds it with node-gyp)';
for (const walker of ['native', 'typescript'] as const) {
  const skip = why ?? (walker === 'native' ? nativeWhy : undefined);
  describe.skipIf(skip !== undefined)(`directory source, ${walker} walk (${skip ?? 'root'})`, () => {
    const dirTree = (root: string, opts: DirTreeOptions = {}) => walkTree(root, { walker, ...opts });
    let dir: string;
    let tree: FileTree;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-dirsrc-'));
      makeEveryTypeTree(dir, { manyEntries: 60 });
      tree = dirTree(dir);
    });
    afterAll(() => {
      tree?.close();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('lists what find lists, parents first and siblings bytewise', () => {
      const found = execFileSync('find', [dir, '-mindepth', '1', '-printf', '/%P\\0'], { encoding: 'utf8' })
        .split('\0').filter(Boolean);
      const paths = tree.entries.map((e) => e.path);
      expect(paths[0]).toBe('/');
      expect(new Set(paths.slice(1))).toEqual(new Set(found));
      expect(paths.length).toBe(found.length + 1);
      expect([...paths].sort(comparePaths)).toEqual(paths);
      for (const p of paths.slice(1)) expect(paths.indexOf(path.posix.dirname(p))).toBeLessThan(paths.indexOf(p));
    });

    it('has the type, mode, owner, size, mtime (ns) and target find reports', () => {
      const out = execFileSync('find', [dir, '-printf', '/%P\\t%y\\t%m\\t%U\\t%G\\t%s\\t%T@\\t%l\\0'], { encoding: 'utf8' });
      const typeMap: Record<string, string> = { f: 'file', d: 'dir', l: 'symlink', c: 'chardev', b: 'blockdev', p: 'fifo', s: 'socket' };
      let n = 0;
      for (const line of out.split('\0').filter(Boolean)) {
        const [p0, y, m, u, g, s, t, l] = line.split('\t') as [string, string, string, string, string, string, string, string];
        const p = p0 === '/' ? '/' : p0.replace(/\/$/, '');
        const e = tree.get(p)!;
        expect(e, p).toBeDefined();
        expect(e.type, p).toBe(typeMap[y]);
        expect(e.mode.toString(8), p).toBe(Number.parseInt(m, 8).toString(8));
        expect([e.uid, e.gid], p).toEqual([Number(u), Number(g)]);
        if (e.type === 'file' || e.type === 'symlink') expect(e.size, p).toBe(Number(s));
        const [sec, frac] = t.split('.') as [string, string];
        expect(`${e.mtime.sec}.${String(e.mtime.nsec).padStart(9, '0')}`, p).toBe(`${sec}.${frac.padEnd(9, '0').slice(0, 9)}`);
        if (e.type === 'symlink') expect(e.linkTarget, p).toBe(l);
        n++;
      }
      expect(n).toBe(tree.entries.length);
      expect(tree.get('/bin/setuid')!.mode).toBe(0o4755);
      expect(tree.get('/tmp')!.mode).toBe(0o1777);
      expect(tree.get('/odd-owner')!.uid).toBe(123456);
    });

    it('splits device numbers as stat does', () => {
      for (const p of ['/dev/tty1', '/dev/loop7', '/dev/big-numbers']) {
        const [maj, min] = execFileSync('stat', ['-c', '%Hr %Lr', path.join(dir, p)], { encoding: 'utf8' }).trim().split(' ');
        const e = tree.get(p)!;
        expect(`${e.rdevMajor}:${e.rdevMinor}`, p).toBe(`${maj}:${min}`);
      }
      expect(tree.get('/dev/big-numbers')!.rdevMajor).toBe(259);
      expect(tree.get('/dev/big-numbers')!.rdevMinor).toBe(1048575);
    });

    // Inline (the tree above is smaller than the helper's threshold) and on the helper thread
    // (xattr-thread.ts) from the first entry: both must agree with getfattr.
    it.each([['inline', Infinity], ['on the helper thread', 0]])('reads the extended attributes getfattr -h shows, symlinks not followed (%s)', (_, threadMin) => {
      const tree = dirTree(dir, { xattrThreadMin: threadMin });
      onTestFinished(() => tree.close());
      const out = execFileSync('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir], { encoding: 'utf8' });
      const expected = new Map<string, Map<string, string>>();
      let cur = '';
      for (const line of out.split('\n')) {
        if (line.startsWith('# file: ')) {
          cur = '/' + path.relative(dir, line.slice(8));
          if (cur === '/') cur = '/';
          expected.set(cur, new Map());
        } else if (line.includes('=')) {
          const i = line.indexOf('=');
          expected.get(cur)!.set(line.slice(0, i), line.slice(i + 3));
        } else if (line.trim() && !line.startsWith('#')) {
          expected.get(cur)!.set(line.trim(), '');
        }
      }
      let withXattrs = 0;
      for (const e of tree.entries) {
        const want = expected.get(e.path) ?? new Map<string, string>();
        const got = new Map([...e.xattrs].map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
        expect(got, e.path).toEqual(want);
        if (got.size) withXattrs++;
      }
      expect(withXattrs).toBeGreaterThanOrEqual(6);
      expect(tree.get('/long-link-120')!.xattrs.has('trusted.on-link')).toBe(true);
      expect(tree.get('/bin/cap')!.xattrs.has('security.capability')).toBe(true);
      expect(tree.get('/etc/binary')!.xattrs.has('system.posix_acl_access')).toBe(true);
      expect(tree.get('/shared')!.xattrs.has('system.posix_acl_default')).toBe(true);
    });

    it('groups hard links met inside the tree, and only those', () => {
      const k = tree.get('/links/one')!.hardlinkKey;
      expect(k).toBeDefined();
      expect(tree.get('/links/two')!.hardlinkKey).toBe(k);
      expect(tree.get('/etc/three')!.hardlinkKey).toBe(k);
      expect(tree.entries.filter((e) => e.hardlinkKey).length).toBe(3);
      const sub = dirTree(path.join(dir, 'links'));
      try {
        expect(sub.get('/one')!.hardlinkKey).toBe(sub.get('/two')!.hardlinkKey);
        const sub2 = dirTree(path.join(dir, 'etc'));
        // /etc/three's other links are outside /etc: within that tree it is an ordinary file.
        expect(sub2.get('/three')!.hardlinkKey).toBeUndefined();
        sub2.close();
      } finally {
        sub.close();
      }
    });

    it('reads content that sha256sum agrees with, holes as zeros, in any order', () => {
      const files = tree.entries.filter((e) => e.type === 'file');
      const sums = execFileSync('sha256sum', files.map((e) => path.join(dir, e.path)), { encoding: 'utf8' }).trim().split('\n');
      files.forEach((e, i) => {
        const h = createHash('sha256');
        // Read backwards in odd-sized chunks across all files at once to exercise the descriptor cache.
        const chunks: Uint8Array[] = [];
        for (let off = Math.floor((e.size - 1) / 9973) * 9973; off >= 0; off -= 9973) chunks.unshift(e.content!.read(off, 9973));
        for (const c of chunks) h.update(c);
        expect(h.digest('hex') + '  ' + path.join(dir, e.path), e.path).toBe(sums[i]);
      });
      const sparse = tree.get('/sparse')!.content!;
      expect(sparse.read((1 << 20) - 2, 6)).toEqual(Uint8Array.from([0, 0, ...Buffer.from('afte')]));
      expect(sparse.read(sparse.size - 10, 100).length).toBe(10);
    });

    it('keeps at most a few descriptors open and none after close', () => {
      const count = (): number => fs.readdirSync('/proc/self/fd').length;
      const before = count();
      const t = dirTree(dir);
      for (const e of t.entries) if (e.content && e.size) e.content.read(0, 1);
      expect(count() - before).toBeLessThanOrEqual(8);
      t.close();
      expect(count()).toBe(before);
      expect(() => t.get('/etc/small.txt')!.content!.read(0, 1)).toThrow(/closed/);
    });

    it('refuses a missing root or a file as root with an InputError', () => {
      expect(() => dirTree(path.join(dir, 'nope'))).toThrow(expect.objectContaining({ code: 'INPUT' }));
      expect(() => dirTree(path.join(dir, 'empty'))).toThrow(/expected a directory/);
    });

    it('honours exclude', () => {
      const t = dirTree(dir, { exclude: (p) => p === '/many' || p === '/dev' });
      expect(t.get('/many')).toBeUndefined();
      expect(t.entries.some((e) => e.path.startsWith('/many/') || e.path.startsWith('/dev'))).toBe(false);
      t.close();
    });

    it('stops at mount points unless oneFileSystem is false', () => {
      const m = path.join(dir, 'empty-dir');
      execFileSync('mount', ['-t', 'tmpfs', 'none', m]);
      try {
        fs.writeFileSync(path.join(m, 'on-tmpfs'), 'x');
        const t1 = dirTree(dir);
        const t2 = dirTree(dir, { oneFileSystem: false });
        try {
          expect(t1.get('/empty-dir')?.type).toBe('dir');
          expect(t1.get('/empty-dir/on-tmpfs')).toBeUndefined();
          expect(t2.get('/empty-dir/on-tmpfs')?.size).toBe(1);
        } finally {
          t1.close();
          t2.close();
        }
      } finally {
        execFileSync('umount', [m]);
      }
    });
  });
}

describe.skipIf((why ?? nativeWhy) !== undefined)(`the C walk's threads (${why ?? nativeWhy ?? 'root'})`, () => {
  it('gives the same answer on 1, 2 and 5 threads', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-walkthreads-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    makeEveryTypeTree(dir, { manyEntries: 300 });
    const walk = nativeWalk()!;
    walk(dir, true, true, 1); // a first listing moves the directories' atimes (relatime): settle them
    const [one, ...others] = [1, 2, 5].map((n) => walk(dir, true, true, n));
    expect(one!.stats.length / 16).toBeGreaterThan(300);
    for (const o of others) {
      expect(o.names.equals(one!.names)).toBe(true);
      expect(Buffer.from(o.stats.buffer).equals(Buffer.from(one!.stats.buffer))).toBe(true);
      expect(o.extra).toStrictEqual(one!.extra);
    }
    expect(one!.extra.some((x) => x?.xattrs)).toBe(true);
    expect(one!.extra.some((x) => x?.target)).toBe(true);
  });
});
