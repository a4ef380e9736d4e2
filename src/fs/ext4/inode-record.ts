/**
 * The writer's record of one inode while the tree is laid out, and its encoding into the
 * 256-byte on-disk inode (Documentation/filesystems/ext4/inodes.rst): mode, owners split in
 * lo/hi halves, times with nanoseconds and epoch bits, i_blocks in 512-byte units, i_block
 * (extent root, fast symlink or device numbers), in-inode xattrs, checksum.
 */
import { InputError, InternalError } from '../../errors.js';
import type { TreeEntry } from '../../tree/model.js';
import { S_IFMT } from '../../tree/model.js';
import { BLOCK_SIZE, EXTRA_ISIZE, INODE_SIZE } from './constants.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import { Inode, encodeTime, inodeChecksumSeed, patchInodeChecksum } from './inode.js';

export interface InodeRecord {
  ino: number;
  entry: TreeEntry;
  links: number;
  /** i_size. */
  size: number;
  flags: number;
  iBlock: Uint8Array;
  /** Filesystem blocks charged to the inode (data, extent tree, xattr block). */
  blocks: number;
  xattrArea?: Uint8Array;
  xattrBlock: number;
  /** Creation time (the filesystem's). */
  crtime: number;
}

/** Field offsets of the Inode struct, looked up once for the hot encoder below. */
const OFF = {
  mode: Inode.offsetOf('i_mode'), uid: Inode.offsetOf('i_uid'), sizeLo: Inode.offsetOf('i_size_lo'),
  atime: Inode.offsetOf('i_atime'), ctime: Inode.offsetOf('i_ctime'), mtime: Inode.offsetOf('i_mtime'),
  gid: Inode.offsetOf('i_gid'), links: Inode.offsetOf('i_links_count'), blocksLo: Inode.offsetOf('i_blocks_lo'),
  flags: Inode.offsetOf('i_flags'), block: Inode.offsetOf('i_block'), aclLo: Inode.offsetOf('i_file_acl_lo'),
  sizeHigh: Inode.offsetOf('i_size_high'), blocksHigh: Inode.offsetOf('l_i_blocks_high'), aclHigh: Inode.offsetOf('l_i_file_acl_high'),
  uidHigh: Inode.offsetOf('l_i_uid_high'), gidHigh: Inode.offsetOf('l_i_gid_high'), csumLo: Inode.offsetOf('l_i_checksum_lo'),
  extraIsize: Inode.offsetOf('i_extra_isize'), csumHi: Inode.offsetOf('i_checksum_hi'), ctimeExtra: Inode.offsetOf('i_ctime_extra'),
  mtimeExtra: Inode.offsetOf('i_mtime_extra'), atimeExtra: Inode.offsetOf('i_atime_extra'), crtime: Inode.offsetOf('i_crtime'),
  crtimeExtra: Inode.offsetOf('i_crtime_extra'), xattr: Inode.offsetOf('i_xattr_area'),
};
const XATTR_AREA = INODE_SIZE - OFF.xattr;

function fits16(what: string, v: number, ino: number): number {
  if (v > 0xffff) throw new InputError(`ext4 inode ${ino}: ${what} ${v} does not fit 16 bits`);
  return v;
}

/**
 * Encodes the record as the 256-byte inode at `into[offset]`, checksum included. Fields are
 * set through one DataView at the Inode struct's offsets (the generic struct encoder costs
 * ~10 us an inode); every field not set here is zero, as Inode.encode would leave it.
 */
export function encodeInodeRecord(r: InodeRecord, fsSeed: number, into: Uint8Array, offset: number): void {
  const e = r.entry;
  const a = encodeTime(e.atime.sec, e.atime.nsec);
  const c = encodeTime(e.ctime.sec, e.ctime.nsec);
  const m = encodeTime(e.mtime.sec, e.mtime.nsec);
  const cr = encodeTime(r.crtime, 0);
  const sectors = r.blocks * (BLOCK_SIZE / 512);
  if (r.iBlock.length > 60) throw new InternalError(`ext4 inode ${r.ino}: i_block of ${r.iBlock.length} bytes (at most 60)`);
  if (r.xattrArea && r.xattrArea.length > XATTR_AREA) throw new InternalError(`ext4 inode ${r.ino}: in-inode xattrs of ${r.xattrArea.length} bytes (at most ${XATTR_AREA})`);
  into.fill(0, offset, offset + INODE_SIZE);
  const v = new DataView(into.buffer, into.byteOffset + offset, INODE_SIZE);
  v.setUint16(OFF.mode, (S_IFMT[e.type] | (e.mode & 0o7777)) & 0xffff, true);
  v.setUint16(OFF.uid, e.uid & 0xffff, true);
  v.setUint32(OFF.sizeLo, r.size >>> 0, true);
  v.setUint32(OFF.atime, a.lo, true);
  v.setUint32(OFF.ctime, c.lo, true);
  v.setUint32(OFF.mtime, m.lo, true);
  v.setUint16(OFF.gid, e.gid & 0xffff, true);
  v.setUint16(OFF.links, fits16('i_links_count', r.links, r.ino), true);
  v.setUint32(OFF.blocksLo, sectors >>> 0, true);
  v.setUint32(OFF.flags, r.flags >>> 0, true);
  into.set(r.iBlock, offset + OFF.block);
  v.setUint32(OFF.aclLo, r.xattrBlock >>> 0, true);
  v.setUint32(OFF.sizeHigh, Math.floor(r.size / 2 ** 32) >>> 0, true);
  v.setUint16(OFF.blocksHigh, fits16('l_i_blocks_high', Math.floor(sectors / 2 ** 32), r.ino), true);
  v.setUint16(OFF.aclHigh, fits16('l_i_file_acl_high', Math.floor(r.xattrBlock / 2 ** 32), r.ino), true);
  v.setUint16(OFF.uidHigh, fits16('l_i_uid_high', e.uid >>> 16, r.ino), true);
  v.setUint16(OFF.gidHigh, fits16('l_i_gid_high', e.gid >>> 16, r.ino), true);
  v.setUint16(OFF.extraIsize, EXTRA_ISIZE, true);
  v.setUint32(OFF.ctimeExtra, c.extra, true);
  v.setUint32(OFF.mtimeExtra, m.extra, true);
  v.setUint32(OFF.atimeExtra, a.extra, true);
  v.setUint32(OFF.crtime, cr.lo, true);
  v.setUint32(OFF.crtimeExtra, cr.extra, true);
  if (r.xattrArea) into.set(r.xattrArea, offset + OFF.xattr);
  // Checksum over the inode with both checksum fields zero; generation is 0.
  const sum = crc32cRaw(inodeChecksumSeed(fsSeed, r.ino, 0), into.subarray(offset, offset + INODE_SIZE));
  v.setUint16(OFF.csumLo, sum & 0xffff, true);
  v.setUint16(OFF.csumHi, sum >>> 16, true);
}

/** mke2fs's bad-blocks inode: zero but for three times, no extra fields. */
export function encodeBadBlocksInode(time: number, fsSeed: number, into: Uint8Array, offset: number): void {
  const v = new DataView(into.buffer, into.byteOffset + offset, INODE_SIZE);
  into.fill(0, offset, offset + INODE_SIZE);
  const t = encodeTime(time, 0).lo;
  v.setUint32(Inode.offsetOf('i_atime'), t, true);
  v.setUint32(Inode.offsetOf('i_ctime'), t, true);
  v.setUint32(Inode.offsetOf('i_mtime'), t, true);
  patchInodeChecksum(fsSeed, 1, into, offset);
}
