/**
 * Extent tree structures (Documentation/filesystems/ext4/ifork.rst "Extent Tree"): a 12-byte
 * header, then 12-byte index entries (interior) or extents (leaves); a leaf or index block ends
 * with a 4-byte tail holding crc32c(inode seed, block up to the tail).
 */
import { defineStruct, u16, u32 } from '../../binary/struct.js';

export const ExtentHeader = defineStruct('ext4_extent_header', 12, {
  eh_magic: [0x0, u16],
  eh_entries: [0x2, u16],
  eh_max: [0x4, u16],
  eh_depth: [0x6, u16],
  eh_generation: [0x8, u32],
});

export const ExtentIndex = defineStruct('ext4_extent_idx', 12, {
  ei_block: [0x0, u32],
  ei_leaf_lo: [0x4, u32],
  ei_leaf_hi: [0x8, u16],
  ei_unused: [0xa, u16],
});

export const Extent = defineStruct('ext4_extent', 12, {
  ee_block: [0x0, u32],
  /** Length in blocks; above 32768 the extent is uninitialized (length - 32768). */
  ee_len: [0x4, u16],
  ee_start_hi: [0x6, u16],
  ee_start_lo: [0x8, u32],
});

export const ExtentTail = defineStruct('ext4_extent_tail', 4, {
  et_checksum: [0x0, u32],
});
