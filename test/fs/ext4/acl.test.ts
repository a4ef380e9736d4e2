/**
 * ext4's on-disk POSIX ACL (src/fs/ext4/acl.ts) against e2fsprogs and the kernel: for a file
 * setfacl gave an access and a default ACL, our ext4 form of the kernel's xattr value equals
 * the bytes mke2fs -d stored (debugfs ea_get -r), and those bytes read back give the kernel's
 * value again.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aclToExt4, decodeExt4Acl, ext4AclToXattr } from '../../../src/fs/ext4/acl.js';
import { FormatError } from '../../../src/errors.js';
import { readXattrs } from '../../../src/tree/dir-source.js';
import { hasTool } from '../../helpers/tools.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ext4-acl-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** debugfs's hex dump of an xattr ('name (N) = 01 00 ...') as bytes. */
function debugfsRaw(img: string, file: string, name: string): Buffer {
  const out = execFileSync('debugfs', ['-R', `ea_get -r ${file} ${name}`, img], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const hex = /=\s+((?:[0-9a-f]{2} ?)+)/.exec(out);
  if (!hex) throw new Error(`debugfs printed no value: ${out}`);
  return Buffer.from(hex[1]!.replace(/ /g, ''), 'hex');
}

describe.skipIf(!hasTool('setfacl') || !hasTool('mke2fs') || !hasTool('debugfs'))('ext4 ACL form', () => {
  it('equals what mke2fs -d stores and reads back to the kernel\'s value', () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, 'd'), { recursive: true });
    execFileSync('setfacl', ['-m', 'u:1000:rwx,u:4242:r--,g:100:r-x,m::rwx', path.join(src, 'd')]);
    execFileSync('setfacl', ['-d', '-m', 'u:1000:rwx,g:100:r-x', path.join(src, 'd')]);
    const img = path.join(tmp, 'fs.img');
    execFileSync('truncate', ['-s', '8M', img]);
    execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, img]);
    const kernel = readXattrs(path.join(src, 'd'));
    for (const name of ['system.posix_acl_access', 'system.posix_acl_default']) {
      const linux = kernel.get(name)!;
      const disk = debugfsRaw(img, '/d', name);
      expect(Buffer.from(aclToExt4(linux, 'd')).toString('hex'), name).toBe(disk.toString('hex'));
      expect(Buffer.from(ext4AclToXattr(disk, 'd')).toString('hex'), name).toBe(Buffer.from(linux).toString('hex'));
    }
  });

  it('a cut entry or an unknown tag is a FormatError naming the field', () => {
    const cut = Uint8Array.from([1, 0, 0, 0, 2, 0, 7, 0, 0xe8, 3]);
    expect(() => decodeExt4Acl(cut, 'inode 12')).toThrow(FormatError);
    expect(() => decodeExt4Acl(Uint8Array.from([1, 0, 0, 0, 0x40, 0, 7, 0]), 'inode 12')).toThrow(/a known tag but it was 0x40/);
    expect(() => decodeExt4Acl(Uint8Array.from([2, 0, 0, 0]), 'inode 12')).toThrow(/ext4 ACL version 1 but it was 2/);
  });
});
