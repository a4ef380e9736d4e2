/**
 * VHD writer (Microsoft's VHD specification 1.0): fixed (the disk, then the footer) and
 * dynamic (footer copy, dynamic header, BAT, then 2 MiB blocks each behind a 512-byte sector
 * bitmap, then the footer; blocks that read as zeros are never stored). Written in ascending
 * order. The creator application is "qem2": qemu takes the disk size from the footer's
 * current size only for creators it knows to mean it (Hyper-V "win ", "qem2", ...), else from
 * the CHS geometry, which rounds the size down; Hyper-V and Azure use the current size.
 */
import { isZero } from '../../binary/block-device.js';
import { blocksWithData, readBlocks, wholeSectors, type ByteSink, type ImageSource } from '../source.js';
import {
  DISK_TYPE_DYNAMIC, DISK_TYPE_FIXED, DYNAMIC_HEADER_SIZE, encodeWithChecksum, FOOTER_SIZE, NO_OFFSET, VHD_COOKIE, VHD_DYNAMIC_COOKIE,
  VHD_EPOCH, VhdDynamicHeader, VhdFooter, vhdGeometry,
} from './struct.js';

export interface VhdOptions {
  type: 'fixed' | 'dynamic';
  /** Seconds since 1970 for the footer's time stamp (SOURCE_DATE_EPOCH); default now. */
  time?: number;
  /** The footer's UniqueId (16 bytes; derive it from the build's seed for reproducible output). */
  uniqueId: Uint8Array;
  progress?: (done: number, total: number) => void;
}

const BLOCK = 2 << 20;

export function vhdFooter(size: number, o: VhdOptions): Uint8Array {
  const g = vhdGeometry(size);
  return encodeWithChecksum(VhdFooter, {
    Cookie: VHD_COOKIE, Features: 2, FileFormatVersion: 0x00010000,
    DataOffset: o.type === 'fixed' ? NO_OFFSET : BigInt(FOOTER_SIZE),
    TimeStamp: Math.max(0, Math.floor((o.time ?? Date.now() / 1000) - VHD_EPOCH)) >>> 0,
    CreatorApplication: 'qem2', CreatorVersion: 0x00050003, CreatorHostOS: 0x5769326b /* Wi2k */,
    OriginalSize: BigInt(size), CurrentSize: BigInt(size), Cylinders: g.cylinders, Heads: g.heads, SectorsPerTrack: g.sectors,
    DiskType: o.type === 'fixed' ? DISK_TYPE_FIXED : DISK_TYPE_DYNAMIC, Checksum: 0, UniqueId: o.uniqueId, SavedState: 0,
  });
}

export function writeVhd(input: ImageSource, out: ByteSink, o: VhdOptions): { length: number } {
  const src = wholeSectors(input);
  const size = src.size;
  const footer = vhdFooter(size, o);
  if (o.type === 'fixed') {
    // Only the data is written; the sink's file reads as zeros elsewhere.
    const blocks = blocksWithData(src, BLOCK);
    let k = 0;
    for (const [b, bytes] of readBlocks(src, blocks, BLOCK)) {
      const n = Math.min(BLOCK, size - b * BLOCK);
      if (!isZero(bytes, 0, n)) out.writeAt(b * BLOCK, bytes.subarray(0, n));
      if (++k % 64 === 0) o.progress?.(k, blocks.length);
    }
    out.writeAt(size, footer);
    return { length: size + FOOTER_SIZE };
  }
  const entries = Math.ceil(size / BLOCK);
  const batOffset = FOOTER_SIZE + DYNAMIC_HEADER_SIZE;
  const batBytes = Math.ceil((entries * 4) / 512) * 512;
  const header = encodeWithChecksum(VhdDynamicHeader, {
    Cookie: VHD_DYNAMIC_COOKIE, DataOffset: NO_OFFSET, TableOffset: BigInt(batOffset), HeaderVersion: 0x00010000, MaxTableEntries: entries,
    BlockSize: BLOCK, Checksum: 0, ParentUniqueId: new Uint8Array(16), ParentTimeStamp: 0, ParentUnicodeName: new Uint8Array(512),
  });
  // Plan: which blocks hold data (read once here, once to write; the page cache serves the second).
  const stored: number[] = [];
  for (const [b, bytes] of readBlocks(src, blocksWithData(src, BLOCK), BLOCK)) if (!isZero(bytes)) stored.push(b);
  const bat = new Uint8Array(batBytes).fill(0xff);
  const bv = new DataView(bat.buffer);
  const dataStart = batOffset + batBytes;
  const slot = 512 + BLOCK;
  stored.forEach((b, k) => bv.setUint32(b * 4, (dataStart + k * slot) / 512, false));
  out.writeAt(0, footer);
  out.writeAt(FOOTER_SIZE, header);
  out.writeAt(batOffset, bat);
  const bitmap = new Uint8Array(512).fill(0xff);
  let k = 0;
  for (const [, bytes] of readBlocks(src, stored, BLOCK)) {
    out.writeAt(dataStart + k * slot, bitmap);
    out.writeAt(dataStart + k * slot + 512, bytes);
    if (++k % 64 === 0) o.progress?.(k, stored.length);
  }
  const end = dataStart + stored.length * slot;
  out.writeAt(end, footer);
  return { length: end + FOOTER_SIZE };
}
