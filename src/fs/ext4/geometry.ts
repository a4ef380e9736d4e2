/**
 * Filesystem geometry as a pure function of the size and inode count: block groups, inodes
 * per group, where superblock backups go (sparse_super: groups 0, 1 and powers of 3, 5, 7),
 * how many blocks the group descriptor table needs (Documentation/filesystems/ext4/overview.rst,
 * "Blocks", "Block Groups", "Flexible Block Groups").
 */
import { BLOCKS_PER_GROUP, BLOCK_SIZE, DESC_SIZE, INODE_SIZE } from './constants.js';
import { alignUp } from '../../binary/align.js';

export interface Geometry {
  blocks: number;
  groups: number;
  inodesPerGroup: number;
  inodeCount: number;
  /** Inode table blocks per group. */
  inodeTableBlocks: number;
  /** Blocks of the group descriptor table (one copy). */
  gdtBlocks: number;
  /** Blocks reserved after each descriptor-table copy for online growth (resize_inode). */
  reservedGdtBlocks: number;
}

const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;

export function isPowerOf(n: number, base: number): boolean {
  if (n < 1) return false;
  while (n % base === 0) n /= base;
  return n === 1;
}

/**
 * Whether group `g` carries a superblock and descriptor-table backup: with sparse_super (the
 * default, and what the writer makes) groups 0, 1 and powers of 3, 5 and 7; without it every
 * group. (sparse_super2 keeps backups in the two groups of s_backup_bgs; the reader needs this
 * only for meta_bg, which mke2fs never combines with it, so it is not modelled.)
 */
export function groupHasSuper(g: number, sparseSuper = true): boolean {
  if (!sparseSuper) return true;
  return g === 0 || g === 1 || isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
}

/** Groups of a filesystem of `blocks` blocks (`firstDataBlock` is 1 with 1 KiB blocks). */
export function groupsFor(blocks: number, blocksPerGroup = BLOCKS_PER_GROUP, firstDataBlock = 0): number {
  return Math.ceil((blocks - firstDataBlock) / blocksPerGroup);
}

/** Blocks one copy of the group descriptor table takes. */
export function gdtBlocksFor(groups: number, blockSize = BLOCK_SIZE, descSize = DESC_SIZE): number {
  return Math.ceil((groups * descSize) / blockSize);
}

const ADDR_PER_BLOCK = BLOCK_SIZE / 4;

/**
 * Reserved GDT blocks as mke2fs reserves them: room for the descriptors of a filesystem 1024
 * times bigger (at most 2^32 - 1 blocks), capped at one indirect block's worth (1024). None
 * beyond 2^32 blocks, where the block-mapped resize inode cannot point.
 */
export function reservedGdtBlocksFor(blocks: number): number {
  if (blocks >= 2 ** 32) return 0;
  const maxBlocks = blocks < Math.floor(0xffffffff / 1024) ? blocks * 1024 : 0xffffffff;
  const groups = Math.ceil(maxBlocks / BLOCKS_PER_GROUP);
  const rsv = Math.ceil(groups / (BLOCK_SIZE / DESC_SIZE)) - gdtBlocksFor(groupsFor(blocks));
  return Math.max(0, Math.min(rsv, ADDR_PER_BLOCK));
}

/**
 * The geometry for `blocks` blocks and at least `inodes` inodes. A last group too small to be
 * useful (fewer than 50 blocks beyond its backup) is dropped, as mke2fs does.
 */
export function planGeometry(blocksIn: number, inodes: number): Geometry {
  let blocks = blocksIn;
  let groups = groupsFor(blocks);
  const rem = blocks % BLOCKS_PER_GROUP;
  if (groups > 1 && rem > 0) {
    const overhead = groupHasSuper(groups - 1) ? 1 + gdtBlocksFor(groups) + reservedGdtBlocksFor(blocks) : 0;
    if (rem < overhead + 50) {
      blocks -= rem;
      groups--;
    }
  }
  let ipg = Math.ceil(inodes / groups);
  ipg = alignUp(ipg, INODES_PER_BLOCK);
  ipg = Math.max(INODES_PER_BLOCK, Math.min(ipg, BLOCKS_PER_GROUP));
  return {
    blocks,
    groups,
    inodesPerGroup: ipg,
    inodeCount: ipg * groups,
    inodeTableBlocks: ipg / INODES_PER_BLOCK,
    gdtBlocks: gdtBlocksFor(groups),
    reservedGdtBlocks: reservedGdtBlocksFor(blocks),
  };
}

/** Blocks of a group: 32768 except maybe the last. */
export function groupBlocks(geo: Geometry, g: number): number {
  return g < geo.groups - 1 ? BLOCKS_PER_GROUP : geo.blocks - g * BLOCKS_PER_GROUP;
}
