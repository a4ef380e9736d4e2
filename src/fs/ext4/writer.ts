/**
 * The ext4 writer: lays a FileTree out as a fresh ext4 filesystem on a BlockDevice, the way
 * `mke2fs -t ext4 -d` would (features has_journal ext_attr dir_index filetype extent 64bit
 * flex_bg sparse_super large_file huge_file dir_nlink extra_isize metadata_csum; 4 KiB blocks,
 * 256-byte inodes). Plan first (geometry, inode numbers, metadata placement), then stream:
 * directories and file data in tree order through a first-fit block map, all-zero blocks left
 * as holes, then inode tables, bitmaps, descriptors and superblocks.
 * Spec: Documentation/filesystems/ext4/ (kernel), "ext4 Data Structures and Algorithms".
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { alignDown, alignUp } from '../../binary/align.js';
import { isGuid, makeGuid, uuidToBytes } from '../../binary/guid.js';
import { ConfigError, InputError, NoSpaceError } from '../../errors.js';
import { type FileContent, type FileTree, type TreeEntry, baseName, parentOf, readAhead } from '../../tree/model.js';
import { BlockMap } from './allocator.js';
import {
  BLOCKS_PER_GROUP, BLOCK_SIZE, CHECKSUM_CRC32C, COMPAT, DEFM, DX_HASH, ERRORS_CONTINUE, EXTRA_ISIZE, EXT4_SUPER_MAGIC,
  FT, INCOMPAT, INO, INODE_FLAGS, INODE_SIZE, LINK_MAX, LOG_BLOCK_SIZE, LOG_GROUPS_PER_FLEX, NAME_MAX, RO_COMPAT,
  SB_FLAGS, STATE_CLEAN, DESC_SIZE,
} from './constants.js';
import { type DirChild, buildDirectory } from './dirblocks.js';
import { type FileExtent, appendRun, buildExtentTree } from './extent-tree.js';
import { groupHasSuper, planGeometry } from './geometry.js';
import { seedWords } from './hash.js';
import { encodeDevice, inodeChecksumSeed } from './inode.js';
import type { InodeRecord } from './inode-record.js';
import { InodeTableWriter } from './inode-table.js';
import { buildResizeInode } from './resize-inode.js';
import { JBD2_MAGIC } from './constants.js';
import { JBD2_SUPERBLOCK_V2, JournalSuperblock } from './journal.js';
import { type GroupPlacement, writeGroupMetadata } from './metadata.js';
import { WriteBatch } from './write-batch.js';
import { type Ext4Options, inodeCountFor, journalBlocksFor, minimumSize, treeNeeds } from './options.js';
import { checksumSeed, emptySuperblock } from './superblock.js';
import { buildIbodyXattrs, buildXattrBlock, finishXattrBlock, prepareXattrs } from './xattr-build.js';

export interface Ext4Result {
  uuid: string;
  label: string;
  size: number;
  blocks: number;
  inodes: number;
}

const FILE_TYPES: Record<TreeEntry['type'], number> = {
  file: FT.REG_FILE, dir: FT.DIR, symlink: FT.SYMLINK, chardev: FT.CHRDEV, blockdev: FT.BLKDEV, fifo: FT.FIFO, socket: FT.SOCK,
};

/** Bytes read from a file per step (256 blocks). */
const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/**
 * Whether data[start, end) is all zero: a look at the first bytes (data blocks almost always
 * fail there), then a native memcmp against a zero buffer.
 */
function zeroRange(data: Uint8Array, start: number, end: number): boolean {
  if ((data[start]! | data[start + 1]! | data[start + 2]! | data[start + 3]!) !== 0 && end - start >= 4) return false;
  return ZEROS.compare(data, start, end, 0, end - start) === 0;
}

/** i_block of inodes that keep nothing there (fifos, sockets); shared, never written to. */
const NO_IBLOCK = new Uint8Array(60);

function syntheticDir(path: string, time: number, mode: number): TreeEntry {
  const t = { sec: time, nsec: 0 };
  return { path, type: 'dir', mode, uid: 0, gid: 0, atime: t, mtime: t, ctime: t, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map() };
}

function checkOptions(opts: Ext4Options, devSize: number): void {
  if (opts.inodeSize !== undefined && opts.inodeSize !== INODE_SIZE) {
    throw new ConfigError('ext4 inodeSize', `only ${INODE_SIZE}-byte inodes are written but got ${opts.inodeSize}`);
  }
  if (opts.size !== undefined && (opts.size > devSize || opts.size < 0)) {
    throw new ConfigError('ext4 size', `filesystem size ${opts.size} does not fit the device of ${devSize} bytes`);
  }
  if (opts.label !== undefined && Buffer.byteLength(opts.label) > 16) {
    throw new ConfigError('ext4 label', `'${opts.label}' is ${Buffer.byteLength(opts.label)} bytes; ext4 labels hold 16`);
  }
  for (const k of ['uuid', 'hashSeed'] as const) {
    const v = opts[k];
    if (v !== undefined && !isGuid(v)) throw new ConfigError(`ext4 ${k}`, `expected a UUID like 0b5b6a43-8d4f-4d55-9b51-5a0c9a1c7e21 but got '${v}'`);
  }
  if (opts.reservedPercent !== undefined && !(opts.reservedPercent >= 0 && opts.reservedPercent <= 50)) {
    throw new ConfigError('ext4 reservedPercent', `expected 0-50 but got ${opts.reservedPercent}`);
  }
}

/** What the per-inode steps share while the tree is written. */
interface WriteContext {
  readonly map: BlockMap;
  readonly out: WriteBatch;
  readonly fsSeed: number;
  readonly hashSeed: Uint32Array;
  /** Identical xattr blocks, shared: content (base64) -> block, references, content. */
  readonly xattrBlocks: Map<string, { block: number; refs: number; content: Uint8Array }>;
  /** File bytes written so far, for progress. */
  written: number;
}

/** Inode numbers: root 2, lost+found 11, the rest in tree order from 12; hard links share. */
interface Numbering {
  /** Each inode once (its first entry), in tree order, with its parent's inode. */
  order: { ino: number; entry: TreeEntry; parent: number }[];
  /** Directory entries of each directory inode. */
  children: Map<number, DirChild[]>;
  /** Names pointing at each inode, and subdirectories of each directory. */
  linkCount: Uint32Array;
  subdirs: Uint32Array;
  lastIno: number;
}

function numberInodes(tree: FileTree, time: number): Numbering {
  const inoOf = new Map<string, number>();
  const byKey = new Map<string, number>();
  const children = new Map<number, DirChild[]>();
  const order: Numbering['order'] = [];
  let root = tree.get('/') ?? tree.entries.find((e) => e.path === '/');
  if (root && root.type !== 'dir') throw new InputError(`tree root '/' is a ${root.type}, not a directory`);
  root ??= syntheticDir('/', time, 0o755);
  let lostFound = tree.get('/lost+found');
  if (lostFound && lostFound.type !== 'dir') throw new InputError(`/lost+found in the tree is a ${lostFound.type}; ext4 needs it to be a directory`);
  const synthLf = !lostFound;
  lostFound ??= syntheticDir('/lost+found', time, 0o700);
  let nextIno = INO.FIRST + 1;
  const entries: TreeEntry[] = [root, ...tree.entries.filter((e) => e.path !== '/')];
  if (synthLf) entries.splice(1, 0, lostFound);
  // Per-inode counters indexed by inode number (at most one fresh number per entry).
  const linkCount = new Uint32Array(INO.FIRST + 2 + entries.length);
  const subdirs = new Uint32Array(linkCount.length);
  let lastParentPath: string | undefined;
  let lastParent: number | undefined;
  for (const e of entries) {
    let ino: number;
    let fresh = true;
    if (e.path === '/') ino = INO.ROOT;
    else if (e.path === '/lost+found') ino = INO.FIRST;
    else if (e.hardlinkKey !== undefined && byKey.has(e.hardlinkKey)) {
      ino = byKey.get(e.hardlinkKey)!;
      fresh = false;
    } else ino = nextIno++;
    if (e.hardlinkKey !== undefined && fresh) byKey.set(e.hardlinkKey, ino);
    if (e.type === 'dir' && !fresh) throw new InputError(`${e.path}: a directory cannot be a hard link`);
    if (e.type === 'dir') inoOf.set(e.path, ino); // parents are directories: only they are looked up
    linkCount[ino]!++;
    if (e.type === 'dir') children.set(ino, []);
    if (e.path !== '/') {
      const name = Buffer.from(baseName(e.path), 'utf8');
      if (name.length > NAME_MAX || name.length === 0) throw new InputError(`${e.path}: the name is ${name.length} bytes; ext4 names are 1-${NAME_MAX} bytes`);
      const parentPath = parentOf(e.path);
      if (parentPath !== lastParentPath) {
        lastParentPath = parentPath;
        lastParent = inoOf.get(parentPath);
      }
      const parent = lastParent;
      const list = parent === undefined ? undefined : children.get(parent);
      if (parent === undefined || !list) throw new InputError(`${e.path}: its parent directory is not in the tree before it`);
      list.push({ name, ino, fileType: FILE_TYPES[e.type] });
      if (e.type === 'dir') subdirs[parent]!++;
      if (fresh) order.push({ ino, entry: e, parent });
    } else order.push({ ino, entry: e, parent: INO.ROOT });
  }
  return { order, children, linkCount, subdirs, lastIno: nextIno - 1 };
}

/** Builds the extent tree of an inode's runs, writes its index blocks; i_block and block count. */
function extentRecord(ctx: WriteContext, ino: number, extents: FileExtent[], dataBlocks: number): { iBlock: Uint8Array; blocks: number } {
  const built = buildExtentTree(extents, () => ctx.map.one(), inodeChecksumSeed(ctx.fsSeed, ino, 0));
  for (const [b, content] of built.blocks) ctx.out.write(b * BLOCK_SIZE, content);
  return { iBlock: built.iBlock, blocks: dataBlocks + built.blocks.length };
}

/** Extended attributes in the inode body when they fit, else in a (shared) xattr block. */
function placeXattrs(ctx: WriteContext, rec: InodeRecord, e: TreeEntry): void {
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

function writeDirectoryInode(ctx: WriteContext, rec: InodeRecord, parent: number, kids: DirChild[], nsub: number): void {
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

/** Streams a file's content into freshly allocated runs, leaving all-zero blocks as holes. */
function writeFileInode(ctx: WriteContext, rec: InodeRecord, e: TreeEntry, onChunk: () => void): void {
  const content = e.content;
  const fsize = e.size;
  if (fsize > 0 && !content) throw new InputError(`${e.path}: a regular file of ${fsize} bytes has no content`);
  const extents: FileExtent[] = [];
  let dataBlocks = 0;
  for (const [start, end] of blockRanges(e.path, content, fsize)) {
    for (let off = start; off < end; off += CHUNK) {
      const want = Math.min(CHUNK, end - off);
      const data = content!.read(off, want);
      if (data.length !== want) throw new InputError(`${e.path}: expected ${want} bytes at offset ${off} but the source gave ${data.length}`, 'the file changed while the image was written?');
      dataBlocks += writeChunk(ctx, extents, off / BLOCK_SIZE, data, want);
      ctx.written += want;
      onChunk();
    }
  }
  const t = extentRecord(ctx, rec.ino, extents, dataBlocks);
  rec.iBlock = t.iBlock;
  rec.blocks += t.blocks;
  rec.size = fsize;
  rec.flags = INODE_FLAGS.EXTENTS;
}

/**
 * The byte ranges of a file worth reading, [start, end) in increasing order, starts on block
 * boundaries: the whole file, or the blocks its source's dataRanges touch (the rest is holes).
 */
function blockRanges(path: string, content: FileContent | undefined, size: number): [number, number][] {
  const known = content?.dataRanges?.();
  if (!known) return size > 0 ? [[0, size]] : [];
  const out: [number, number][] = [];
  for (const [offset, length] of known) {
    if (length <= 0) continue;
    const start = alignDown(offset, BLOCK_SIZE);
    const end = Math.min(size, alignUp(offset + length, BLOCK_SIZE));
    const last = out[out.length - 1];
    if (last && start < last[0]) throw new InputError(`${path}: its source's data range ${offset}+${length} comes before the one listed ahead of it`);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end); // two ranges in one block
    else if (start < end) out.push([start, end]);
  }
  return out;
}

/**
 * Writes the non-zero blocks of one chunk of a file (block i is data[i*B, min((i+1)*B, want)),
 * a short last block padded with zeros), each run allocated as it comes; returns the blocks used.
 */
function writeChunk(ctx: WriteContext, extents: FileExtent[], firstLogical: number, data: Uint8Array, want: number): number {
  const nb = Math.ceil(want / BLOCK_SIZE);
  const blockEnd = (i: number) => Math.min((i + 1) * BLOCK_SIZE, want);
  let used = 0;
  let i = zeroRange(data, 0, want) ? nb : 0;
  while (i < nb) {
    if (zeroRange(data, i * BLOCK_SIZE, blockEnd(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < nb && !zeroRange(data, j * BLOCK_SIZE, blockEnd(j))) j++;
    let lb = firstLogical + i;
    let src = i * BLOCK_SIZE;
    for (const r of ctx.map.runs(j - i, 32768)) {
      const end = Math.min(src + r.len * BLOCK_SIZE, want);
      ctx.out.write(r.start * BLOCK_SIZE, data.subarray(src, end));
      const pad = r.len * BLOCK_SIZE - (end - src);
      if (pad > 0) ctx.out.write(r.start * BLOCK_SIZE + (end - src), ZEROS.subarray(0, pad));
      appendRun(extents, lb, r.start, r.len);
      lb += r.len;
      src += r.len * BLOCK_SIZE;
    }
    used += j - i;
    i = j;
  }
  return used;
}

function writeSymlinkInode(ctx: WriteContext, rec: InodeRecord, e: TreeEntry): void {
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

/** The jbd2 journal: an empty log in `journalBlocks` blocks, its superblock in the first. */
function writeJournal(ctx: WriteContext, dev: BlockDevice, journalBlocks: number, uuidBytes: Uint8Array, time: number): InodeRecord {
  const extents: FileExtent[] = [];
  let logical = 0;
  for (const r of ctx.map.runs(journalBlocks, 32768)) {
    appendRun(extents, logical, r.start, r.len);
    logical += r.len;
  }
  const jsb = JournalSuperblock.encode({
    h_magic: JBD2_MAGIC, h_blocktype: JBD2_SUPERBLOCK_V2, h_sequence: 0, s_blocksize: BLOCK_SIZE, s_maxlen: journalBlocks,
    s_first: 1, s_sequence: 1, s_start: 0, s_errno: 0, s_feature_compat: 0, s_feature_incompat: 0, s_feature_ro_compat: 0,
    s_uuid: uuidBytes, s_nr_users: 1, s_dynsuper: 0, s_max_transaction: 0, s_max_trans_data: 0, s_checksum_type: 0,
    s_padding2: new Uint8Array(3), s_num_fc_blks: 0, s_head: 0, s_padding: new Uint8Array(160), s_checksum: 0,
    s_users: new Uint8Array(16 * 48),
  });
  const first = new Uint8Array(BLOCK_SIZE);
  first.set(jsb);
  dev.writeAt(extents[0]!.physical * BLOCK_SIZE, first);
  const jEntry = syntheticDir('<journal>', time, 0o600);
  jEntry.type = 'file';
  const t = extentRecord(ctx, INO.JOURNAL, extents, journalBlocks);
  return {
    ino: INO.JOURNAL, entry: jEntry, links: 1, size: journalBlocks * BLOCK_SIZE, flags: INODE_FLAGS.EXTENTS,
    iBlock: t.iBlock, blocks: t.blocks, xattrBlock: 0, crtime: time,
  };
}

export function writeExt4(
  dev: BlockDevice,
  tree: FileTree,
  opts: Ext4Options,
  progress?: (bytesWritten: number, total: number) => void,
): Ext4Result {
  checkOptions(opts, dev.size);
  const time = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const { order, children, linkCount, subdirs, lastIno } = numberInodes(tree, time);
  // The data loop reads each inode's content once, in this order: sources that can read
  // ahead start now, while the layout is planned (a helper thread needs some 40 ms to start).
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
  const jnl = new Uint8Array(68);
  if (journalBlocks > 0) {
    const jr = journalRec!;
    jnl.set(jr.iBlock);
    const v = new DataView(jnl.buffer);
    v.setUint32(60, Math.floor(jr.size / 2 ** 32), true);
    v.setUint32(64, jr.size >>> 0, true);
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
