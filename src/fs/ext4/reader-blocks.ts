/**
 * Where an inode's data lives, for the ext4 reader: the extent tree (ifork.rst "Extent Tree":
 * header, index entries, leaf extents; an extent longer than 32768 is uninitialized and
 * reads as zeros) and the ext2/ext3 block map (ifork.rst "Direct/Indirect Block Addressing":
 * i_block[0..11] direct, [12] indirect, [13] double indirect, [14] triple indirect; a zero
 * pointer is a hole). Both become a sorted list of runs; reads fill holes with zeros.
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { FormatError } from '../../errors.js';
import { EXTENT_MAGIC, EXTENT_MAX_LEN } from './constants.js';
import { Extent, ExtentHeader, ExtentIndex } from './extent.js';

/** `length` blocks from logical block `logical` at physical block `physical`. */
export interface Run {
  logical: number;
  physical: number;
  length: number;
  /** Allocated but never written: reads as zeros. */
  uninit: boolean;
}

export interface BlockSource {
  dev: BlockDevice;
  blockSize: number;
  blocksCount: number;
}

function readBlock(src: BlockSource, block: number, what: string): Uint8Array {
  if (block <= 0 || block >= src.blocksCount) {
    throw new FormatError(what, block * src.blockSize, `a block number below ${src.blocksCount}`, String(block),
      'the filesystem is damaged; run e2fsck -fn on it');
  }
  return src.dev.readAt(block * src.blockSize, src.blockSize);
}

/** Runs of an extent-mapped inode; `root` is i_block (60 bytes). */
export function extentRuns(src: BlockSource, root: Uint8Array, ino: number): Run[] {
  const runs: Run[] = [];
  const walk = (node: Uint8Array, where: string, depthLeft: number): void => {
    const h = ExtentHeader.decode(node);
    if (h.eh_magic !== EXTENT_MAGIC) {
      throw new FormatError(`extent header of inode ${ino} (${where})`, 0, `magic 0x${EXTENT_MAGIC.toString(16)}`,
        `0x${h.eh_magic.toString(16)}`, 'the filesystem is damaged; run e2fsck -fn on it');
    }
    if (12 + h.eh_entries * 12 > node.length || h.eh_depth > depthLeft) {
      throw new FormatError(`extent header of inode ${ino} (${where})`, 0, `at most ${(node.length - 12) / 12} entries and depth ${depthLeft}`,
        `${h.eh_entries} entries, depth ${h.eh_depth}`);
    }
    for (let i = 0; i < h.eh_entries; i++) {
      const off = 12 + i * 12;
      if (h.eh_depth === 0) {
        const e = Extent.decode(node, off);
        const uninit = e.ee_len > EXTENT_MAX_LEN;
        runs.push({
          logical: e.ee_block,
          physical: e.ee_start_hi * 2 ** 32 + e.ee_start_lo,
          length: uninit ? e.ee_len - EXTENT_MAX_LEN : e.ee_len,
          uninit,
        });
      } else {
        const x = ExtentIndex.decode(node, off);
        const child = x.ei_leaf_hi * 2 ** 32 + x.ei_leaf_lo;
        walk(readBlock(src, child, `extent block of inode ${ino}`), `block ${child}`, h.eh_depth - 1);
      }
    }
  };
  walk(root, 'i_block', 5);
  runs.sort((a, b) => a.logical - b.logical);
  return runs;
}

/** Runs of a block-mapped inode covering `nblocks` logical blocks. */
export function blockMapRuns(src: BlockSource, iBlock: Uint8Array, nblocks: number, ino: number): Run[] {
  const runs: Run[] = [];
  const per = src.blockSize / 4;
  const add = (logical: number, physical: number): void => {
    const last = runs[runs.length - 1];
    if (last && last.logical + last.length === logical && last.physical + last.length === physical) last.length++;
    else runs.push({ logical, physical, length: 1, uninit: false });
  };
  const iv = new DataView(iBlock.buffer, iBlock.byteOffset, 60);
  // Walks one pointer at `level` (0 = data block) covering logical blocks from `first`.
  const walk = (ptr: number, level: number, first: number): void => {
    if (first >= nblocks) return;
    if (ptr === 0) return; // hole
    if (level === 0) {
      add(first, ptr);
      return;
    }
    const b = readBlock(src, ptr, `indirect block (level ${level}) of inode ${ino}`);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const span = per ** (level - 1);
    for (let i = 0; i < per && first + i * span < nblocks; i++) walk(v.getUint32(i * 4, true), level - 1, first + i * span);
  };
  for (let i = 0; i < 12; i++) walk(iv.getUint32(i * 4, true), 0, i);
  walk(iv.getUint32(48, true), 1, 12);
  walk(iv.getUint32(52, true), 2, 12 + per);
  walk(iv.getUint32(56, true), 3, 12 + per + per * per);
  return runs;
}

/** Reads `length` bytes at byte `offset` of data mapped by `runs`; holes read as zeros. */
export function readRuns(src: BlockSource, runs: readonly Run[], offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  const bs = src.blockSize;
  const firstBlock = Math.floor(offset / bs);
  // Binary search for the first run that ends after firstBlock.
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (r.logical + r.length <= firstBlock) lo = mid + 1;
    else hi = mid;
  }
  const end = offset + length;
  for (let i = lo; i < runs.length; i++) {
    const r = runs[i]!;
    const rStart = r.logical * bs;
    const rEnd = (r.logical + r.length) * bs;
    if (rStart >= end) break;
    if (r.uninit) continue;
    const s = Math.max(offset, rStart);
    const e = Math.min(end, rEnd);
    if (e <= s) continue;
    const phys = r.physical * bs + (s - rStart);
    if (phys + (e - s) > src.blocksCount * bs) {
      throw new FormatError('extent', phys, `data inside the filesystem's ${src.blocksCount} blocks`, `a run reaching block ${r.physical + r.length}`);
    }
    out.set(src.dev.readAt(phys, e - s), s - offset);
  }
  return out;
}
