/**
 * The on-disk structures of VHD ("Virtual Hard Disk Image Format Specification", Microsoft,
 * version 1.0, 2006): the 512-byte footer (at the end of every VHD, and copied at the start
 * of a dynamic one) and the 1024-byte dynamic disk header, both big-endian, with their
 * one's-complement checksums, and the CHS geometry algorithm from the spec's appendix.
 */
import { ascii, bytes, defineStruct, u16be, u32be, u64be, u8 } from '../../binary/struct.js';

/** The footer's Cookie and the dynamic header's. */
export const VHD_COOKIE = 'conectix';
export const VHD_DYNAMIC_COOKIE = 'cxsparse';
export const FOOTER_SIZE = 512;
export const DYNAMIC_HEADER_SIZE = 1024;
export const DISK_TYPE_FIXED = 2;
export const DISK_TYPE_DYNAMIC = 3;
export const NO_OFFSET = 0xffffffffffffffffn;
export const BAT_UNUSED = 0xffffffff;
/** Seconds between 1970-01-01 and 2000-01-01, the VHD epoch. */
export const VHD_EPOCH = 946684800;

export const VhdFooter = defineStruct('VHD footer', FOOTER_SIZE, {
  Cookie: [0x00, ascii(8)],
  Features: [0x08, u32be],
  FileFormatVersion: [0x0c, u32be],
  DataOffset: [0x10, u64be],
  TimeStamp: [0x18, u32be],
  CreatorApplication: [0x1c, ascii(4)],
  CreatorVersion: [0x20, u32be],
  CreatorHostOS: [0x24, u32be],
  OriginalSize: [0x28, u64be],
  CurrentSize: [0x30, u64be],
  Cylinders: [0x38, u16be],
  Heads: [0x3a, u8],
  SectorsPerTrack: [0x3b, u8],
  DiskType: [0x3c, u32be],
  Checksum: [0x40, u32be],
  UniqueId: [0x44, bytes(16)],
  SavedState: [0x54, u8],
});

export const VhdDynamicHeader = defineStruct('VHD dynamic disk header', DYNAMIC_HEADER_SIZE, {
  Cookie: [0x00, ascii(8)],
  DataOffset: [0x08, u64be],
  TableOffset: [0x10, u64be],
  HeaderVersion: [0x18, u32be],
  MaxTableEntries: [0x1c, u32be],
  BlockSize: [0x20, u32be],
  Checksum: [0x24, u32be],
  ParentUniqueId: [0x28, bytes(16)],
  ParentTimeStamp: [0x38, u32be],
  ParentUnicodeName: [0x40, bytes(512)],
});

/** The spec's checksum: the one's complement of the byte sum, with the checksum field taken as zero. */
export function vhdChecksum(buf: Uint8Array, checksumAt: number): number {
  let sum = 0;
  for (let i = 0; i < buf.length; i++) if (i < checksumAt || i >= checksumAt + 4) sum += buf[i]!;
  return ~sum >>> 0;
}

/** Encodes `value` of `struct` (footer or dynamic header) with its Checksum field computed over the rest. */
export function encodeWithChecksum<S extends typeof VhdFooter | typeof VhdDynamicHeader>(struct: S, value: Parameters<S['encode']>[0]): Uint8Array {
  const buf = (struct.encode as (v: typeof value) => Uint8Array)(value);
  const at = struct.offsetOf('Checksum');
  (struct.writeField as (b: Uint8Array, f: 'Checksum', v: number) => void)(buf, 'Checksum', vhdChecksum(buf, at));
  return buf;
}

/** CHS geometry for a disk of `size` bytes (the spec's appendix algorithm). */
export function vhdGeometry(size: number): { cylinders: number; heads: number; sectors: number } {
  let total = Math.floor(size / 512);
  if (total > 65535 * 16 * 255) total = 65535 * 16 * 255;
  let spt: number;
  let heads: number;
  let cth: number;
  if (total >= 65535 * 16 * 63) {
    spt = 255;
    heads = 16;
    cth = Math.floor(total / spt);
  } else {
    spt = 17;
    cth = Math.floor(total / spt);
    heads = Math.max(4, Math.floor((cth + 1023) / 1024));
    if (cth >= heads * 1024 || heads > 16) {
      spt = 31;
      heads = 16;
      cth = Math.floor(total / spt);
    }
    if (cth >= heads * 1024) {
      spt = 63;
      heads = 16;
      cth = Math.floor(total / spt);
    }
  }
  return { cylinders: Math.floor(cth / heads), heads, sectors: spt };
}
