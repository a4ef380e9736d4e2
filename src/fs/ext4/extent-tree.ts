/**
 * Builds a file's extent tree (Documentation/filesystems/ext4/ifork.rst): up to 4 extents sit
 * in i_block (depth 0); more go to leaf blocks of 340 extents indexed from i_block, with further
 * index levels as needed. Every tree block ends with crc32c(inode seed, block up to the tail).
 */
import { crc32cRaw } from '../../binary/crc32c.js';
import { BLOCK_SIZE, EXTENT_MAGIC } from './constants.js';
import { Extent, ExtentHeader, ExtentIndex } from './extent.js';

export interface FileExtent {
  /** First logical block. */
  logical: number;
  physical: number;
  len: number;
}

const ROOT_MAX = 4;
const BLOCK_MAX = (BLOCK_SIZE - 12 - 4) / 12; // 340

interface Node {
  firstLogical: number;
  physical: number;
}

export interface BuiltExtentTree {
  iBlock: Uint8Array;
  /** Tree blocks to write: [physical block, content]. */
  blocks: [number, Uint8Array][];
}

function header(entries: number, max: number, depth: number, into: Uint8Array): void {
  ExtentHeader.encode({ eh_magic: EXTENT_MAGIC, eh_entries: entries, eh_max: max, eh_depth: depth, eh_generation: 0 }, into, 0);
}

function putExtent(e: FileExtent, into: Uint8Array, off: number): void {
  Extent.encode({ ee_block: e.logical, ee_len: e.len, ee_start_hi: Math.floor(e.physical / 2 ** 32), ee_start_lo: e.physical >>> 0 }, into, off);
}

function putIndex(n: Node, into: Uint8Array, off: number): void {
  ExtentIndex.encode({ ei_block: n.firstLogical, ei_leaf_lo: n.physical >>> 0, ei_leaf_hi: Math.floor(n.physical / 2 ** 32), ei_unused: 0 }, into, off);
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
  const blocks: [number, Uint8Array][] = [];
  const seal = (b: Uint8Array, max: number) => {
    const at = 12 + 12 * max;
    new DataView(b.buffer).setUint32(at, crc32cRaw(inodeSeed, b.subarray(0, at)), true);
  };
  if (extents.length <= ROOT_MAX) {
    header(extents.length, ROOT_MAX, 0, iBlock);
    extents.forEach((e, i) => putExtent(e, iBlock, 12 + 12 * i));
    return { iBlock, blocks };
  }
  // Leaves.
  let nodes: Node[] = [];
  for (let i = 0; i < extents.length; i += BLOCK_MAX) {
    const chunk = extents.slice(i, i + BLOCK_MAX);
    const b = new Uint8Array(BLOCK_SIZE);
    header(chunk.length, BLOCK_MAX, 0, b);
    chunk.forEach((e, k) => putExtent(e, b, 12 + 12 * k));
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
      header(chunk.length, BLOCK_MAX, depth, b);
      chunk.forEach((n, k) => putIndex(n, b, 12 + 12 * k));
      seal(b, BLOCK_MAX);
      const phys = allocate();
      blocks.push([phys, b]);
      up.push({ firstLogical: chunk[0]!.firstLogical, physical: phys });
    }
    nodes = up;
    depth++;
  }
  header(nodes.length, ROOT_MAX, depth, iBlock);
  nodes.forEach((n, k) => putIndex(n, iBlock, 12 + 12 * k));
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
