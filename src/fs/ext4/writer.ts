/**
 * The ext4 writer: lays a FileTree out as a fresh ext4 filesystem on a BlockDevice, the way
 * `mke2fs -t ext4 -d` would (features has_journal ext_attr dir_index filetype extent 64bit
 * flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum; 4 KiB blocks,
 * 256-byte inodes). Plan first (geometry, inode numbers, metadata placement), then stream:
 * directories and file data in tree order through a first-fit block map, all-zero blocks left
 * as holes, then inode tables, bitmaps, descriptors and superblocks. The steps live next to
 * it: numbering.ts (inode numbers), write-inodes.ts (directories, symlinks, xattrs, extent
 * trees), write-data.ts (file contents), write-journal.ts, superblock.ts (fillSuperblock), options.ts (option checks),
 * sizing.ts (what a tree needs).
 * Spec: Documentation/filesystems/ext4/ (kernel), "ext4 Data Structures and Algorithms".
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { makeGuid, uuidToBytes } from '../../binary/guid.js';
import { ConfigError, NoSpaceError } from '../../errors.js';
import { type FileContent, type FileTree, readAhead } from '../../tree/model.js';
import { BlockMap } from './allocator.js';
import { BLOCKS_PER_GROUP, BLOCK_SIZE, INO } from './constants.js';
import { type Geometry, groupHasSuper, planGeometry } from './geometry.js';
import { seedWords } from './hash.js';
import { encodeDevice } from './inode.js';
import type { InodeRecord } from './inode-record.js';
import { InodeTableWriter } from './inode-table.js';
import { type GroupPlacement, writeGroupMetadata } from './metadata.js';
import { numberInodes } from './numbering.js';
import { type Ext4Options, checkExt4Options } from './options.js';
import { buildResizeInode } from './resize-inode.js';
import { type TreeNeeds, inodeCountFor, journalBlocksFor, minimumSize, treeNeeds } from './sizing.js';
import { checksumSeed, fillSuperblock } from './superblock.js';
import { WriteBatch } from './write-batch.js';
import { writeFileInode } from './write-data.js';
import { NO_IBLOCK, type WriteContext, placeXattrs, writeDirectoryInode, writeSymlinkInode } from './write-inodes.js';
import { writeJournal } from './write-journal.js';
import { finishXattrBlock } from './xattr-build.js';

export interface Ext4Result {
  uuid: string;
  label: string;
  size: number;
  blocks: number;
  inodes: number;
}

type Numbered = ReturnType<typeof numberInodes>;

/** Writes `tree` as a new ext4 filesystem on `dev`: plan, then inodes and data, then metadata. */
export function writeExt4(
  dev: BlockDevice,
  tree: FileTree,
  opts: Ext4Options,
  progress?: (bytesWritten: number, total: number) => void,
): Ext4Result {
  checkExt4Options(opts, dev.size);
  const time = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const numbered = numberInodes(tree, time);
  startReadAhead(numbered);

  const size = opts.size ?? dev.size;
  const needs = treeNeeds(tree);
  const needBytes = minimumSize(needs, opts);
  // The estimate counts sparse files at full size, so it only names the size in the error;
  // the filesystem is full when the block map runs out.
  const noSpace = () =>
    new NoSpaceError(`the tree needs an ext4 filesystem of at least ${needBytes} bytes (${Math.ceil(needBytes / 2 ** 20)} MiB) but it has ${size} bytes`,
      needBytes, 'give a bigger size (or none, to size it from the content)');

  const uuid = opts.uuid ?? makeGuid(opts.seed, 'ext4:uuid');
  const hashSeed = uuidToBytes(opts.hashSeed ?? makeGuid(opts.seed, 'ext4:hash_seed'));
  const label = opts.label ?? '';
  const uuidBytes = uuidToBytes(uuid);
  const fsSeed = checksumSeed(uuidBytes);

  const { geo, journalBlocks } = checkedGeometry(size, needs, needBytes, numbered.lastIno, opts);
  const map = new BlockMap(geo.blocks, noSpace);
  const place = placeGroupMetadata(geo, map);

  const table = new InodeTableWriter(dev, geo, place, fsSeed, time);
  const resize = buildResizeInode(dev, geo, map.one.bind(map), time);
  if (resize) table.put(resize);

  const ctx: WriteContext = { map, out: new WriteBatch(dev), fsSeed, hashSeed: seedWords(hashSeed), xattrBlocks: new Map(), written: 0 };
  const journal = journalBlocks > 0 ? writeJournal(ctx, dev, journalBlocks, uuidBytes, time) : undefined;
  if (journal) table.put(journal);

  const total = needs.blocks * BLOCK_SIZE;
  writeTreeInodes(ctx, table, numbered, time, () => progress?.(ctx.written, total));
  for (const xb of ctx.xattrBlocks.values()) ctx.out.write(xb.block * BLOCK_SIZE, finishXattrBlock(xb.content, fsSeed, xb.block, xb.refs));
  ctx.out.flush();
  const use = table.finish(numbered.lastIno);

  const sb = fillSuperblock({
    geo, time, reservedPercent: opts.reservedPercent ?? 5, ...(journal ? { journal } : {}), resizeInode: !!resize,
    uuid: uuidBytes, label, hashSeed,
  });
  writeGroupMetadata(dev, geo, map, place, use, sb, fsSeed);
  progress?.(total, total);
  return { uuid, label, size: geo.blocks * BLOCK_SIZE, blocks: geo.blocks, inodes: geo.inodeCount };
}

/**
 * The data loop reads each inode's content once, in numbering order: sources that can read
 * ahead start now, while the layout is planned (a helper thread takes a while to start).
 */
function startReadAhead({ order }: Numbered): void {
  const reads: FileContent[] = [];
  for (const { entry: e } of order) if (e.type === 'file' && e.content && e.size > 0) reads.push(e.content);
  readAhead(reads);
}

/** The geometry for `size` bytes and the journal's blocks, refused when the tree's inodes or the journal do not fit. */
function checkedGeometry(size: number, needs: TreeNeeds, needBytes: number, lastIno: number, opts: Ext4Options): { geo: Geometry; journalBlocks: number } {
  const geo = planGeometry(Math.floor(size / BLOCK_SIZE), inodeCountFor(size, needs.inodes + INO.FIRST, opts));
  if (geo.inodeCount < needs.inodes + INO.FIRST) {
    throw new NoSpaceError(`the tree has ${needs.inodes} inodes but the filesystem gets ${geo.inodeCount - INO.FIRST} free`,
      needBytes, 'raise inodeCount or lower inodeRatio (mkfs -N / -i)');
  }
  const journalBlocks = journalBlocksFor(geo.blocks, opts);
  if (journalBlocks > 0 && (journalBlocks < 1024 || journalBlocks > geo.blocks / 2)) {
    throw new ConfigError('ext4 journalSize', `a journal of ${journalBlocks} blocks does not suit a filesystem of ${geo.blocks} blocks`,
      'use 4 MiB or more and at most half the filesystem, or 0 for none');
  }
  if (lastIno > geo.inodeCount) throw new NoSpaceError(`the tree needs ${lastIno} inodes but the filesystem has ${geo.inodeCount}`, needBytes);
  return { geo, journalBlocks };
}

/** Superblock and descriptor copies marked used, then bitmaps and inode tables packed at the start (flex_bg). */
function placeGroupMetadata(geo: Geometry, map: BlockMap): GroupPlacement[] {
  for (let g = 0; g < geo.groups; g++) if (groupHasSuper(g)) map.mark(g * BLOCKS_PER_GROUP, 1 + geo.gdtBlocks + geo.reservedGdtBlocks);
  const place: GroupPlacement[] = [];
  for (let g = 0; g < geo.groups; g++) place.push({ blockBitmap: map.one(), inodeBitmap: 0, inodeTable: 0 });
  for (let g = 0; g < geo.groups; g++) place[g]!.inodeBitmap = map.one();
  for (let g = 0; g < geo.groups; g++) place[g]!.inodeTable = map.contiguous(geo.inodeTableBlocks);
  return place;
}

/** Every inode of the tree in numbering order: directories and file data streamed, the records into the table. */
function writeTreeInodes(ctx: WriteContext, table: InodeTableWriter, numbered: Numbered, time: number, onChunk: () => void): void {
  const { order, children, linkCount, subdirs } = numbered;
  for (const { ino, entry: e, parent } of order) {
    const rec: InodeRecord = {
      ino, entry: e, links: linkCount[ino]!, size: 0, flags: 0, iBlock: NO_IBLOCK, blocks: 0, xattrBlock: 0, crtime: time,
    };
    if (e.xattrs.size > 0) placeXattrs(ctx, rec, e);
    if (e.type === 'dir') {
      const kids = children.get(ino)!;
      children.delete(ino);
      writeDirectoryInode(ctx, rec, parent, kids, subdirs[ino]!);
    } else if (e.type === 'file') writeFileInode(ctx, rec, e, onChunk);
    else if (e.type === 'symlink') writeSymlinkInode(ctx, rec, e);
    else if (e.type === 'chardev' || e.type === 'blockdev') rec.iBlock = encodeDevice(e.rdevMajor, e.rdevMinor);
    table.put(rec);
  }
}
