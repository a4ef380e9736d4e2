/**
 * The ext4 writer: lays a FileTree out as a fresh ext4 filesystem on a BlockDevice, the way
 * `mke2fs -t ext4 -d` would (features has_journal ext_attr dir_index filetype extent 64bit
 * flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum; 4 KiB blocks,
 * 256-byte inodes). Plan first (geometry, inode numbers, metadata placement), then stream:
 * directories and file data in tree order through a first-fit block map, all-zero blocks left
 * as holes, then inode tables, bitmaps, descriptors and superblocks. The steps live next to
 * it: numbering.ts (inode numbers), write-inodes.ts (directories, symlinks, xattrs, extent
 * trees), write-data.ts (file contents), write-journal.ts, options.ts (option checks, sizing).
 * Spec: Documentation/filesystems/ext4/ (kernel), "ext4 Data Structures and Algorithms".
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { makeGuid, uuidToBytes } from '../../binary/guid.js';
import { ConfigError, NoSpaceError } from '../../errors.js';
import { type FileContent, type FileTree, readAhead } from '../../tree/model.js';
import { BlockMap } from './allocator.js';
import {
  BLOCKS_PER_GROUP, BLOCK_SIZE, CHECKSUM_CRC32C, COMPAT, DEFM, DX_HASH, ERRORS_CONTINUE, EXTRA_ISIZE, EXT4_SUPER_MAGIC,
  INCOMPAT, INO, INODE_SIZE, LOG_BLOCK_SIZE, LOG_GROUPS_PER_FLEX, RO_COMPAT, SB_FLAGS, STATE_CLEAN, DESC_SIZE,
} from './constants.js';
import { groupHasSuper, planGeometry } from './geometry.js';
import { seedWords } from './hash.js';
import { encodeDevice } from './inode.js';
import type { InodeRecord } from './inode-record.js';
import { InodeTableWriter } from './inode-table.js';
import { type GroupPlacement, writeGroupMetadata } from './metadata.js';
import { numberInodes } from './numbering.js';
import { type Ext4Options, checkExt4Options, inodeCountFor, journalBlocksFor, minimumSize, treeNeeds } from './options.js';
import { buildResizeInode } from './resize-inode.js';
import { JournalInodeBackup, checksumSeed, emptySuperblock } from './superblock.js';
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

export function writeExt4(
  dev: BlockDevice,
  tree: FileTree,
  opts: Ext4Options,
  progress?: (bytesWritten: number, total: number) => void,
): Ext4Result {
  checkExt4Options(opts, dev.size);
  const time = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const { order, children, linkCount, subdirs, lastIno } = numberInodes(tree, time);
  // The data loop reads each inode's content once, in this order: sources that can read
  // ahead start now, while the layout is planned (a helper thread takes a while to start).
  const reads: FileContent[] = [];
  for (const { entry: e } of order) if (e.type === 'file' && e.content && e.size > 0) reads.push(e.content);
  readAhead(reads);

  const size = opts.size ?? dev.size;
  const needs = treeNeeds(tree);
  const needBytes = minimumSize(needs, opts);
  const noSpace = () =>
    new NoSpaceError(`the tree needs an ext4 filesystem of at least ${needBytes} bytes (${Math.ceil(needBytes / 2 ** 20)} MiB) but it has ${size} bytes`,
      needBytes, 'give a bigger size (or none, to size it from the content)');
  // The estimate counts sparse files at full size, so it only names the size in the error;
  // the filesystem is full when the block map runs out.

  const uuid = opts.uuid ?? makeGuid(opts.seed, 'ext4:uuid');
  const hashSeedStr = opts.hashSeed ?? makeGuid(opts.seed, 'ext4:hash_seed');
  const label = opts.label ?? '';
  const uuidBytes = uuidToBytes(uuid);
  const fsSeed = checksumSeed(uuidBytes);

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

  const map = new BlockMap(geo.blocks, noSpace);
  // Superblock and descriptor copies, then bitmaps and inode tables packed at the start (flex_bg).
  for (let g = 0; g < geo.groups; g++) if (groupHasSuper(g)) map.mark(g * BLOCKS_PER_GROUP, 1 + geo.gdtBlocks + geo.reservedGdtBlocks);
  const place: GroupPlacement[] = [];
  for (let g = 0; g < geo.groups; g++) place.push({ blockBitmap: map.one(), inodeBitmap: 0, inodeTable: 0 });
  for (let g = 0; g < geo.groups; g++) place[g]!.inodeBitmap = map.one();
  for (let g = 0; g < geo.groups; g++) place[g]!.inodeTable = map.contiguous(geo.inodeTableBlocks);

  const table = new InodeTableWriter(dev, geo, place, fsSeed, time);
  const resize = buildResizeInode(dev, geo, map.one.bind(map), time);
  if (resize) table.put(resize);

  const ctx: WriteContext = {
    map, out: new WriteBatch(dev), fsSeed, hashSeed: seedWords(uuidToBytes(hashSeedStr)), xattrBlocks: new Map(), written: 0,
  };
  const journalRec = journalBlocks > 0 ? writeJournal(ctx, dev, journalBlocks, uuidBytes, time) : undefined;
  if (journalRec) table.put(journalRec);

  const total = needs.blocks * BLOCK_SIZE;
  const onChunk = () => progress?.(ctx.written, total);
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

  for (const xb of ctx.xattrBlocks.values()) ctx.out.write(xb.block * BLOCK_SIZE, finishXattrBlock(xb.content, fsSeed, xb.block, xb.refs));
  ctx.out.flush();

  const use = table.finish(lastIno);

  const sb = emptySuperblock();
  const rBlocks = Math.floor((geo.blocks * (opts.reservedPercent ?? 5)) / 100);
  const jnl = new Uint8Array(JournalInodeBackup.size);
  if (journalBlocks > 0) {
    const jr = journalRec!;
    JournalInodeBackup.encode({ i_block: jr.iBlock, i_size_high: Math.floor(jr.size / 2 ** 32), i_size: jr.size >>> 0 }, jnl);
  }
  Object.assign(sb, {
    s_inodes_count: geo.inodeCount,
    s_blocks_count_lo: geo.blocks >>> 0,
    s_blocks_count_hi: Math.floor(geo.blocks / 2 ** 32),
    s_r_blocks_count_lo: rBlocks >>> 0,
    s_r_blocks_count_hi: Math.floor(rBlocks / 2 ** 32),
    s_first_data_block: 0,
    s_log_block_size: LOG_BLOCK_SIZE,
    s_log_cluster_size: LOG_BLOCK_SIZE,
    s_blocks_per_group: BLOCKS_PER_GROUP,
    s_clusters_per_group: BLOCKS_PER_GROUP,
    s_inodes_per_group: geo.inodesPerGroup,
    s_wtime: time >>> 0,
    s_max_mnt_count: 0xffff,
    s_magic: EXT4_SUPER_MAGIC,
    s_state: STATE_CLEAN,
    s_errors: ERRORS_CONTINUE,
    s_lastcheck: time >>> 0,
    s_rev_level: 1,
    s_first_ino: INO.FIRST,
    s_inode_size: INODE_SIZE,
    s_feature_compat: COMPAT.EXT_ATTR | COMPAT.DIR_INDEX | (journalBlocks > 0 ? COMPAT.HAS_JOURNAL : 0) |
      (resize ? COMPAT.RESIZE_INODE : 0),
    s_reserved_gdt_blocks: geo.reservedGdtBlocks,
    s_feature_incompat: INCOMPAT.FILETYPE | INCOMPAT.EXTENTS | INCOMPAT.BIT64 | INCOMPAT.FLEX_BG,
    s_feature_ro_compat: RO_COMPAT.SPARSE_SUPER | RO_COMPAT.LARGE_FILE | RO_COMPAT.HUGE_FILE | RO_COMPAT.DIR_NLINK |
      RO_COMPAT.EXTRA_ISIZE | RO_COMPAT.METADATA_CSUM,
    s_uuid: uuidBytes,
    s_volume_name: Buffer.from(label, 'utf8'),
    s_journal_inum: journalBlocks > 0 ? INO.JOURNAL : 0,
    s_hash_seed: uuidToBytes(hashSeedStr),
    s_def_hash_version: DX_HASH.HALF_MD4,
    s_jnl_backup_type: journalBlocks > 0 ? 1 : 0,
    s_desc_size: DESC_SIZE,
    s_default_mount_opts: DEFM.XATTR_USER | DEFM.ACL,
    s_mkfs_time: time >>> 0,
    s_jnl_blocks: jnl,
    s_min_extra_isize: EXTRA_ISIZE,
    s_want_extra_isize: EXTRA_ISIZE,
    s_flags: SB_FLAGS.SIGNED_HASH,
    s_log_groups_per_flex: LOG_GROUPS_PER_FLEX,
    s_checksum_type: CHECKSUM_CRC32C,
  });
  writeGroupMetadata(dev, geo, map, place, use, sb, fsSeed);
  progress?.(total, total);
  return { uuid, label, size: geo.blocks * BLOCK_SIZE, blocks: geo.blocks, inodes: geo.inodeCount };
}
