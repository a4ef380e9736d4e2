/**
 * The on-disk structures of a streamOptimized VMDK ("Virtual Disk Format 5.0", VMware,
 * sections "Hosted Sparse Extent Header" and "Stream-Optimized Compressed Sparse Extents"):
 * the 512-byte little-endian sparse extent header (also the footer), the grain marker (LBA,
 * size, then the compressed grain) and the metadata markers (grain table, grain directory,
 * footer, end of stream), each a whole sector.
 */
import { defineStruct, u16, u32, u64, u8 } from '../../binary/struct.js';

export const SPARSE_MAGIC = 0x564d444b; // "KDMV"
export const SECTOR = 512;
export const GD_AT_END = 0xffffffffffffffffn;
export const FLAG_NEWLINE_TEST = 1 << 0;
export const FLAG_COMPRESSED = 1 << 16;
export const FLAG_MARKERS = 1 << 17;
export const COMPRESSION_DEFLATE = 1;
export const MARKER_EOS = 0;
export const MARKER_GT = 1;
export const MARKER_GD = 2;
export const MARKER_FOOTER = 3;

export const SparseExtentHeader = defineStruct('VMDK sparse extent header', SECTOR, {
  magicNumber: [0x00, u32],
  version: [0x04, u32],
  flags: [0x08, u32],
  capacity: [0x0c, u64],
  grainSize: [0x14, u64],
  descriptorOffset: [0x1c, u64],
  descriptorSize: [0x24, u64],
  numGTEsPerGT: [0x2c, u32],
  rgdOffset: [0x30, u64],
  gdOffset: [0x38, u64],
  overHead: [0x40, u64],
  uncleanShutdown: [0x48, u8],
  singleEndLineChar: [0x49, u8],
  nonEndLineChar: [0x4a, u8],
  doubleEndLineChar1: [0x4b, u8],
  doubleEndLineChar2: [0x4c, u8],
  compressAlgorithm: [0x4d, u16],
});

/** A grain marker: the grain's first sector and the compressed size; the data follows at byte 12. */
export const GrainMarker = defineStruct('VMDK grain marker', 12, {
  lba: [0x00, u64],
  size: [0x08, u32],
});

/** A metadata marker, padded to a sector: numSectors of what follows, size 0, type. */
export const MetadataMarker = defineStruct('VMDK metadata marker', SECTOR, {
  numSectors: [0x00, u64],
  size: [0x08, u32],
  type: [0x0c, u32],
});
