/**
 * ext4 sizing: what a tree needs (inodes, blocks, the bytes DIB's rule counts), the journal
 * and inode counts a filesystem of a size gets, its metadata overhead, the smallest
 * filesystem a tree fits in, and DIB's rule for the size of a new one (content / 0.6, or
 * content plus an extra size, plus the journal; rounded up to 64 KiB).
 */
import type { FileTree } from '../../tree/model.js';
import { baseName, parentOf } from '../../tree/model.js';
import { utf8Length } from '../../binary/utf8.js';
import { BLOCK_SIZE } from './constants.js';
import { estimateDirBlocks } from './dirblocks.js';
import { extentTreeBlocks } from './extent-tree.js';
import { groupHasSuper, planGeometry } from './geometry.js';
import { defaultJournalBlocks } from './journal.js';
import { DEFAULT_INODE_RATIO, DEFAULT_JOURNAL_BYTES, type Ext4Options } from './options.js';

/** What a tree needs, counted once per inode (hard links share). */
export interface TreeNeeds {
  inodes: number;
  /** Data, directory, slow-symlink, extent and xattr blocks. */
  blocks: number;
  /** Bytes as `du` would count them (blocks of the entries), for DIB's rule. */
  contentBytes: number;
}

/**
 * What `tree` needs, counted once per tree object: the assembler sizes the disk from it and
 * the writer checks it again (a pass over every entry: docs/benchmarks.md). A tree's
 * entries do not change once it is handed to the writers.
 */
export function treeNeeds(tree: FileTree): TreeNeeds {
  let needs = NEEDS.get(tree);
  if (!needs) NEEDS.set(tree, (needs = countTreeNeeds(tree)));
  return needs;
}
const NEEDS = new WeakMap<FileTree, TreeNeeds>();

function countTreeNeeds(tree: FileTree): TreeNeeds {
  const seen = new Set<string>();
  const dirNames = new Map<string, number[]>();
  let inodes = 0;
  let blocks = 0;
  let lastParent: string | undefined;
  let lastList: number[] = [];
  for (const e of tree.entries) {
    if (e.path !== '/') {
      // Siblings mostly come in a row: look the parent up only when it changes.
      const p = parentOf(e.path);
      if (p !== lastParent) {
        let l = dirNames.get(p);
        if (!l) dirNames.set(p, (l = []));
        lastParent = p;
        lastList = l;
      }
      lastList.push(utf8Length(baseName(e.path)));
    }
    if (e.hardlinkKey !== undefined) {
      if (seen.has(e.hardlinkKey)) continue;
      seen.add(e.hardlinkKey);
    }
    inodes++;
    if (e.type === 'file') {
      const b = Math.ceil(e.size / BLOCK_SIZE);
      blocks += b + extentTreeBlocks(Math.ceil(b / 32768));
    } else if (e.type === 'symlink' && e.size >= 60) blocks += 1;
    if (e.xattrs.size > 0) blocks += 1;
  }
  for (const e of tree.entries) if (e.type === 'dir') blocks += estimateDirBlocks(dirNames.get(e.path) ?? []);
  return { inodes, blocks, contentBytes: blocks * BLOCK_SIZE };
}

export function journalBlocksFor(fsBlocks: number, opts: Ext4Options): number {
  if (opts.journalSize === 0) return 0;
  if (opts.journalSize !== undefined) return Math.ceil(opts.journalSize / BLOCK_SIZE);
  return Math.min(DEFAULT_JOURNAL_BYTES / BLOCK_SIZE, defaultJournalBlocks(fsBlocks));
}

export function inodeCountFor(bytes: number, needed: number, opts: Ext4Options): number {
  if (opts.inodeCount !== undefined) return opts.inodeCount;
  const byRatio = Math.floor(bytes / (opts.inodeRatio ?? DEFAULT_INODE_RATIO));
  return Math.max(byRatio, needed + 16);
}

/** Metadata blocks of a filesystem of this geometry (superblocks, descriptors, bitmaps, inode tables, journal, lost+found). */
export function overheadBlocks(blocks: number, neededInodes: number, opts: Ext4Options): number {
  const geo = planGeometry(blocks, inodeCountFor(blocks * BLOCK_SIZE, neededInodes, opts));
  let n = geo.groups * (2 + geo.inodeTableBlocks);
  for (let g = 0; g < geo.groups; g++) if (groupHasSuper(g)) n += 1 + geo.gdtBlocks + geo.reservedGdtBlocks;
  return n + journalBlocksFor(geo.blocks, opts) + 4 /* lost+found */ + 1 /* root */ + 1 /* resize inode */;
}

/** The smallest size in bytes (whole blocks) the tree fits in with these options. */
export function minimumSize(needs: TreeNeeds, opts: Ext4Options): number {
  const inodes = needs.inodes + 11;
  let blocks = needs.blocks + 64;
  for (let i = 0; i < 50; i++) {
    // Slack for blocks lost where contiguous runs skip backup superblocks.
    const want = needs.blocks + overheadBlocks(blocks, inodes, opts) + 64 + Math.ceil(blocks / 32768) * 8;
    if (want <= blocks) break;
    blocks = want;
  }
  return blocks * BLOCK_SIZE;
}

const ALIGN = 64 * 1024;

/** The filesystem size for a tree: explicit size, content + extraSize, or DIB's content / 0.6; plus the journal. */
export function ext4SizeFor(tree: FileTree, opts: Ext4Options): number {
  if (opts.size !== undefined) return opts.size;
  const needs = treeNeeds(tree);
  const base = opts.extraSize !== undefined ? needs.contentBytes + opts.extraSize : needs.contentBytes / 0.6;
  const journal = opts.journalSize ?? DEFAULT_JOURNAL_BYTES;
  const dib = Math.ceil((base + journal) / ALIGN) * ALIGN;
  const min = Math.ceil(minimumSize(needs, opts) / ALIGN) * ALIGN;
  return Math.max(dib, min);
}
