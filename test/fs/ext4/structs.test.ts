/**
 * ext4 struct declarations and checksums against a filesystem mke2fs made: every struct decodes
 * and re-encodes to the same bytes, and our superblock, group-descriptor and inode checksums
 * equal the ones mke2fs wrote; every declared struct round-trips at its spec size.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, crc32cRaw, crc32cRawTable, crc32cTable, loadNativeCrc32c } from '../../../src/binary/crc32c.js';
import { JournalInodeBackup, Superblock, checksumSeed, encodeSuperblock } from '../../../src/fs/ext4/superblock.js';
import { GroupDesc, groupDescChecksum } from '../../../src/fs/ext4/group-desc.js';
import { Inode, patchInodeChecksum } from '../../../src/fs/ext4/inode.js';
import { JournalSuperblock } from '../../../src/fs/ext4/journal.js';
import { Ext4AclEntry, Ext4AclEntryShort, Ext4AclHeader } from '../../../src/fs/ext4/acl.js';
import { DirEntry, DirEntryTail, DxCountLimit, DxEntry, DxNode, DxRoot, DxTail } from '../../../src/fs/ext4/dir.js';
import { Extent, ExtentHeader, ExtentIndex, ExtentTail } from '../../../src/fs/ext4/extent.js';
import { XattrBlockHeader, XattrEntry, XattrIbodyHeader } from '../../../src/fs/ext4/xattr.js';
import { hasTool } from '../../helpers/compare-tree.js';
import { expectRoundTrip } from '../../helpers/struct-round-trip.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ext4-structs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('crc32c', () => {
  it('has the RFC 3720 check value and the table twin agrees with the native one', () => {
    expect(loadNativeCrc32c()).toBe(true); // normally loaded once 32 MiB went through the table
    expect(crc32cImplementation()).toBe('native');
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32cTable(Buffer.from('123456789'))).toBe(0xe3069283);
    const data = new Uint8Array(100_003).map((_, i) => (i * 131 + (i >> 7)) & 0xff);
    for (const len of [0, 1, 7, 8, 9, 4096, 100_003]) {
      expect(crc32cRaw(0x12345678, data.subarray(0, len))).toBe(crc32cRawTable(0x12345678, data.subarray(0, len)));
    }
  });
});

describe.skipIf(!hasTool('mke2fs'))('structs against mke2fs output', () => {
  const img = path.join(tmp, 'fs.img');
  execFileSync('truncate', ['-s', '64M', img]);
  execFileSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-I', '256', '-T', 'default', '-U', '0b5b6a43-8d4f-4d55-9b51-5a0c9a1c7e21', '-E', 'lazy_itable_init=0', img]);
  const raw = fs.readFileSync(img);

  it('superblock decodes, re-encodes byte-equal and its checksum matches', () => {
    const sbRaw = raw.subarray(1024, 2048);
    const sb = Superblock.decode(sbRaw);
    expect(sb.s_magic).toBe(0xef53);
    expect(Buffer.from(Superblock.encode(sb)).equals(sbRaw)).toBe(true);
    expect(Buffer.from(encodeSuperblock(sb)).equals(sbRaw)).toBe(true);
  });

  it('group descriptor and inode checksums match', () => {
    const sb = Superblock.decode(raw, 1024);
    const seed = checksumSeed(sb.s_uuid);
    const gdRaw = raw.subarray(4096, 4096 + 64);
    const gd = GroupDesc.decode(gdRaw);
    expect(Buffer.from(GroupDesc.encode(gd)).equals(gdRaw)).toBe(true);
    expect(groupDescChecksum(seed, 0, gdRaw)).toBe(gd.bg_checksum);
    const itable = gd.bg_inode_table_lo * 4096;
    for (const ino of [2, 8, 11]) {
      const iraw = Buffer.from(raw.subarray(itable + (ino - 1) * 256, itable + ino * 256));
      const inode = Inode.decode(iraw);
      expect(Buffer.from(Inode.encode(inode)).equals(iraw)).toBe(true);
      const copy = Buffer.from(iraw);
      patchInodeChecksum(seed, ino, copy);
      expect(copy.equals(iraw)).toBe(true);
    }
  });

  it('journal superblock decodes', () => {
    const sb = Superblock.decode(raw, 1024);
    const jb = new DataView(sb.s_jnl_blocks.buffer, sb.s_jnl_blocks.byteOffset);
    // i_block holds an extent header (12 bytes) then the first extent; ee_start_lo at +8.
    const start = jb.getUint32(12 + 8, true);
    const jsb = JournalSuperblock.decode(raw, start * 4096);
    expect(jsb.h_magic).toBe(0xc03b3998);
    expect(Buffer.from(JournalSuperblock.encode(jsb)).equals(raw.subarray(start * 4096, start * 4096 + 1024))).toBe(true);
  });
});

describe('every declared ext4 struct round-trips at its spec size', () => {
  it('superblock (and its journal inode backup), group descriptor, inode, journal superblock', () => {
    expectRoundTrip(Superblock, 1024);
    expectRoundTrip(JournalInodeBackup, 68);
    expectRoundTrip(GroupDesc, 64);
    expectRoundTrip(Inode, 256);
    expectRoundTrip(JournalSuperblock, 1024);
  });
  it('extent tree: header, index, extent, tail', () => {
    expectRoundTrip(ExtentHeader, 12);
    expectRoundTrip(ExtentIndex, 12);
    expectRoundTrip(Extent, 12);
    expectRoundTrip(ExtentTail, 4);
  });
  it('directories: entry, tail, dx_root, dx_node, dx_countlimit, dx_entry, dx_tail', () => {
    expectRoundTrip(DirEntry, 8);
    expectRoundTrip(DirEntryTail, 12);
    expectRoundTrip(DxRoot, 32);
    expectRoundTrip(DxNode, 8);
    expectRoundTrip(DxCountLimit, 8);
    expectRoundTrip(DxEntry, 8);
    expectRoundTrip(DxTail, 8);
  });
  it('extended attributes: block header, in-inode header, entry', () => {
    expectRoundTrip(XattrBlockHeader, 32);
    expectRoundTrip(XattrIbodyHeader, 4);
    expectRoundTrip(XattrEntry, 16);
  });
  it('POSIX ACL: header, entry, short entry', () => {
    expectRoundTrip(Ext4AclHeader, 4);
    expectRoundTrip(Ext4AclEntry, 8);
    expectRoundTrip(Ext4AclEntryShort, 4);
  });
});
