/**
 * Where an inode's data lives, for the ext4 reader: the extent tree (ifork.rst "Extent Tree":
 * header, index entries, leaf extents; an extent longer than 32768 is uninitialized and
 * reads as zeros) and the ext2/ext3 block map (ifork.rst "Direct/Indirect Block Addressing":
 * i_block[0..11] direct, [12] indirect, [13] double indirect, [14] triple indirect; a zero
 * pointer is a hole). Both become a sorted list of runs; reads fill holes with zeros.
 */
import { type BlockDevice, readInto } from '../../binary/block-device.js';
import { FormatError } from '../../errors.js';
import { BLOCK_MAP, EXTENT_MAGIC, EXTENT_MAX_DEPTH, EXTENT_MAX_LEN } from './constants.js';
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
  /** Byte offset of the filesystem in the image: errors report offsets in the image. */
  origin: number;
}

const HINT = 'the filesystem is damaged; run e2fsck -fn on it';

/** A FormatError at `at` bytes into the filesystem (undefined: no one place). */
export function fsError(src: { origin: number }, struct: string, field: string | undefined, at: number | undefined,
  expected: string, actual: string, hint = HINT): FormatError {
  return new FormatError({ struct, field, offset: at === undefined ? undefined : src.origin + at, expected, actual, hint });
}

/** Reads block `block`, named by a pointer at `ptrAt` (bytes into the filesystem). */
function readBlock(src: BlockSource, block: number, what: string, ptrAt: number): Uint8Array {
  if (block <= 0 || block >= src.blocksCount) throw fsError(src, what, undefined, ptrAt, `a block number below ${src.blocksCount}`, String(block));
  return src.dev.readAt(block * src.blockSize, src.blockSize);
}

/**
 * Runs of an extent-mapped inode; `root` is i_block (60 bytes), `rootAt` where it is (bytes
 * into the filesystem). Every header is checked (magic, entries <= max <= what the node holds,
 * depth one less than its parent's), every tree block is visited at most once (a loop or a
 * shared block is damage) and every extent must lie inside the filesystem, so the work is
 * bounded by the image, not by its numbers.
 */
export function extentRuns(src: BlockSource, root: Uint8Array, ino: number, rootAt: number): Run[] {
  const runs: Run[] = [];
  const seen = new Set<number>();
  let total = 0;
  const walk = (node: Uint8Array, where: string, nodeAt: number, depthWanted: number | undefined): void => {
    const h = ExtentHeader.decode(node);
    const what = `extent header of inode ${ino} (${where})`;
    const field = (f: keyof typeof ExtentHeader.fields & string) => nodeAt + ExtentHeader.offsetOf(f);
    if (h.eh_magic !== EXTENT_MAGIC) {
      throw fsError(src, what, 'eh_magic', field('eh_magic'), `magic 0x${EXTENT_MAGIC.toString(16)}`, `0x${h.eh_magic.toString(16)}`);
    }
    const room = (node.length - ExtentHeader.size) / Extent.size;
    if (h.eh_entries > h.eh_max || h.eh_max > room) {
      throw fsError(src, what, 'eh_entries', field('eh_entries'), `entries <= max <= ${Math.floor(room)}`, `${h.eh_entries} entries, max ${h.eh_max}`);
    }
    if (depthWanted === undefined ? h.eh_depth > EXTENT_MAX_DEPTH : h.eh_depth !== depthWanted) {
      throw fsError(src, what, 'eh_depth', field('eh_depth'), depthWanted === undefined ? `depth <= ${EXTENT_MAX_DEPTH}` : `depth ${depthWanted}`, String(h.eh_depth));
    }
    for (let i = 0; i < h.eh_entries; i++) {
      const off = ExtentHeader.size + i * Extent.size;
      if (h.eh_depth === 0) {
        const e = Extent.decode(node, off);
        const uninit = e.ee_len > EXTENT_MAX_LEN;
        const physical = e.ee_start_hi * 2 ** 32 + e.ee_start_lo;
        const length = uninit ? e.ee_len - EXTENT_MAX_LEN : e.ee_len;
        if (length === 0) continue;
        if (physical === 0 || physical + length > src.blocksCount) {
          throw fsError(src, `extent ${i} of inode ${ino} (${where})`, 'ee_start_lo', nodeAt + off + Extent.offsetOf('ee_start_lo'),
            `blocks inside the filesystem's ${src.blocksCount}`, `${length} blocks at ${physical}`);
        }
        total += length;
        if (total > src.blocksCount) {
          throw fsError(src, `extent ${i} of inode ${ino} (${where})`, 'ee_len', nodeAt + off + Extent.offsetOf('ee_len'),
            `extents covering at most the filesystem's ${src.blocksCount} blocks`, 'more');
        }
        runs.push({ logical: e.ee_block, physical, length, uninit });
      } else {
        const x = ExtentIndex.decode(node, off);
        const child = x.ei_leaf_hi * 2 ** 32 + x.ei_leaf_lo;
        const ptrAt = nodeAt + off + ExtentIndex.offsetOf('ei_leaf_lo');
        if (seen.has(child)) throw fsError(src, `extent index ${i} of inode ${ino} (${where})`, 'ei_leaf_lo', ptrAt, 'each tree block once', `block ${child} again`);
        seen.add(child);
        walk(readBlock(src, child, `extent index ${i} of inode ${ino} (${where})`, ptrAt), `block ${child}`, child * src.blockSize, h.eh_depth - 1);
      }
    }
  };
  walk(root, 'i_block', rootAt, undefined);
  runs.sort((a, b) => a.logical - b.logical);
  return runs;
}

/**
 * Runs of a block-mapped inode covering `nblocks` logical blocks; `iBlock` is i_block at
 * `iBlockAt` bytes into the filesystem. Data pointers must lie
 * inside the filesystem and no indirect block may appear twice, which bounds the work by the
 * number of blocks in the filesystem however large i_size claims to be.
 */
export function blockMapRuns(src: BlockSource, iBlock: Uint8Array, nblocks: number, ino: number, iBlockAt: number): Run[] {
  const runs: Run[] = [];
  const per = src.blockSize / 4;
  const seen = new Set<number>();
  let pointers = 0;
  const what = `block map of inode ${ino}`;
  const add = (logical: number, physical: number, ptrAt: number): void => {
    if (++pointers > src.blocksCount) throw fsError(src, what, undefined, ptrAt, `at most ${src.blocksCount} data blocks (the filesystem's size)`, 'more');
    const last = runs[runs.length - 1];
    if (last && last.logical + last.length === logical && last.physical + last.length === physical) last.length++;
    else runs.push({ logical, physical, length: 1, uninit: false });
  };
  const iv = new DataView(iBlock.buffer, iBlock.byteOffset, iBlock.length);
  // Walks the pointer at `ptrAt` (bytes into the filesystem) at `level` (0 = data block) covering logical blocks from `first`.
  const walk = (ptr: number, ptrAt: number, level: number, first: number): void => {
    if (first >= nblocks) return;
    if (ptr === 0) return; // hole
    if (ptr >= src.blocksCount) {
      throw fsError(src, what, undefined, ptrAt, `a block number below ${src.blocksCount}`,
        `${ptr} (${level === 0 ? 'data' : `indirect level ${level}`} block for logical block ${first})`);
    }
    if (level === 0) {
      add(first, ptr, ptrAt);
      return;
    }
    if (seen.has(ptr)) throw fsError(src, what, undefined, ptrAt, 'each indirect block once', `block ${ptr} again`);
    seen.add(ptr);
    const b = readBlock(src, ptr, `indirect block (level ${level}) of inode ${ino}`, ptrAt);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    const span = per ** (level - 1);
    const at = ptr * src.blockSize;
    for (let i = 0; i < per && first + i * span < nblocks; i++) walk(v.getUint32(i * 4, true), at + i * 4, level - 1, first + i * span);
  };
  const slot = (i: number): [number, number] => [iv.getUint32(i * 4, true), iBlockAt + i * 4];
  for (let i = 0; i < BLOCK_MAP.DIRECT; i++) walk(...slot(i), 0, i);
  walk(...slot(BLOCK_MAP.IND), 1, BLOCK_MAP.DIRECT);
  walk(...slot(BLOCK_MAP.DIND), 2, BLOCK_MAP.DIRECT + per);
  walk(...slot(BLOCK_MAP.TIND), 3, BLOCK_MAP.DIRECT + per + per * per);
  return runs;
}
/** Reads `length` bytes at byte `offset` of data mapped by `runs`; holes read as zeros. */
export function readRuns(src: BlockSource, runs: readonly Run[], offset: number, length: number): Uint8Array {
  if (length === 0) return new Uint8Array(0);
  const bs = src.blockSize;
  const lo = firstRun(runs, Math.floor(offset / bs));
  // One initialized run covering the whole range (the usual case for a kernel or an initrd):
  // the device's buffer is the answer, with no second copy.
  const only = runs[lo];
  if (only && !only.uninit && only.logical * bs <= offset && (only.logical + only.length) * bs >= offset + length) {
    return src.dev.readAt(physicalOf(src, only, offset, length), length);
  }
  const out = new Uint8Array(length);
  readRunsInto(src, runs, offset, out, lo);
  return out;
}

/** Fills `target` with the bytes at `offset` of data mapped by `runs` (holes and uninitialized extents read as zeros). */
export function readRunsInto(src: BlockSource, runs: readonly Run[], offset: number, target: Uint8Array, from?: number): void {
  const bs = src.blockSize;
  const end = offset + target.length;
  let filled = offset; // bytes before this are written
  for (let i = from ?? firstRun(runs, Math.floor(offset / bs)); i < runs.length; i++) {
    const r = runs[i]!;
    const rStart = r.logical * bs;
    const rEnd = (r.logical + r.length) * bs;
    if (rStart >= end) break;
    const s = Math.max(offset, rStart);
    const e = Math.min(end, rEnd);
    if (e <= s) continue;
    if (s > filled) target.fill(0, filled - offset, s - offset);
    if (r.uninit) target.fill(0, s - offset, e - offset);
    else readInto(src.dev, physicalOf(src, r, s, e - s), target.subarray(s - offset, e - offset));
    filled = Math.max(filled, e);
  }
  if (filled < end) target.fill(0, filled - offset);
}

/** Index of the first run that ends after logical block `block` (binary search). */
function firstRun(runs: readonly Run[], block: number): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (r.logical + r.length <= block) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Device byte offset of file byte `at` inside run `r`, checked: `length` bytes from there stay inside the filesystem. */
function physicalOf(src: BlockSource, r: Run, at: number, length: number): number {
  const phys = r.physical * src.blockSize + (at - r.logical * src.blockSize);
  if (phys + length > src.blocksCount * src.blockSize) {
    throw fsError(src, 'extent', undefined, undefined, `data inside the filesystem's ${src.blocksCount} blocks`, `a run reaching block ${r.physical + r.length}`);
  }
  return phys;
}
