/**
 * The writer's record of one inode while the tree is laid out, and its encoding into the
 * 256-byte on-disk inode (Documentation/filesystems/ext4/inodes.rst): mode, owners split in
 * lo/hi halves, times with nanoseconds and epoch bits, i_blocks in 512-byte units, i_block
 * (extent root, fast symlink or device numbers), in-inode xattrs, checksum.
 */
import type { TreeEntry } from '../../tree/model.js';
import { S_IFMT } from '../../tree/model.js';
import { BLOCK_SIZE, EXTRA_ISIZE, INODE_SIZE } from './constants.js';
import { Inode, encodeTime, patchInodeChecksum } from './inode.js';

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

export function encodeInodeRecord(r: InodeRecord, fsSeed: number, into: Uint8Array, offset: number): void {
  const e = r.entry;
  const a = encodeTime(e.atime.sec, e.atime.nsec);
  const c = encodeTime(e.ctime.sec, e.ctime.nsec);
  const m = encodeTime(e.mtime.sec, e.mtime.nsec);
  const cr = encodeTime(r.crtime, 0);
  const sectors = r.blocks * (BLOCK_SIZE / 512);
  const area = new Uint8Array(INODE_SIZE - 0xa0);
  if (r.xattrArea) area.set(r.xattrArea);
  Inode.encode({
    i_mode: (S_IFMT[e.type] | (e.mode & 0o7777)) & 0xffff,
    i_uid: e.uid & 0xffff,
    i_size_lo: r.size >>> 0,
    i_atime: a.lo,
    i_ctime: c.lo,
    i_mtime: m.lo,
    i_dtime: 0,
    i_gid: e.gid & 0xffff,
    i_links_count: r.links,
    i_blocks_lo: sectors >>> 0,
    i_flags: r.flags,
    l_i_version: 0,
    i_block: r.iBlock,
    i_generation: 0,
    i_file_acl_lo: r.xattrBlock >>> 0,
    i_size_high: Math.floor(r.size / 2 ** 32),
    i_obso_faddr: 0,
    l_i_blocks_high: Math.floor(sectors / 2 ** 32),
    l_i_file_acl_high: Math.floor(r.xattrBlock / 2 ** 32),
    l_i_uid_high: e.uid >>> 16,
    l_i_gid_high: e.gid >>> 16,
    l_i_checksum_lo: 0,
    l_i_reserved: 0,
    i_extra_isize: EXTRA_ISIZE,
    i_checksum_hi: 0,
    i_ctime_extra: c.extra,
    i_mtime_extra: m.extra,
    i_atime_extra: a.extra,
    i_crtime: cr.lo,
    i_crtime_extra: cr.extra,
    i_version_hi: 0,
    i_projid: 0,
    i_xattr_area: area,
  }, into, offset);
  patchInodeChecksum(fsSeed, r.ino, into, offset);
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
