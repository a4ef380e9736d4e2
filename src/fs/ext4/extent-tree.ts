/**
 * Builds a file's extent tree (Documentation/filesystems/ext4/ifork.rst): up to 4 extents sit
 * in i_block (depth 0); more go to leaf blocks of 340 extents indexed from i_block, with further
 * index levels as needed. Every tree block ends with crc32c(inode seed, block up to the tail).
 */
import { InternalError } from '../../errors.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import { BLOCK_SIZE, EXTENT_MAGIC } from './constants.js';
import { Extent, ExtentHeader, ExtentIndex, ExtentTail } from './extent.js';

/** Where entry `i` of a tree node starts (index entries and extents are both 12 bytes). */
const entryAt = (i: number) => ExtentHeader.size + Extent.size * i;

export interface FileExtent {
  /** First logical block. */
  logical: number;
  physical: number;
  len: number;
}

const ROOT_MAX = 4;
const BLOCK_MAX = (BLOCK_SIZE - ExtentHeader.size - ExtentTail.size) / Extent.size; // 340

interface Node {
  firstLogical: number;
  physical: number;
}

export interface BuiltExtentTree {
  iBlock: Uint8Array;
  /** Tree blocks to write: [physical block, content]. */
  blocks: [number, Uint8Array][];
}

// Field offsets of the extent structs, for the field-by-field writes below (hot: every file
// has an extent root). Each target is fresh (zeroed), so fields left out stay zero.
const H_MAGIC = ExtentHeader.offsetOf('eh_magic');
const H_ENTRIES = ExtentHeader.offsetOf('eh_entries');
const H_MAX = ExtentHeader.offsetOf('eh_max');
const H_DEPTH = ExtentHeader.offsetOf('eh_depth');
const X_BLOCK = Extent.offsetOf('ee_block');
const X_LEN = Extent.offsetOf('ee_len');
const X_START_HI = Extent.offsetOf('ee_start_hi');
const X_START_LO = Extent.offsetOf('ee_start_lo');
const I_BLOCK = ExtentIndex.offsetOf('ei_block');
const I_LEAF_LO = ExtentIndex.offsetOf('ei_leaf_lo');
const I_LEAF_HI = ExtentIndex.offsetOf('ei_leaf_hi');

function u16(v: number, what: string): number {
  if (!(v >= 0 && v <= 0xffff)) throw new InternalError(`extent tree: ${what} ${v} does not fit 16 bits`);
  return v;
}

function header(entries: number, max: number, depth: number, v: DataView): void {
  v.setUint16(H_MAGIC, EXTENT_MAGIC, true);
  v.setUint16(H_ENTRIES, entries, true);
  v.setUint16(H_MAX, max, true);
  v.setUint16(H_DEPTH, depth, true);
}

function putExtent(e: FileExtent, v: DataView, off: number): void {
  v.setUint32(off + X_BLOCK, e.logical, true);
  v.setUint16(off + X_LEN, u16(e.len, 'ee_len'), true);
  v.setUint16(off + X_START_HI, u16(Math.floor(e.physical / 2 ** 32), 'ee_start_hi'), true);
  v.setUint32(off + X_START_LO, e.physical >>> 0, true);
}

function putIndex(n: Node, v: DataView, off: number): void {
  v.setUint32(off + I_BLOCK, n.firstLogical, true);
  v.setUint32(off + I_LEAF_LO, n.physical >>> 0, true);
  v.setUint16(off + I_LEAF_HI, u16(Math.floor(n.physical / 2 ** 32), 'ei_leaf_hi'), true);
}

/** Blocks the tree needs beyond i_block for `n` extents. */
export function extentTreeBlocks(n: number): number {
  let total = 0;
  let level = n;
  while (level > ROOT_MAX) {
    level = Math.ceil(level / BLOCK_MAX);
    total += level;
  }
  return total;
}

/**
 * @param allocate gives a physical block for each tree block (called extentTreeBlocks(n) times)
 * @param inodeSeed the per-inode checksum seed
 */
export function buildExtentTree(extents: FileExtent[], allocate: () => number, inodeSeed: number): BuiltExtentTree {
  const iBlock = new Uint8Array(60);
  const iv = new DataView(iBlock.buffer);
  const blocks: [number, Uint8Array][] = [];
  const seal = (b: Uint8Array, max: number) => {
    const at = entryAt(max);
    ExtentTail.encode({ et_checksum: crc32cRaw(inodeSeed, b.subarray(0, at)) }, b, at);
  };
  if (extents.length <= ROOT_MAX) {
    header(extents.length, ROOT_MAX, 0, iv);
    for (let i = 0; i < extents.length; i++) putExtent(extents[i]!, iv, entryAt(i));
    return { iBlock, blocks };
  }
  // Leaves.
  let nodes: Node[] = [];
  for (let i = 0; i < extents.length; i += BLOCK_MAX) {
    const chunk = extents.slice(i, i + BLOCK_MAX);
    const b = new Uint8Array(BLOCK_SIZE);
    const bv = new DataView(b.buffer);
    header(chunk.length, BLOCK_MAX, 0, bv);
    chunk.forEach((e, k) => putExtent(e, bv, entryAt(k)));
    seal(b, BLOCK_MAX);
    const phys = allocate();
    blocks.push([phys, b]);
    nodes.push({ firstLogical: chunk[0]!.logical, physical: phys });
  }
  let depth = 1;
  while (nodes.length > ROOT_MAX) {
    const up: Node[] = [];
    for (let i = 0; i < nodes.length; i += BLOCK_MAX) {
      const chunk = nodes.slice(i, i + BLOCK_MAX);
      const b = new Uint8Array(BLOCK_SIZE);
      const bv = new DataView(b.buffer);
      header(chunk.length, BLOCK_MAX, depth, bv);
      chunk.forEach((n, k) => putIndex(n, bv, entryAt(k)));
      seal(b, BLOCK_MAX);
      const phys = allocate();
      blocks.push([phys, b]);
      up.push({ firstLogical: chunk[0]!.firstLogical, physical: phys });
    }
    nodes = up;
    depth++;
  }
  header(nodes.length, ROOT_MAX, depth, iv);
  nodes.forEach((n, k) => putIndex(n, iv, entryAt(k)));
  return { iBlock, blocks };
}

/** Extents from (logical, physical) block runs, merging neighbours and splitting at 32768 blocks. */
export function appendRun(list: FileExtent[], logical: number, physical: number, len: number): void {
  while (len > 0) {
    const last = list[list.length - 1];
    if (last && last.logical + last.len === logical && last.physical + last.len === physical && last.len < 32768) {
      const add = Math.min(len, 32768 - last.len);
      last.len += add;
      logical += add;
      physical += add;
      len -= add;
      continue;
    }
    const n = Math.min(len, 32768);
    list.push({ logical, physical, len: n });
    logical += n;
    physical += n;
    len -= n;
  }
}
