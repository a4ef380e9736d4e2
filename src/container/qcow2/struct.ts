/**
 * The on-disk structures of qcow2, declared once for the reader and the writer. Names and
 * offsets follow QEMU's docs/interop/qcow2.txt ("QCOW2 Image Format"): the header (version 2 is
 * the first 72 bytes, "compat=0.10"; version 3 adds the feature bitmaps, refcount_order,
 * header_length and compression_type, "compat=1.1"), header extensions, and the bit layout of
 * L1, L2 and compressed-cluster entries. All integers are big-endian.
 */
import { defineStruct, u32be, u64be, u8 } from '../../binary/struct.js';

export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"
export const HEADER_V2_SIZE = 72;
/** qemu writes 112 for version 3: 104 + compression_type + 7 bytes of padding to a multiple of 8. */
export const HEADER_V3_SIZE = 112;

const V2_FIELDS = {
  magic: [0x00, u32be],
  version: [0x04, u32be],
  backing_file_offset: [0x08, u64be],
  backing_file_size: [0x10, u32be],
  cluster_bits: [0x14, u32be],
  size: [0x18, u64be],
  crypt_method: [0x20, u32be],
  l1_size: [0x24, u32be],
  l1_table_offset: [0x28, u64be],
  refcount_table_offset: [0x30, u64be],
  refcount_table_clusters: [0x38, u32be],
  nb_snapshots: [0x3c, u32be],
  snapshots_offset: [0x40, u64be],
} as const;

export const Qcow2HeaderV2 = defineStruct('qcow2 header (version 2)', HEADER_V2_SIZE, V2_FIELDS);

export const Qcow2HeaderV3 = defineStruct('qcow2 header (version 3)', HEADER_V3_SIZE, {
  ...V2_FIELDS,
  incompatible_features: [0x48, u64be],
  compatible_features: [0x50, u64be],
  autoclear_features: [0x58, u64be],
  refcount_order: [0x60, u32be],
  header_length: [0x64, u32be],
  compression_type: [0x68, u8],
});

export type Qcow2HeaderValue = ReturnType<typeof Qcow2HeaderV3.decode>;

/** A header extension: type, length, then `length` bytes padded to a multiple of 8. Type 0 ends the list. */
export const Qcow2ExtensionHeader = defineStruct('qcow2 header extension', 8, {
  type: [0x00, u32be],
  length: [0x04, u32be],
});

export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_NAMES = 0x6803f857;
export const EXT_BITMAPS = 0x23852875;
export const EXT_FULL_DISK_ENCRYPTION = 0x0537be77;
export const EXT_EXTERNAL_DATA_FILE = 0x44415441;

/** incompatible_features bits. */
export const INCOMPAT_DIRTY = 1n << 0n;
export const INCOMPAT_CORRUPT = 1n << 1n;
export const INCOMPAT_EXTERNAL_DATA = 1n << 2n;
export const INCOMPAT_COMPRESSION_TYPE = 1n << 3n;
export const INCOMPAT_EXTENDED_L2 = 1n << 4n;

export const COMPRESSION_DEFLATE = 0;
export const COMPRESSION_ZSTD = 1;

/** Entry bits shared by L1 and L2 entries. */
export const OFLAG_COPIED = 1n << 63n;
export const OFLAG_COMPRESSED = 1n << 62n;
/** Standard L2 entry bit 0 (version 3): the cluster reads as zeros. */
export const OFLAG_ZERO = 1n;
/** Bits 9-55 of an L1 entry or a standard L2 entry: the host offset. */
export const OFFSET_MASK = 0x00fffffffffffe00n;
/** L1 entry bits that must be zero (1-8, 56-62). */
export const L1_RESERVED = 0x7f000000000001fen;
/** Standard L2 entry bits that must be zero (1-8, 56-61). */
export const L2_RESERVED = 0x3f000000000001fen;

export const SECTOR = 512;

/** Entry `index` of an L1 table, an L2 table or the refcount table: each a big-endian u64. */
export const TABLE_ENTRY = u64be;
export function tableEntry(table: Uint8Array, index: number): bigint {
  return TABLE_ENTRY.read(table, index * TABLE_ENTRY.size);
}
export function setTableEntry(table: Uint8Array, index: number, value: bigint): void {
  TABLE_ENTRY.write(table, index * TABLE_ENTRY.size, value);
}

/** Compressed cluster descriptor (bit 62 set): x = 62 - (cluster_bits - 8). */
export function compressedFields(clusterBits: number): { offsetBits: number; sectorMask: number } {
  const offsetBits = 62 - (clusterBits - 8);
  return { offsetBits, sectorMask: (1 << (clusterBits - 8)) - 1 };
}

/** Encodes a compressed-cluster L2 entry for `length` bytes of compressed data at host byte `offset`. */
export function compressedEntry(clusterBits: number, offset: number, length: number): bigint {
  const { offsetBits } = compressedFields(clusterBits);
  const sectors = Math.ceil(((offset % SECTOR) + length) / SECTOR);
  return OFLAG_COMPRESSED | (BigInt(sectors - 1) << BigInt(offsetBits)) | BigInt(offset);
}

/** Decodes a compressed-cluster L2 entry into its host byte range (qemu's qcow2_parse_compressed_l2_entry). */
export function parseCompressedEntry(clusterBits: number, entry: bigint): { offset: number; length: number } {
  const { offsetBits, sectorMask } = compressedFields(clusterBits);
  const offset = Number(entry & ((1n << BigInt(offsetBits)) - 1n));
  const sectors = (Number((entry >> BigInt(offsetBits)) & BigInt(sectorMask))) + 1;
  return { offset, length: sectors * SECTOR - (offset % SECTOR) };
}
