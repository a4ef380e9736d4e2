/**
 * The ext4 reader against debugfs on the committed fixtures (fixtures/ext4-reader/make.sh):
 * every inode's number, type, mode, owner, size, link count, times (raw fields and the date
 * debugfs prints, which checks the post-2038 epoch bits), device numbers, symlink targets,
 * extended attributes and block runs as `debugfs -f` prints them; directory listings as
 * `ls -p` prints them; and all file content against `rdump`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../../src/binary/block-device.js';
import { openExt4, type Ext4Reader } from '../../../src/fs/ext4/reader.js';
import { dirTree } from '../../../src/tree/dir-source.js';

const FIX = path.join(path.dirname(new URL(import.meta.url).pathname), '../../../fixtures/ext4-reader');
const why = spawnSync('debugfs', ['-V']).error ? 'debugfs is not installed (e2fsprogs)' : undefined;

function debugfs(img: string, cmds: string[]): Map<string, string> {
  const file = img + '.cmds';
  fs.writeFileSync(file, cmds.join('\n') + '\n');
  const out = execFileSync('debugfs', ['-f', file, img], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  const res = new Map<string, string>();
  for (const part of out.split(/^debugfs: /m).slice(1)) {
    const nl = part.indexOf('\n');
    res.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return res;
}

const TYPE: Record<string, string> = { regular: 'file', directory: 'dir', symlink: 'symlink', 'character special': 'chardev', 'block special': 'blockdev', FIFO: 'fifo', socket: 'socket' };

for (const name of ['ext4', 'ext3', 'ext2']) {
  describe.skipIf(why !== undefined)(`ext4 reader vs debugfs: ${name} fixture`, () => {
    let work: string;
    let img: string;
    let r: Ext4Reader;
    beforeAll(() => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), `dit-ext4fx-${name}-`));
      img = path.join(work, `${name}.img`);
      const bytes = gunzipSync(fs.readFileSync(path.join(FIX, `${name}.img.gz`)));
      fs.writeFileSync(img, bytes);
      r = openExt4(new MemoryBlockDevice(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
    });
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    it('stat of every inode matches debugfs stat', () => {
      const tree = r.walk();
      const out = debugfs(img, tree.entries.map((e) => `stat "${e.path}"`));
      let checked = 0;
      for (const e of tree.entries) {
        const s = r.stat(e.path);
        const d = out.get(`stat "${e.path}"`)!;
        const m = /Inode: (\d+)\s+Type: (.+?)\s+Mode:\s+(\d+)/.exec(d)!;
        expect([s.ino, s.type, s.mode], e.path).toEqual([Number(m[1]), TYPE[m[2]!], Number.parseInt(m[3]!, 8)]);
        const u = /User:\s+(\d+)\s+Group:\s+(\d+)(?:\s+Project:\s+\d+)?\s+Size: (\d+)/.exec(d)!;
        expect([s.uid, s.gid], e.path).toEqual([Number(u[1]), Number(u[2])]);
        if (s.type === 'file' || s.type === 'symlink') expect(s.size, e.path).toBe(Number(u[3]));
        expect(s.nlink, e.path).toBe(Number(/Links: (\d+)/.exec(d)![1]));
        for (const f of ['atime', 'mtime', 'ctime'] as const) {
          const t = new RegExp(`^\\s*${f}: 0x([0-9a-f]+)(?::([0-9a-f]+))? -- (.*)$`, 'm').exec(d)!;
          const extra = t[2] ? Number.parseInt(t[2], 16) : 0;
          expect(s[f].sec, `${e.path} ${f}`).toBe(Date.parse(`${t[3]} UTC`) / 1000);
          expect(s[f].nsec, `${e.path} ${f}`).toBe(extra >>> 2);
        }
        const dev = /Device major\/minor number: (\d+):(\d+)/.exec(d);
        if (dev) expect([s.rdevMajor, s.rdevMinor], e.path).toEqual([Number(dev[1]), Number(dev[2])]);
        const fast = /Fast link dest: "(.*)"/.exec(d);
        if (fast) expect(s.linkTarget, e.path).toBe(fast[1]);
        const names = [...d.matchAll(/^ {2}(\S+) \((\d+)\)(?: = (.*))?$/gm)];
        expect([...s.xattrs.keys()].sort(), e.path).toEqual(names.map((x) => x[1]).sort());
        for (const [, n, len, val] of names) {
          if (n!.startsWith('system.posix_acl')) continue; // debugfs shows ext4's on-disk ACL form; we return Linux's
          const v = s.xattrs.get(n!)!;
          expect(v.length, `${e.path} ${n}`).toBe(Number(len));
          const text = Buffer.from(v).toString('latin1');
          const hex = [...v].map((b) => b.toString(16).padStart(2, '0')).join(' ') + ' ';
          expect([`"${text}"`, hex], `${e.path} ${n}`).toContain(val);
        }
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(320);
      const hello = r.stat('/etc/hello');
      if (name !== 'ext2') {
        expect(hello.mtime).toEqual({ sec: 1600000000, nsec: 0x75bcd154 >>> 2 });
        expect(r.stat('/empty').mtime.sec).toBe(1600000000 + 2 ** 32);
      }
      expect(hello).toMatchObject({ uid: 1234, gid: 5678, nlink: 2 });
    });

    it('block runs match debugfs BLOCKS / EXTENTS', () => {
      const paths = ['/etc/300k', '/sparse', '/slow-link', '/many', '/etc/hello'];
      const out = debugfs(img, paths.map((p) => `stat "${p}"`));
      for (const p of paths) {
        const d = out.get(`stat "${p}"`)!;
        const list = /(?:BLOCKS|EXTENTS):\n(.*)\n/.exec(d)![1]!;
        const want: string[] = [];
        for (const item of list.split(', ')) {
          const m = /^(?:\[\d+\])?\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?( \[uninit\])?$/.exec(item);
          if (!m) continue; // (IND), (DIND), (ETB0) metadata blocks
          const lo = Number(m[1]);
          const hi = Number(m[2] ?? m[1]);
          want.push(`${lo}+${hi - lo + 1}@${m[3]}`);
        }
        // Our runs merge physically contiguous blocks across an indirect block boundary only when debugfs does.
        const got = r.blockRuns(p).map((x) => `${x.logical}+${x.length}@${x.physical}`);
        expect(got, p).toEqual(want);
      }
    });

    it('readdir matches debugfs ls -p for every directory', () => {
      const dirs = r.walk().entries.filter((e) => e.type === 'dir').map((e) => e.path);
      const out = debugfs(img, dirs.map((p) => `ls -p "${p}"`));
      for (const p of dirs) {
        const want = out.get(`ls -p "${p}"`)!.split('\n').filter((l) => l.startsWith('/'))
          .map((l) => l.split('/')).filter((f) => f[1] !== '0' && f[5] !== '.' && f[5] !== '..').map((f) => `${f[5]}:${f[1]}`).sort();
        const got = r.readdir(p).map((e) => `${e.name}:${e.ino}`).sort();
        expect(got, p).toEqual(want);
      }
      expect(r.readdir('/many').length).toBe(300);
    });

    it('file content matches debugfs rdump', () => {
      const dump = path.join(work, 'dump');
      fs.mkdirSync(dump);
      execFileSync('debugfs', ['-R', `rdump / ${dump}`, img], { stdio: 'ignore' });
      const want = dirTree(dump);
      try {
        let files = 0;
        for (const e of r.walk().entries) {
          if (e.type !== 'file' && e.type !== 'symlink') continue;
          const w = want.get(e.path);
          expect(w?.type, e.path).toBe(e.type);
          if (e.type === 'symlink') expect(e.linkTarget, e.path).toBe(w!.linkTarget);
          else {
            const h = (c: { read(o: number, l: number): Uint8Array; size: number }) => createHash('sha256').update(c.read(0, c.size)).digest('hex');
            expect(h(e.content!), e.path).toBe(h(w!.content!));
            files++;
          }
        }
        expect(files).toBeGreaterThan(300);
      } finally {
        want.close();
      }
    });

    it('lookup follows symlinks in the middle and reports missing paths', () => {
      expect(Buffer.from(r.readFile('/fast-link')).toString()).toBe('hello, ext4\n');
      expect(r.readlink('/fast-link')).toBe('etc/hello');
      expect(r.lookup('/deep/a/b/../b/hello-again')).toBe(r.lookup('/etc/hello'));
      expect(() => r.stat('/etc/nope')).toThrow(/'\/etc\/nope' does not exist/);
      expect(() => r.readFile('/etc')).toThrow(/is a dir, not a regular file/);
      expect(() => r.readdir('/etc/hello')).toThrow(/not a directory/);
    });
  });
}

describe('ext4 reader on bad input', () => {
  it('refuses a device without an ext superblock', () => {
    expect(() => openExt4(new MemoryBlockDevice(1 << 20))).toThrow(/ext4 superblock s_magic at offset 1080 \(0x438\): expected 0xef53 but it was 0x0/);
    expect(() => openExt4(new MemoryBlockDevice(100))).toThrow(/too small/);
  });
  it('refuses a truncated image', () => {
    const bytes = gunzipSync(fs.readFileSync(path.join(FIX, 'ext2.img.gz')));
    expect(() => openExt4(new MemoryBlockDevice(new Uint8Array(bytes.subarray(0, 1 << 20))))).toThrow(/8192 blocks of 1024 bytes but the device holds only 1048576 bytes/);
  });
});

describe.skipIf(why !== undefined)('ext4 reader on damaged metadata', () => {
  it('names the inode and the bad magic of a broken extent header', () => {
    const bytes = gunzipSync(fs.readFileSync(path.join(FIX, 'ext4.img.gz')));
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-ext4bad-'));
    try {
      const img = path.join(work, 'x.img');
      fs.writeFileSync(img, bytes);
      const imap = execFileSync('debugfs', ['-R', 'imap /etc/300k', img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const m = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(imap)!;
      const at = Number(m[1]) * 4096 + Number.parseInt(m[2]!, 16) + 0x28; // i_block: the extent header
      const bad = new Uint8Array(bytes);
      bad[at] = 0x0b;
      const r = openExt4(new MemoryBlockDevice(bad));
      const ino = r.lookup('/etc/300k');
      expect(() => r.readFile('/etc/300k')).toThrow(new RegExp(`extent header of inode ${ino} \\(i_block\\) eh_magic at offset ${at} \\(0x${at.toString(16)}\\): expected magic 0xf30a but it was 0xf30b`));
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
