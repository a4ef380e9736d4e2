/**
 * Extended attribute structures (Documentation/filesystems/ext4/attributes.rst): the 32-byte
 * header of an xattr block, the 4-byte magic of the in-inode area, and the 16-byte entry header
 * (name follows, padded to 4). Also the name-index prefixes and the entry/block hashes.
 */
import { defineStruct, u8, u16, u32 } from '../../binary/struct.js';

export const XattrBlockHeader = defineStruct('ext4_xattr_header', 32, {
  h_magic: [0x00, u32],
  h_refcount: [0x04, u32],
  h_blocks: [0x08, u32],
  h_hash: [0x0c, u32],
  h_checksum: [0x10, u32],
  h_reserved0: [0x14, u32],
  h_reserved1: [0x18, u32],
  h_reserved2: [0x1c, u32],
});

export const XattrIbodyHeader = defineStruct('ext4_xattr_ibody_header', 4, {
  h_magic: [0x0, u32],
});

export const XattrEntry = defineStruct('ext4_xattr_entry', 16, {
  e_name_len: [0x0, u8],
  e_name_index: [0x1, u8],
  /** Offset of the value: from the first entry (in-inode) or from the block start. */
  e_value_offs: [0x2, u16],
  e_value_inum: [0x4, u32],
  e_value_size: [0x8, u32],
  e_hash: [0xc, u32],
});

/** Name prefixes by index; longest prefix first within a namespace (exact 'system.posix_acl_*' names). */
export const XATTR_PREFIXES: readonly (readonly [prefix: string, index: number])[] = [
  ['system.posix_acl_access', 2],
  ['system.posix_acl_default', 3],
  ['user.', 1],
  ['trusted.', 4],
  ['security.', 6],
  ['system.', 7],
];

export function xattrEntrySize(nameLen: number): number {
  return (16 + nameLen + 3) & ~3;
}

/** ext4_xattr_hash_entry: name bytes then the value as little-endian words (zero-padded). */
export function xattrEntryHash(name: Uint8Array, value: Uint8Array): number {
  let h = 0;
  for (const c of name) h = ((h << 5) ^ (h >>> 27) ^ c) >>> 0;
  const words = Math.ceil(value.length / 4);
  for (let i = 0; i < words; i++) {
    const w =
      (value[4 * i] ?? 0) | ((value[4 * i + 1] ?? 0) << 8) | ((value[4 * i + 2] ?? 0) << 16) | ((value[4 * i + 3] ?? 0) << 24);
    h = ((h << 16) ^ (h >>> 16) ^ (w >>> 0)) >>> 0;
  }
  return h >>> 0;
}

/** ext4_xattr_rehash: the block hash from the entry hashes in order. */
export function xattrBlockHash(entryHashes: readonly number[]): number {
  let h = 0;
  for (const e of entryHashes) {
    if (e === 0) return 0;
    h = ((h << 16) ^ (h >>> 16) ^ e) >>> 0;
  }
  return h >>> 0;
}
