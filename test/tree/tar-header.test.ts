/**
 * Tar header quirks, each on an archive GNU tar made: a uid and gid too big for octal
 * (GNU base-256), a time before 1970 (negative base-256 in gnu format, '-N.F' in pax), the
 * header struct round trip, and the textual-ACL conversion against setfacl's own bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readXattrs } from '../../src/tree/dir-source.js';
import { TarHeader, aclTextToXattr, headerChecksum, paxTime, tarNumber } from '../../src/tree/tar-header.js';
import { tarTree } from '../../src/tree/tar-source.js';
import { expectRoundTrip } from '../helpers/struct-round-trip.js';

const root = process.getuid?.() === 0;

describe('tar header codec', () => {
  it('round-trips the header struct and agrees with the stored checksum', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-tarhdr-'));
    try {
      fs.writeFileSync(path.join(dir, 'f'), 'x');
      const a = path.join(dir, 'a.tar');
      execFileSync('tar', ['--format=ustar', '-C', dir, '-cf', a, 'f']);
      const block = fs.readFileSync(a).subarray(0, 512);
      expect(Buffer.from(TarHeader.encode(TarHeader.decode(block)))).toEqual(block);
      expectRoundTrip(TarHeader, 512, block);
      expect(tarNumber(TarHeader.decode(block).chksum, 'chksum', 0)).toBe(headerChecksum(block));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('reads base-256 numbers, positive and negative', () => {
    expect(tarNumber(Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0]), 'uid', 0)).toBe(3000000);
    expect(tarNumber(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), 'mtime', 0)).toBe(-2);
    expect(() => tarNumber(Buffer.from('12x4\0'), 'mode', 7)).toThrow(/offset 7: mode expected octal digits but it was '12x4'/);
  });
  it('reads pax times with fractions, before and after 1970', () => {
    expect(paxTime('-304707110.5', 'mtime', 0)).toEqual({ sec: -304707111, nsec: 500000000 });
    expect(paxTime('1614834363.123456786', 'mtime', 0)).toEqual({ sec: 1614834363, nsec: 123456786 });
    expect(paxTime('-5', 'mtime', 0)).toEqual({ sec: -5, nsec: 0 });
    expect(() => paxTime('soon', 'mtime', 0)).toThrow(/expected a decimal time/);
  });
});

describe.skipIf(!root)('tar header quirks on GNU tar archives (root: chown)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-tarq-'));
    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src/f'), 'old\n');
    fs.chownSync(path.join(dir, 'src/f'), 3000000, 4000000);
    execFileSync('touch', ['-d', '1960-05-06 07:08:09.5 UTC', path.join(dir, 'src/f')]);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const format of ['gnu', 'pax']) {
    it(`${format}: big ids and a pre-1970 time`, async () => {
      const a = path.join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-C', path.join(dir, 'src'), '-cf', a, './f']);
      const t = await tarTree(a);
      try {
        expect(t.get('/f')).toMatchObject({ uid: 3000000, gid: 4000000, mtime: format === 'pax' ? { sec: -304707111, nsec: 500000000 } : { sec: -304707111, nsec: 0 } });
        expect(Buffer.from(t.get('/f')!.content!.read(0, 100)).toString()).toBe('old\n');
      } finally {
        t.close();
      }
    });
  }

  it('converts textual ACLs to the bytes setfacl makes', () => {
    const f = path.join(dir, 'acl');
    fs.writeFileSync(f, '');
    execFileSync('setfacl', ['-m', 'u:4242:rw-,g:4343:r-x,m::rwx', f]);
    const want = readXattrs(f).get('system.posix_acl_access')!;
    const got = aclTextToXattr('user::rw-\nuser:4242:rw-\ngroup::r--\ngroup:4343:r-x\nmask::rwx\nother::r--', false, 'test')!;
    expect(Buffer.from(got).toString('hex')).toBe(Buffer.from(want).toString('hex'));
    expect(aclTextToXattr('user::rw-,group::r--,other::r--', false, 'test')).toBeUndefined();
    expect(() => aclTextToXattr('user:bob:rwx', false, 'test')).toThrow(/names 'bob' without a numeric id/);
  });
});

/** Re-encodes the first member's pax header of `tar` keeping only the records `keep` accepts. */
function filterFirstPax(tar: Buffer, keep: (key: string) => boolean): Buffer {
  const size = Number.parseInt(tar.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  const data = tar.subarray(512, 512 + size);
  const records: Buffer[] = [];
  for (let i = 0; i < data.length;) {
    const sp = data.indexOf(0x20, i);
    const len = Number(data.subarray(i, sp).toString('latin1'));
    const rec = data.subarray(sp + 1, i + len);
    const key = rec.subarray(0, rec.indexOf(0x3d)).toString('utf8');
    if (keep(key)) {
      let n = rec.length + 2;
      while (String(n).length + 1 + rec.length !== n) n = String(n).length + 1 + rec.length;
      records.push(Buffer.concat([Buffer.from(`${n} `), rec]));
    }
    i += len;
  }
  const body = Buffer.concat(records);
  const header = Buffer.from(tar.subarray(0, 512));
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124, 'latin1');
  header.write(headerChecksum(header).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([header, padded, tar.subarray(512 + Math.ceil(size / 512) * 512)]);
}

describe.skipIf(!root || spawnSync('bsdtar', ['--version']).error !== undefined)('LIBARCHIVE.xattr.* records alone', () => {
  it('decode to the same attributes (URL-encoded names, unpadded base64 values)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-libarchive-'));
    try {
      fs.mkdirSync(path.join(dir, 'src'));
      const f = path.join(dir, 'src/f');
      fs.writeFileSync(f, 'x\n');
      execFileSync('setfattr', ['-n', 'user.odd name%=', '-v', 'v%=1', f]);
      execFileSync('setcap', ['cap_net_raw+ep', f]);
      const a = path.join(dir, 'a.tar');
      execFileSync('bsdtar', ['--format=pax', '--xattrs', '-C', path.join(dir, 'src'), '-cf', a, 'f']);
      const only = filterFirstPax(fs.readFileSync(a), (k) => !k.startsWith('SCHILY.xattr.'));
      expect(only.toString('latin1')).not.toContain('SCHILY.xattr.');
      expect(only.toString('latin1')).toContain('LIBARCHIVE.xattr.user.odd%20name%25%3D');
      fs.writeFileSync(a, only);
      const t = await tarTree(a);
      try {
        const want = readXattrs(f);
        expect([...t.get('/f')!.xattrs].map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`))
          .toEqual([...want].map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`));
        expect(want.size).toBe(2);
      } finally {
        t.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
