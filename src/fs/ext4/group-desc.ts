/**
 * The 64-byte block group descriptor of a 64bit filesystem
 * (Documentation/filesystems/ext4/group_descr.rst) and its metadata_csum checksum:
 * crc32c(seed, le32 group number, descriptor with bg_checksum zeroed) & 0xFFFF.
 */
import { defineStruct, u16, u32, type StructValue } from '../../binary/struct.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import { DESC_SIZE } from './constants.js';

export const GroupDesc = defineStruct('ext4 group descriptor', DESC_SIZE, {
  bg_block_bitmap_lo: [0x00, u32],
  bg_inode_bitmap_lo: [0x04, u32],
  bg_inode_table_lo: [0x08, u32],
  bg_free_blocks_count_lo: [0x0c, u16],
  bg_free_inodes_count_lo: [0x0e, u16],
  bg_used_dirs_count_lo: [0x10, u16],
  bg_flags: [0x12, u16],
  bg_exclude_bitmap_lo: [0x14, u32],
  bg_block_bitmap_csum_lo: [0x18, u16],
  bg_inode_bitmap_csum_lo: [0x1a, u16],
  bg_itable_unused_lo: [0x1c, u16],
  bg_checksum: [0x1e, u16],
  bg_block_bitmap_hi: [0x20, u32],
  bg_inode_bitmap_hi: [0x24, u32],
  bg_inode_table_hi: [0x28, u32],
  bg_free_blocks_count_hi: [0x2c, u16],
  bg_free_inodes_count_hi: [0x2e, u16],
  bg_used_dirs_count_hi: [0x30, u16],
  bg_itable_unused_hi: [0x32, u16],
  bg_exclude_bitmap_hi: [0x34, u32],
  bg_block_bitmap_csum_hi: [0x38, u16],
  bg_inode_bitmap_csum_hi: [0x3a, u16],
  bg_reserved: [0x3c, u32],
});

export type GroupDescValue = StructValue<typeof GroupDesc.fields>;

/** The descriptor checksum over `raw` (DESC_SIZE bytes, bg_checksum read as zero). */
export function groupDescChecksum(seed: number, group: number, raw: Uint8Array, offset = 0): number {
  const le = new Uint8Array(4);
  new DataView(le.buffer).setUint32(0, group, true);
  const at = GroupDesc.offsetOf('bg_checksum');
  let c = crc32cRaw(seed, le);
  c = crc32cRaw(c, raw.subarray(offset, offset + at));
  c = crc32cRaw(c, new Uint8Array(2));
  c = crc32cRaw(c, raw.subarray(offset + at + 2, offset + DESC_SIZE));
  return c & 0xffff;
}

/** Encodes into `into` at `offset` with the checksum patched in. */
export function encodeGroupDesc(seed: number, group: number, d: GroupDescValue, into: Uint8Array, offset: number): void {
  GroupDesc.encode({ ...d, bg_checksum: 0 }, into, offset);
  const c = groupDescChecksum(seed, group, into, offset);
  new DataView(into.buffer, into.byteOffset).setUint16(offset + GroupDesc.offsetOf('bg_checksum'), c, true);
}
