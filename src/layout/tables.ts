/**
 * Sector arithmetic of partition tables, as DIB lays them out.
 *  - MBR (DIB's own writer, diskimage_builder/block_device/level1/mbr.py): the first partition
 *    starts one alignment unit in; primaries follow each other, each start rounded up to the
 *    alignment and each end padded to it. The first non-primary partition opens ONE extended
 *    partition (type 0x0f) that starts at the next free aligned sector and runs to the end of
 *    the disk; each logical partition is preceded by its EBR (at the aligned sector before it)
 *    and starts one alignment unit after that EBR. A '%' size is taken of DIB's "free" space:
 *    disk - (next free sector + one alignment unit).
 *  - GPT (DIB drives sgdisk): '%' sizes are taken of the disk minus 2 MiB, less what earlier
 *    partitions took; sizes are floored to whole alignment units (DIB: whole MiB); each
 *    partition starts at the first aligned sector after the previous one. Usable sectors per
 *    UEFI 2.10 section 5.3: after the protective MBR, header and 16 KiB entry array, and before
 *    the backup array and header.
 * Everything here is pure: numbers in, sector ranges out, or a LayoutError naming the partition.
 */
import { LayoutError } from '../errors.js';
import { formatSize, resolveSize } from './size.js';
import type { PartitioningNode } from './parse.js';
import { alignUp } from '../binary/align.js';

/** A partition does not fit the disk; `needed` is how many more bytes the disk would need. */
export class LayoutDoesNotFitError extends LayoutError {
  constructor(node: string, message: string, readonly needed: number, hint?: string) {
    super(node, message, hint);
    this.name = 'LayoutDoesNotFitError';
  }
}

export interface SectorRange {
  number: number;
  /** The partition node's name, or undefined for the MBR extended partition. */
  node?: string;
  firstLba: bigint;
  lastLba: bigint;
  role: 'primary' | 'extended' | 'logical';
  /** Logical partitions: the sector of the EBR that describes it. */
  ebrLba?: bigint;
}

const GPT_ENTRY_ARRAY_BYTES = 128 * 128;

export function gptUsableRange(diskSize: number, sectorSize: number): { first: number; last: number } {
  const arraySectors = Math.ceil(GPT_ENTRY_ARRAY_BYTES / sectorSize);
  const total = diskSize / sectorSize;
  return { first: 2 + arraySectors, last: total - 2 - arraySectors };
}

function alignUnit(p: PartitioningNode, sectorSize: number): number {
  if (p.align < sectorSize || p.align % sectorSize !== 0) {
    throw new LayoutError(p.name, `align ${p.align} is not a whole multiple of the ${sectorSize}-byte sector`,
      "use a power of two such as '1MiB' (the default)");
  }
  return p.align / sectorSize;
}

function doesNotFit(node: string, size: number, first: number, last: number, limit: number, sectorSize: number): never {
  const neededBytes = (last - limit) * sectorSize;
  throw new LayoutDoesNotFitError(node,
    `does not fit: it needs ${formatSize(size)} (sectors ${first}-${last}) but the space for partitions ends at sector ${limit}; ` +
    `the disk is ${formatSize(neededBytes)} (${neededBytes} bytes) too small for it`, neededBytes,
    'make the image larger (--size) or the partition smaller');
}

function tooSmall(node: string, size: number, unit: number): never {
  throw new LayoutDoesNotFitError(node, `its size comes to ${size} bytes, less than one ${formatSize(unit)} unit`, unit,
    'give it a larger size, or make the image larger if its size is a percentage');
}

export function planMbrSectors(p: PartitioningNode, diskSize: number, sectorSize: number): SectorRange[] {
  const align = alignUnit(p, sectorSize);
  const total = diskSize / sectorSize;
  const up = (s: number) => alignUp(s, align);
  let nextFree = up(1);
  let primaries = 0;
  let logical = 0;
  const out: SectorRange[] = [];
  const MAX32 = 2 ** 32;
  for (const part of p.partitions) {
    const free = diskSize - (nextFree + align) * sectorSize;
    const size = resolveSize(part.size, Math.max(0, free));
    const length = Math.floor(size / sectorSize);
    if (length < 1) tooSmall(part.name, size, sectorSize);
    let first: number;
    let number: number;
    if (part.flags.includes('primary')) {
      if (logical > 0) throw new LayoutError(part.name, 'a primary partition cannot follow logical partitions', "list every partition flagged 'primary' before the others");
      if (primaries === 4) throw new LayoutError(part.name, 'an MBR holds at most 4 primary partitions and this would be the 5th', "drop 'primary' from some partitions: they become logical partitions");
      first = up(nextFree);
      number = ++primaries;
      out.push({ number, node: part.name, firstLba: BigInt(first), lastLba: BigInt(first + length - 1), role: 'primary' });
    } else {
      if (logical === 0) {
        if (primaries === 4) throw new LayoutError(part.name, 'it would be a logical partition but all 4 MBR slots are taken by primaries, leaving none for the extended partition', "drop 'primary' from the last primary partition");
        out.push({ number: primaries + 1, firstLba: BigInt(nextFree), lastLba: BigInt(total - 1), role: 'extended' });
      }
      const ebr = nextFree;
      first = up(ebr + 1);
      number = 5 + logical++;
      out.push({ number, node: part.name, firstLba: BigInt(first), lastLba: BigInt(first + length - 1), role: 'logical', ebrLba: BigInt(ebr) });
    }
    const last = first + length - 1;
    if (last > total - 1) doesNotFit(part.name, size, first, last, total - 1, sectorSize);
    if (first + length > MAX32) {
      throw new LayoutError(part.name, `it ends at sector ${last}, beyond the 2^32 sectors an MBR can address`, "use 'label: gpt' for disks this large");
    }
    nextFree = up(first + length);
  }
  return out;
}

export function planGptSectors(p: PartitioningNode, diskSize: number, sectorSize: number): SectorRange[] {
  const align = alignUnit(p, sectorSize);
  const { first: firstUsable, last: lastUsable } = gptUsableRange(diskSize, sectorSize);
  const up = (s: number) => alignUp(s, align);
  // DIB: "This padding gives us a little room for rounding so we don't go over the end of the disk".
  let dibFree = diskSize - 2 * 1024 * 1024;
  let next = firstUsable;
  const out: SectorRange[] = [];
  p.partitions.forEach((part, i) => {
    const first = up(next);
    const avail = (lastUsable + 1 - first) * sectorSize;
    const size = resolveSize(part.size, Math.max(0, Math.min(dibFree, avail)));
    const length = Math.floor(size / p.align) * align;
    if (length < 1) tooSmall(part.name, size, p.align);
    const last = first + length - 1;
    if (last > lastUsable) doesNotFit(part.name, size, first, last, lastUsable, sectorSize);
    out.push({ number: i + 1, node: part.name, firstLba: BigInt(first), lastLba: BigInt(last), role: 'primary' });
    dibFree -= size;
    next = last + 1;
  });
  if (out.length > 128) throw new LayoutError(p.name, `a GPT holds at most 128 partitions but the layout has ${out.length}`);
  return out;
}
