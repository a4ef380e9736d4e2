/**
 * Directory structures (Documentation/filesystems/ext4/directory.rst): the linear entry
 * ext4_dir_entry_2, the 12-byte checksum tail of a leaf block, and the hash-tree index
 * blocks (dx_root with its fake '.' and '..' entries, dx_node, dx_entry, dx_tail).
 */
import { defineStruct, u8, u16, u32 } from '../../binary/struct.js';

/** Fixed part of ext4_dir_entry_2; the name (name_len bytes) follows at 0x8. */
export const DirEntry = defineStruct('ext4_dir_entry_2', 8, {
  inode: [0x0, u32],
  rec_len: [0x4, u16],
  name_len: [0x6, u8],
  file_type: [0x7, u8],
});

/** The fake entry closing a leaf block under metadata_csum (inode 0, rec_len 12, type 0xDE). */
export const DirEntryTail = defineStruct('ext4_dir_entry_tail', 12, {
  det_reserved_zero1: [0x0, u32],
  det_rec_len: [0x4, u16],
  det_reserved_zero2: [0x6, u8],
  det_reserved_ft: [0x7, u8],
  det_checksum: [0x8, u32],
});

/** Start of a dx_root block: '.', '..' (rec_len to the block end) and dx_root_info. */
export const DxRoot = defineStruct('dx_root', 0x20, {
  dot_inode: [0x00, u32],
  dot_rec_len: [0x04, u16],
  dot_name_len: [0x06, u8],
  dot_file_type: [0x07, u8],
  dot_name: [0x08, u32],
  dotdot_inode: [0x0c, u32],
  dotdot_rec_len: [0x10, u16],
  dotdot_name_len: [0x12, u8],
  dotdot_file_type: [0x13, u8],
  dotdot_name: [0x14, u32],
  reserved_zero: [0x18, u32],
  hash_version: [0x1c, u8],
  info_length: [0x1d, u8],
  indirect_levels: [0x1e, u8],
  unused_flags: [0x1f, u8],
});

/** Start of an interior dx_node block: a fake empty entry covering the whole block. */
export const DxNode = defineStruct('dx_node', 8, {
  fake_inode: [0x0, u32],
  fake_rec_len: [0x4, u16],
  name_len: [0x6, u8],
  file_type: [0x7, u8],
});

/** The first dx_entry slot holds limit and count instead of a hash. */
export const DxCountLimit = defineStruct('dx_countlimit', 8, {
  limit: [0x0, u16],
  count: [0x2, u16],
  block: [0x4, u32],
});

export const DxEntry = defineStruct('dx_entry', 8, {
  hash: [0x0, u32],
  block: [0x4, u32],
});

export const DxTail = defineStruct('dx_tail', 8, {
  dt_reserved: [0x0, u32],
  dt_checksum: [0x4, u32],
});

/** Bytes a directory entry with a name of `nameLen` bytes needs (rounded up to 4). */
export function dirEntrySize(nameLen: number): number {
  return (8 + nameLen + 3) & ~3;
}
