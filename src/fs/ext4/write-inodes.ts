/**
 * The ext4 writer's per-inode steps that are not file data: directories (linear or htree
 * blocks), symlinks (fast in i_block, or one block), extended attributes (in the inode body,
 * else in a shared xattr block) and extent trees; and the context they share.
 */
import { INO, INODE_FLAGS, LINK_MAX, BLOCK_SIZE } from './constants.js';
import type { BlockMap } from './allocator.js';
import { type DirChild, buildDirectory } from './dirblocks.js';
import { type FileExtent, appendRun, buildExtentTree } from './extent-tree.js';
import { inodeChecksumSeed } from './inode.js';
import type { InodeRecord } from './inode-record.js';
import type { WriteBatch } from './write-batch.js';
import { buildIbodyXattrs, buildXattrBlock, prepareXattrs } from './xattr-build.js';
import { InputError } from '../../errors.js';
import type { TreeEntry } from '../../tree/model.js';

/** i_block of inodes that keep nothing there (fifos, sockets); shared, never written to. */
export const NO_IBLOCK = new Uint8Array(60);

/** What the per-inode steps share while the tree is written. */
export interface WriteContext {
  readonly map: BlockMap;
  readonly out: WriteBatch;
  readonly fsSeed: number;
  readonly hashSeed: Uint32Array;
  /** Identical xattr blocks, shared: content (base64) -> block, references, content. */
  readonly xattrBlocks: Map<string, { block: number; refs: number; content: Uint8Array }>;
  /** File bytes written so far, for progress. */
  written: number;
}

/** Builds the extent tree of an inode's runs, writes its index blocks; i_block and block count. */
export function extentRecord(ctx: WriteContext, ino: number, extents: FileExtent[], dataBlocks: number): { iBlock: Uint8Array; blocks: number } {
  const built = buildExtentTree(extents, () => ctx.map.one(), inodeChecksumSeed(ctx.fsSeed, ino, 0));
  for (const [b, content] of built.blocks) ctx.out.write(b * BLOCK_SIZE, content);
  return { iBlock: built.iBlock, blocks: dataBlocks + built.blocks.length };
}

/** Extended attributes in the inode body when they fit, else in a (shared) xattr block. */
export function placeXattrs(ctx: WriteContext, rec: InodeRecord, e: TreeEntry): void {
  const items = prepareXattrs(e.xattrs, e.path);
  const area = buildIbodyXattrs(items);
  if (area) {
    rec.xattrArea = area;
    return;
  }
  const content = buildXattrBlock(items, e.path);
  const key = Buffer.from(content).toString('base64');
  let xb = ctx.xattrBlocks.get(key);
  if (!xb) ctx.xattrBlocks.set(key, (xb = { block: ctx.map.one(), refs: 0, content }));
  xb.refs++;
  rec.xattrBlock = xb.block;
  rec.blocks += 1;
}

export function writeDirectoryInode(ctx: WriteContext, rec: InodeRecord, parent: number, kids: DirChild[], nsub: number): void {
  const ino = rec.ino;
  rec.links = 2 + nsub > LINK_MAX ? 1 : 2 + nsub;
  const built = buildDirectory(ino, parent, kids, ctx.hashSeed, inodeChecksumSeed(ctx.fsSeed, ino, 0),
    ino === INO.FIRST ? { linearOnly: true, minBlocks: 4 } : {});
  const extents: FileExtent[] = [];
  let logical = 0;
  for (const r of ctx.map.runs(built.blocks.length, 32768)) {
    for (let i = 0; i < r.len; i++) ctx.out.write((r.start + i) * BLOCK_SIZE, built.blocks[logical + i]!);
    appendRun(extents, logical, r.start, r.len);
    logical += r.len;
  }
  const t = extentRecord(ctx, ino, extents, built.blocks.length);
  rec.iBlock = t.iBlock;
  rec.blocks += t.blocks;
  rec.size = built.blocks.length * BLOCK_SIZE;
  rec.flags = INODE_FLAGS.EXTENTS | (built.indexed ? INODE_FLAGS.INDEX : 0);
}

export function writeSymlinkInode(ctx: WriteContext, rec: InodeRecord, e: TreeEntry): void {
  const target = Buffer.from(e.linkTarget ?? '', 'utf8');
  if (target.length === 0 || target.length >= BLOCK_SIZE) throw new InputError(`${e.path}: symlink target of ${target.length} bytes; ext4 takes 1-${BLOCK_SIZE - 1}`);
  rec.size = target.length;
  if (target.length < 60) {
    rec.iBlock = new Uint8Array(60);
    rec.iBlock.set(target);
    return;
  }
  const b = ctx.map.one();
  const blk = new Uint8Array(BLOCK_SIZE);
  blk.set(target);
  ctx.out.write(b * BLOCK_SIZE, blk);
  const t = extentRecord(ctx, rec.ino, [{ logical: 0, physical: b, len: 1 }], 1);
  rec.iBlock = t.iBlock;
  rec.blocks += t.blocks;
  rec.flags = INODE_FLAGS.EXTENTS;
}
