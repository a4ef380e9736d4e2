/**
 * Cylinder/head/sector addresses in MBR partition entries (3 bytes: head; sector in bits 0-5
 * with cylinder bits 8-9 in bits 6-7; cylinder bits 0-7). Image files have no real geometry;
 * sfdisk and sgdisk both use 255 heads x 63 sectors per track for an image file, DIB's own
 * writer used 254 heads. Addresses past cylinder 1023 cannot be expressed: sfdisk writes
 * head = heads-1, sector 63, cylinder 1023 (fe ff ff), sgdisk's protective MBR writes ff ff ff.
 */

export interface ChsGeometry {
  heads: number;
  sectorsPerTrack: number;
}

/** What sfdisk and sgdisk use for an image file (found by experiment, util-linux 2.38, gdisk 1.0.9). */
export const IMAGE_FILE_GEOMETRY: ChsGeometry = { heads: 255, sectorsPerTrack: 63 };
/** What diskimage-builder's own MBR writer used. */
export const DIB_GEOMETRY: ChsGeometry = { heads: 254, sectorsPerTrack: 63 };

/** How to fill an address past cylinder 1023: 'max-chs' = fe ff ff (sfdisk), 'all-ones' = ff ff ff (sgdisk). */
export type ChsOverflow = 'max-chs' | 'all-ones';

export function encodeChs(lba: bigint, g: ChsGeometry = IMAGE_FILE_GEOMETRY, overflow: ChsOverflow = 'max-chs'): Uint8Array {
  const spt = BigInt(g.sectorsPerTrack);
  const heads = BigInt(g.heads);
  const cyl = lba / (spt * heads);
  if (cyl > 1023n) {
    return overflow === 'all-ones' ? new Uint8Array([0xff, 0xff, 0xff]) : new Uint8Array([g.heads - 1, 0xff, 0xff]);
  }
  const head = Number((lba / spt) % heads);
  const sector = Number(lba % spt) + 1;
  const c = Number(cyl);
  return new Uint8Array([head, sector | ((c >> 2) & 0xc0), c & 0xff]);
}

export function decodeChs(b: Uint8Array): { cylinder: number; head: number; sector: number } {
  return { head: b[0]!, sector: b[1]! & 0x3f, cylinder: ((b[1]! & 0xc0) << 2) | b[2]! };
}
