/**
 * The tar source against the directory source: the every-type tree archived by GNU tar
 * (pax with --xattrs --acls, gnu, ustar, gzip) and bsdtar must give the same FileTree as
 * the directory it came from, field by field, with only what each format cannot carry left
 * out. Then each corrupt input, one by one, gives its own InputError.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirTree } from '../../src/tree/dir-source.js';
import type { FileTree } from '../../src/tree/model.js';
import { tarTree } from '../../src/tree/tar-source.js';
import { headerChecksum } from '../../src/tree/tar-header.js';
import {
  type CompareOptions, type Difference, compareFileTrees, everyTypeTreeUnavailable, formatDifferences, makeEveryTypeTree,
} from '../helpers/compare-tree.js';
import { hasTool } from '../helpers/tools.js';

const why = everyTypeTreeUnavailable();

function tar(args: string[]): void {
  execFileSync('tar', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

describe.skipIf(why !== undefined)(`tar source vs directory source (${why ?? 'root'})`, () => {
  let work: string;
  let src: string;
  let dir: FileTree;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-tarsrc-'));
    src = path.join(work, 'src');
    fs.mkdirSync(src);
    makeEveryTypeTree(src, { manyEntries: 120 });
    dir = dirTree(src);
  });
  afterAll(() => {
    dir?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  async function against(archive: string | NodeJS.ReadableStream, opts: CompareOptions, expected = dir): Promise<Difference[]> {
    const t = await tarTree(archive, { spoolDir: work });
    try {
      // tar cannot store sockets (GNU tar and bsdtar skip them).
      return compareFileTrees(expected, t, opts).filter((d) => !(d.path === '/dev/socket' && d.field === 'presence'));
    } finally {
      t.close();
    }
  }

  it('pax with --xattrs --acls: every field equal, mtime to the nanosecond', async () => {
    const a = path.join(work, 'pax.tar');
    tar(['--xattrs', "--xattrs-include=*", '--acls', '--format=pax', '-C', src, '-cf', a, '.']);
    // pax records ctime too (atime is not compared: reading the files for tar moves it).
    const diffs = await against(a, { extra: ['ctime'] });
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    const t = await tarTree(a);
    expect(t.get('/bin/cap')!.xattrs.get('security.capability')).toEqual(dir.get('/bin/cap')!.xattrs.get('security.capability'));
    expect(t.get('/etc/binary')!.xattrs.get('user.big')!.length).toBe(3000);
    expect(t.get('/sparse')!.mtime).toEqual(dir.get('/sparse')!.mtime);
    expect(t.get('/sparse')!.mtime.nsec).not.toBe(0);
    t.close();
  });

  it('pax through gzip and from a stream (spooled) gives the same tree', async () => {
    const a = path.join(work, 'pax.tar.gz');
    tar(['--xattrs', "--xattrs-include=*", '--acls', '--format=pax', '-C', src, '-czf', a, '.']);
    const diffs = await against(fs.createReadStream(a), {});
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    // A plain tar through a stream is spooled rather than read in place: same tree.
    const plain = await against(fs.createReadStream(path.join(work, 'pax.tar')), {});
    expect(plain, formatDifferences(plain)).toEqual([]);
  });

  it('ACLs from SCHILY.acl.* text alone (ids without names here) equal the raw attributes', async () => {
    const d = path.join(work, 'acl');
    fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(d, 'f'), 'acl');
    execFileSync('setfacl', ['-m', 'u:4242:rwx,g:4343:r-x', path.join(d, 'f')]);
    execFileSync('setfacl', ['-d', '-m', 'u::rwx,g::r-x,o::---,u:4244:rwx', path.join(d, 'sub')]);
    const a = path.join(work, 'acl-text.tar');
    // Without --xattrs GNU tar stores only the textual ACL.
    tar(['--acls', '--format=pax', '-C', d, '-cf', a, '.']);
    const text = fs.readFileSync(a).toString('latin1');
    expect(text).toContain('SCHILY.acl.access');
    expect(text).not.toContain('SCHILY.xattr.system.posix_acl_access');
    const want = dirTree(d);
    try {
      const diffs = await against(a, {}, want);
      expect(diffs, formatDifferences(diffs)).toEqual([]);
      expect(want.get('/f')!.xattrs.has('system.posix_acl_access')).toBe(true);
      expect(want.get('/sub')!.xattrs.has('system.posix_acl_default')).toBe(true);
    } finally {
      want.close();
    }
  });

  it('pax sparse 1.0 members (GNU tar -S --sparse-version=1.0) read back with their holes', async () => {
    const a = path.join(work, 'sparse10.tar');
    tar(['--format=pax', '-S', '--sparse-version=1.0', '-C', src, '-cf', a, './sparse', './etc/small.txt']);
    expect(fs.readFileSync(a).toString('latin1')).toContain('GNU.sparse.realsize');
    const sub = dirTree(src, { exclude: (p) => !['/sparse', '/etc', '/etc/small.txt'].includes(p) });
    try {
      // /etc is not in the archive: the source makes it up (root-owned, its child's time).
      const diffs = (await against(a, { ignore: ['xattrs'] }, sub)).filter((d) => d.path !== '/' && d.path !== '/etc');
      expect(diffs, formatDifferences(diffs)).toEqual([]);
    } finally {
      sub.close();
    }
    // The member's map becomes the content's dataRanges: all non-zero bytes lie inside them.
    const t = await tarTree(a);
    try {
      const c = t.get('/sparse')!.content!;
      const ranges = c.dataRanges!();
      const bytes = c.read(0, c.size);
      const inside = new Uint8Array(c.size);
      for (const [off, len] of ranges) inside.fill(1, off, off + len);
      expect(bytes.every((b, i) => b === 0 || inside[i] === 1)).toBe(true);
      expect(ranges.reduce((n, [, len]) => n + len, 0)).toBeLessThan(c.size / 4);
      expect(t.get('/etc/small.txt')!.content!.dataRanges).toBeUndefined();
    } finally {
      t.close();
    }
  });

  it('gnu format (long names by L/K records): equal but for seconds-only times and xattrs', async () => {
    const a = path.join(work, 'gnu.tar');
    tar(['--format=gnu', '-C', src, '-cf', a, '.']);
    const diffs = await against(a, { mtimeGranularityNs: 1e9, ignore: ['xattrs'] });
    expect(diffs, formatDifferences(diffs)).toEqual([]);
    const t = await tarTree(a);
    expect(t.get('/many/' + 'L'.repeat(255))?.type).toBe('file');
    expect(t.get('/link-604')!.linkTarget).toBe('z/'.repeat(300) + 'end');
    t.close();
  });

  it('ustar (prefix/name split) for what ustar can hold', async () => {
    const a = path.join(work, 'ustar.tar');
    const keep = ['etc', 'bin', 'dev', 'links', 'deep', 'short-link', 'sparse'];
    tar(['--format=ustar', '-C', src, '-cf', a, ...keep.map((k) => `./${k}`)]);
    const sub = dirTree(src, { exclude: (p) => p.split('/').length === 2 && !keep.includes(p.slice(1)) });
    try {
      const diffs = (await against(a, { mtimeGranularityNs: 1e9, ignore: ['xattrs'] }, sub)).filter((d) => d.path !== '/');
      expect(diffs, formatDifferences(diffs)).toEqual([]);
    } finally {
      sub.close();
    }
  });

  it.skipIf(!hasTool('bsdtar'))('bsdtar pax with xattrs and ACLs (LIBARCHIVE.xattr.* records)', async () => {
    const a = path.join(work, 'bsd.tar');
    execFileSync('bsdtar', ['--format=pax', '--xattrs', '--acls', '-C', src, '-cf', a, '.'], { stdio: ['ignore', 'ignore', 'pipe'] });
    expect(fs.readFileSync(a).toString('latin1')).toContain('LIBARCHIVE.xattr.');
    const diffs = await against(a, {});
    expect(diffs, formatDifferences(diffs)).toEqual([]);
  });

  it('close() releases the spool: no file left, descriptor closed', async () => {
    const a = path.join(work, 'pax.tar');
    const fds = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    const t = await tarTree(a, { spoolDir: work });
    expect(fs.readdirSync(work).filter((n) => n.startsWith('dit-tar-spool'))).toEqual([]);
    expect(fds()).toBe(before + 1);
    t.close();
    expect(fds()).toBe(before);
    expect(() => t.get('/etc/small.txt')!.content!.read(0, 1)).toThrow(/closed/);
  });

  describe('corrupt inputs', () => {
    let good: Buffer;
    beforeAll(() => {
      const a = path.join(work, 'small.tar');
      tar(['--format=pax', '-C', src, '-cf', a, './etc']);
      good = fs.readFileSync(a);
    });
    const fail = async (data: Buffer | string, re: RegExp): Promise<void> => {
      const file = typeof data === 'string' ? data : path.join(work, 'bad.tar');
      if (typeof data !== 'string') fs.writeFileSync(file, data);
      await expect(tarTree(file, { spoolDir: work })).rejects.toThrow(expect.objectContaining({ code: 'INPUT', message: expect.stringMatching(re) }));
      expect(fs.readdirSync(work).filter((n) => n.startsWith('dit-tar-spool'))).toEqual([]);
    };
    it('truncated in the middle of a member', () => fail(good.subarray(0, 512 * 5 + 100), /truncated archive/));
    it('truncated in a header', () => fail(good.subarray(0, 512 * 3 + 200), /truncated archive: header/));
    it('bad header checksum', () => {
      const b = Buffer.from(good);
      b[0] = b[0]! ^ 1;
      return fail(b, /checksum expected/);
    });
    it('unknown member type', () => {
      const b = Buffer.from(good);
      // The first header is a pax 'x' header; patch the member after it.
      const x = Number.parseInt(b.subarray(124, 136).toString('latin1').trim(), 8);
      const h = 512 + Math.ceil(x / 512) * 512;
      b[h + 156] = 'Q'.charCodeAt(0);
      b.write(headerChecksum(b.subarray(h, h + 512)).toString(8).padStart(6, '0') + '\0 ', h + 148, 'latin1');
      return fail(b, /unknown member type 'Q'/);
    });
    it('a ../ path escaping the root', () => {
      fs.mkdirSync(path.join(work, 'x/y'), { recursive: true });
      fs.writeFileSync(path.join(work, 'x/outside'), 'o');
      const a = path.join(work, 'dotdot.tar');
      execFileSync('tar', ['-P', '-C', path.join(work, 'x/y'), '-cf', a, '../outside']);
      return fail(a, /'\.\.' component that escapes the root/);
    });
    it('an absolute path', () => {
      const a = path.join(work, 'abs.tar');
      execFileSync('tar', ['-P', '-cf', a, path.join(src, 'empty')]);
      return fail(a, /absolute path/);
    });
    it.skipIf(!hasTool('zstd'))(`zstd-compressed input${hasTool('zstd') ? '' : ' (skipped: zstd is not installed)'}`, async () => {
      const a = path.join(work, 'pax.tar.zst');
      execFileSync('zstd', ['-q', '-f', '-o', a, path.join(work, 'small.tar')]);
      await fail(a, /zstd-compressed archives are not read directly/);
    });
    it('gzip cut short', () => {
      const z = execFileSync('gzip', ['-c', path.join(work, 'small.tar')]);
      return fail(z.subarray(0, z.length - 30), /cannot read the archive|truncated/);
    });
    it('GNU sparse member', () => {
      const a = path.join(work, 'sparse.tar');
      tar(['--format=gnu', '-S', '-C', src, '-cf', a, './sparse']);
      return fail(a, /GNU sparse members other than pax format 1.0 are not supported/);
    });
    it('hard link to a member not in the archive', () => {
      const a = path.join(work, 'link.tar');
      tar(['--format=pax', '-C', src, '-cf', a, './links/one', './links/two']);
      const b = fs.readFileSync(a);
      // Drop the first member (pax header + header + one data block).
      const x = Number.parseInt(b.subarray(124, 136).toString('latin1').trim(), 8);
      const first = 512 + Math.ceil(x / 512) * 512;
      return fail(b.subarray(first + 1024), /hard link .* not earlier in the archive/);
    });
    it('an empty file', () => fail(Buffer.alloc(0), /archive is empty/));
    it('a missing file', () => fail(path.join(work, 'no-such.tar'), /cannot open the archive/));
  });
});
