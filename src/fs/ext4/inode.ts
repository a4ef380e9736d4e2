/**
 * The ext4 inode, 256 bytes with i_extra_isize 32 (Documentation/filesystems/ext4/inodes.rst),
 * its metadata_csum checksum, and the timestamp and device-number encodings the kernel uses.
 */
import { bytes, defineStruct, u16, u32, type StructValue } from '../../binary/struct.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import { INODE_SIZE } from './constants.js';

export const Inode = defineStruct('ext4 inode', INODE_SIZE, {
  i_mode: [0x00, u16],
  i_uid: [0x02, u16],
  i_size_lo: [0x04, u32],
  i_atime: [0x08, u32],
  i_ctime: [0x0c, u32],
  i_mtime: [0x10, u32],
  i_dtime: [0x14, u32],
  i_gid: [0x18, u16],
  i_links_count: [0x1a, u16],
  i_blocks_lo: [0x1c, u32],
  i_flags: [0x20, u32],
  l_i_version: [0x24, u32],
  /** 60 bytes: extent tree root, fast symlink target, or device numbers. */
  i_block: [0x28, bytes(60)],
  i_generation: [0x64, u32],
  i_file_acl_lo: [0x68, u32],
  i_size_high: [0x6c, u32],
  i_obso_faddr: [0x70, u32],
  l_i_blocks_high: [0x74, u16],
  l_i_file_acl_high: [0x76, u16],
  l_i_uid_high: [0x78, u16],
  l_i_gid_high: [0x7a, u16],
  l_i_checksum_lo: [0x7c, u16],
  l_i_reserved: [0x7e, u16],
  i_extra_isize: [0x80, u16],
  i_checksum_hi: [0x82, u16],
  i_ctime_extra: [0x84, u32],
  i_mtime_extra: [0x88, u32],
  i_atime_extra: [0x8c, u32],
  i_crtime: [0x90, u32],
  i_crtime_extra: [0x94, u32],
  i_version_hi: [0x98, u32],
  i_projid: [0x9c, u32],
  /** In-inode extended attributes (magic + entries + values) and free space. */
  i_xattr_area: [0xa0, bytes(INODE_SIZE - 0xa0)],
});

export type InodeValue = StructValue<typeof Inode.fields>;

/** Per-inode checksum seed: crc32c(crc32c(fsSeed, le32 ino), le32 generation). */
export function inodeChecksumSeed(fsSeed: number, ino: number, generation: number): number {
  SEED_VIEW.setUint32(0, ino, true);
  SEED_VIEW.setUint32(4, generation, true);
  return crc32cRaw(crc32cRaw(fsSeed, SEED_INO), SEED_GEN);
}
const SEED_BYTES = new Uint8Array(8);
const SEED_VIEW = new DataView(SEED_BYTES.buffer);
const SEED_INO = SEED_BYTES.subarray(0, 4);
const SEED_GEN = SEED_BYTES.subarray(4, 8);

/** Patches l_i_checksum_lo / i_checksum_hi of the raw inode at `offset` (checksum over the whole inode). */
export function patchInodeChecksum(fsSeed: number, ino: number, raw: Uint8Array, offset = 0): void {
  const v = new DataView(raw.buffer, raw.byteOffset + offset, INODE_SIZE);
  const lo = Inode.offsetOf('l_i_checksum_lo');
  const hi = Inode.offsetOf('i_checksum_hi');
  // i_checksum_hi exists only when i_extra_isize covers it (mke2fs's bad-blocks inode has 0).
  const hasHi = v.getUint16(Inode.offsetOf('i_extra_isize'), true) >= hi + 2 - 128;
  v.setUint16(lo, 0, true);
  if (hasHi) v.setUint16(hi, 0, true);
  const gen = v.getUint32(Inode.offsetOf('i_generation'), true);
  const c = crc32cRaw(inodeChecksumSeed(fsSeed, ino, gen), raw.subarray(offset, offset + INODE_SIZE));
  v.setUint16(lo, c & 0xffff, true);
  if (hasHi) v.setUint16(hi, c >>> 16, true);
}

/** Seconds (may exceed 32 bits, may be negative) and nanoseconds as the 32-bit field plus its _extra word. */
export function encodeTime(sec: number, nsec: number): { lo: number; extra: number } {
  const lo = ((sec % 2 ** 32) + 2 ** 32) % 2 ** 32;
  const signedLo = lo >= 2 ** 31 ? lo - 2 ** 32 : lo;
  const epoch = Math.round((sec - signedLo) / 2 ** 32) & 3;
  return { lo, extra: ((nsec << 2) | epoch) >>> 0 };
}

export function decodeTime(lo: number, extra: number): { sec: number; nsec: number } {
  const signedLo = lo >= 2 ** 31 ? lo - 2 ** 32 : lo;
  return { sec: signedLo + (extra & 3) * 2 ** 32, nsec: extra >>> 2 };
}

/**
 * Device numbers in i_block as the kernel stores them: the old 8:8 encoding in word 0 when both
 * fit a byte, else word 0 = 0 and the new encoding (minor low byte, major, minor high bits) in word 1.
 */
export function encodeDevice(major: number, minor: number): Uint8Array {
  const b = new Uint8Array(60);
  const v = new DataView(b.buffer);
  if (major < 256 && minor < 256) v.setUint32(0, (major << 8) | minor, true);
  else v.setUint32(4, ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0, true);
  return b;
}

export function decodeDevice(iBlock: Uint8Array): { major: number; minor: number } {
  const v = new DataView(iBlock.buffer, iBlock.byteOffset, 60);
  const old = v.getUint32(0, true);
  if (old !== 0) return { major: (old >>> 8) & 0xff, minor: old & 0xff };
  const n = v.getUint32(4, true);
  return { major: (n >>> 8) & 0xfff, minor: (n & 0xff) | ((n >>> 12) & 0xfff00) };
}
