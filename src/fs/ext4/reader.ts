/**
 * A read-only ext2/ext3/ext4 reader over a BlockDevice, without mounting: superblock and
 * group descriptors (super.rst, group_descr.rst), inodes of any size (inodes.rst), extent
 * trees and ext2/3 block maps (reader-blocks.ts), linear and hashed directories read by
 * walking every leaf block linearly (directory.rst: dx_root and dx_node blocks look like one
 * empty entry to that walk), fast and slow symlinks, extended attributes (reader-xattr.ts),
 * inline data (small files and directories kept in the inode), and file content. `walk()` gives the whole filesystem as a FileTree, so an image can be
 * compared with the tree it was made from, and disk-image-get-kernel can find /boot/vmlinuz-*.
 * Checksums are not verified; the journal is not replayed (an unclean filesystem is read as
 * it is on disk).
 */
import { type BlockDevice, SliceBlockDevice } from '../../binary/block-device.js';
import { DiskImageError, InputError, InternalError } from '../../errors.js';
import { entryTypeOfMode, type EntryType, type FileTree, type TreeEntry } from '../../tree/model.js';
import { type ReadableFs, resolvePath } from '../readable.js';
import { GOOD_OLD_INODE_SIZE, INCOMPAT, INODE_FLAGS, INO, SYMLINK_MAX } from './constants.js';
import { DirEntry } from './dir.js';
import { Inode, decodeDevice, decodeTime } from './inode.js';
import { type BlockSource, type Run, blockMapRuns, extentRuns, fsError } from './reader-blocks.js';
import { type Ext4Geometry, InodeTables, readGeometry } from './reader-super.js';
import { I_BLOCK_SIZE, inlineContent, runsContent } from './reader-content.js';
import type { Ext4DirEntry, Ext4FileContent, Ext4Info, Ext4Stat, LoadedInode } from './reader-types.js';
import { INLINE_DATA_KEY, blockXattrs, inodeXattrs } from './reader-xattr.js';

export type { Run } from './reader-blocks.js';
export type { Ext4DirEntry, Ext4FileContent, Ext4Info, Ext4Stat } from './reader-types.js';

/** The largest file readFile returns in one piece; read bigger ones through content(). */
const READ_FILE_MAX = 2 ** 31 - 1;
const INODE_CACHE = 4096;

export class Ext4Reader implements ReadableFs {
  readonly kind = 'ext4';
  readonly rootIno = INO.ROOT;
  readonly info: Ext4Info;
  private readonly geo: Ext4Geometry;
  private readonly src: BlockSource;
  private readonly tables: InodeTables;
  private readonly inodeSize: number;
  /** Directory listings already parsed, by inode number (lookups walk the same directories again). */
  private readonly dirCache = new Map<number, Ext4DirEntry[]>();

  /** Byte offset of the filesystem in the image: errors name offsets in the image. */
  readonly origin: number;

  /** `origin`: where `dev` starts in the image (default: a SliceBlockDevice's start, else 0), for error messages. */
  constructor(readonly dev: BlockDevice, opts: { origin?: number } = {}) {
    const origin = opts.origin ?? (dev instanceof SliceBlockDevice ? dev.start : 0);
    this.origin = origin;
    const geo = readGeometry(dev, origin);
    const sb = geo.sb;
    this.geo = geo;
    this.inodeSize = geo.inodeSize;
    this.src = { dev, blockSize: geo.blockSize, blocksCount: geo.blocksCount, origin };
    this.tables = new InodeTables(dev, geo, origin);
    this.info = {
      blockSize: geo.blockSize, blocksCount: geo.blocksCount, inodesCount: geo.inodesCount, inodeSize: geo.inodeSize, groups: geo.groups,
      uuid: sb.s_uuid, volumeName: Buffer.from(sb.s_volume_name).toString('utf8').replace(/\0.*$/s, ''),
      featureCompat: sb.s_feature_compat, featureIncompat: sb.s_feature_incompat, featureRoCompat: sb.s_feature_ro_compat,
    };
  }

  /** Byte offset of inode `ino` on the device (for tools and tests that look at raw inodes). */
  inodeOffset(ino: number): number {
    if (!Number.isInteger(ino) || ino < 1 || ino > this.geo.inodesCount) {
      throw fsError(this.src, 'ext4 inode number', undefined, undefined, `1..${this.geo.inodesCount}`, String(ino));
    }
    const group = Math.floor((ino - 1) / this.geo.inodesPerGroup);
    return this.tables.of(group) * this.src.blockSize + ((ino - 1) % this.geo.inodesPerGroup) * this.inodeSize;
  }

  /** Inodes already decoded (a lookup walks the same directories again); cleared when it grows past INODE_CACHE. */
  private readonly inodeCache = new Map<number, LoadedInode>();

  private loadInode(ino: number): LoadedInode {
    const hit = this.inodeCache.get(ino);
    if (hit) return hit;
    const n = this.decodeInode(ino);
    if (this.inodeCache.size >= INODE_CACHE) this.inodeCache.clear();
    this.inodeCache.set(ino, n);
    return n;
  }

  private decodeInode(ino: number): LoadedInode {
    const at = this.inodeOffset(ino);
    const raw = this.dev.readAt(at, this.inodeSize);
    const full = new Uint8Array(Math.max(Inode.size, this.inodeSize));
    full.set(raw);
    if (this.inodeSize <= GOOD_OLD_INODE_SIZE) full.fill(0, GOOD_OLD_INODE_SIZE); // no extra fields in a small inode
    const v = Inode.decode(full);
    const type = entryTypeOfMode(v.i_mode);
    if (!type) throw fsError(this.src, `ext4 inode ${ino}`, 'i_mode', at + Inode.offsetOf('i_mode'), 'a known file type', `0o${v.i_mode.toString(8)}`);
    if (this.inodeSize > GOOD_OLD_INODE_SIZE && GOOD_OLD_INODE_SIZE + v.i_extra_isize > this.inodeSize) {
      throw fsError(this.src, `ext4 inode ${ino}`, 'i_extra_isize', at + Inode.offsetOf('i_extra_isize'), `at most ${this.inodeSize - GOOD_OLD_INODE_SIZE}`, String(v.i_extra_isize));
    }
    if (v.i_flags & INODE_FLAGS.ENCRYPT) {
      throw new DiskImageError('UNSUPPORTED', `ext4: inode ${ino} is encrypted (fscrypt), which this reader does not handle`,
        'unlock it with fscrypt on a mounted filesystem');
    }
    return { ino, at, raw, v, type, size: v.i_size_lo + v.i_size_high * 2 ** 32 };
  }

  private isInline(n: LoadedInode): boolean {
    return (n.v.i_flags & INODE_FLAGS.INLINE_DATA) !== 0;
  }

  /** inline_data: the first 60 bytes in i_block, the rest in the in-inode 'system.data' attribute. */
  private inlineParts(n: LoadedInode): [Uint8Array, Uint8Array] {
    const all = new Map<string, Uint8Array>();
    if (this.inodeSize > GOOD_OLD_INODE_SIZE) inodeXattrs(n.raw, n.v.i_extra_isize, n.ino, () => new Uint8Array(0), all, this.origin + n.at);
    return [n.v.i_block, all.get(INLINE_DATA_KEY) ?? new Uint8Array(0)];
  }

  private runs(n: LoadedInode): Run[] {
    if (this.isInline(n)) throw new InternalError(`block runs asked of inode ${n.ino}, whose data is inline`);
    const iBlockAt = n.at + Inode.offsetOf('i_block');
    if (n.v.i_flags & INODE_FLAGS.EXTENTS) return extentRuns(this.src, n.v.i_block, n.ino, iBlockAt);
    return blockMapRuns(this.src, n.v.i_block, Math.ceil(n.size / this.src.blockSize), n.ino, iBlockAt);
  }

  private content(n: LoadedInode): Ext4FileContent {
    if (this.isInline(n)) return inlineContent(this.src, n, ...this.inlineParts(n));
    return runsContent(this.src, n, () => this.runs(n));
  }

  private isFastSymlink(n: LoadedInode): boolean {
    // As e2fsprogs' ext2fs_is_fast_symlink: a target shorter than i_block lives in it.
    return n.type === 'symlink' && n.size > 0 && n.size < I_BLOCK_SIZE && (n.v.i_flags & INODE_FLAGS.INLINE_DATA) === 0;
  }

  private xattrs(n: LoadedInode): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const ea = (inum: number, size: number): Uint8Array => {
      const e = this.loadInode(inum);
      if (e.type !== 'file' || (e.v.i_flags & INODE_FLAGS.EA_INODE) === 0 || size > e.size) {
        throw fsError(this.src, `ext4 inode ${n.ino} xattr value inode`, undefined, e.at, `an EA inode holding ${size} bytes`, `inode ${inum} (${e.type}, ${e.size} bytes)`);
      }
      return this.content(e).read(0, size);
    };
    if (this.inodeSize > GOOD_OLD_INODE_SIZE) inodeXattrs(n.raw, n.v.i_extra_isize, n.ino, ea, out, this.origin + n.at);
    const block = n.v.i_file_acl_lo + (this.geo.is64 ? n.v.l_i_file_acl_high * 2 ** 32 : 0);
    if (block !== 0) {
      if (block >= this.src.blocksCount) {
        throw fsError(this.src, `ext4 inode ${n.ino}`, 'i_file_acl_lo', n.at + Inode.offsetOf('i_file_acl_lo'), `an xattr block below ${this.src.blocksCount}`, String(block));
      }
      blockXattrs(this.dev.readAt(block * this.src.blockSize, this.src.blockSize), block, n.ino, ea, out, this.origin + block * this.src.blockSize);
    }
    out.delete(INLINE_DATA_KEY);
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  private statInode(n: LoadedInode, path: string): Ext4Stat {
    const v = n.v;
    const big = this.inodeSize > GOOD_OLD_INODE_SIZE;
    const time = (lo: number, extraField: 'i_atime_extra' | 'i_mtime_extra' | 'i_ctime_extra') => {
      const extraAt = Inode.offsetOf(extraField);
      const has = big && GOOD_OLD_INODE_SIZE + v.i_extra_isize >= extraAt + 4;
      return decodeTime(lo, has ? v[extraField] : 0);
    };
    const s: Ext4Stat = {
      path, type: n.type, ino: n.ino, nlink: v.i_links_count, flags: v.i_flags,
      mode: v.i_mode & 0o7777,
      uid: v.i_uid | (v.l_i_uid_high << 16),
      gid: v.i_gid | (v.l_i_gid_high << 16),
      atime: time(v.i_atime, 'i_atime_extra'), mtime: time(v.i_mtime, 'i_mtime_extra'), ctime: time(v.i_ctime, 'i_ctime_extra'),
      size: n.type === 'file' || n.type === 'symlink' ? n.size : 0,
      rdevMajor: 0, rdevMinor: 0,
      xattrs: this.xattrs(n),
    };
    if (n.type === 'chardev' || n.type === 'blockdev') {
      const d = decodeDevice(v.i_block);
      s.rdevMajor = d.major;
      s.rdevMinor = d.minor;
    }
    if (n.type === 'symlink') s.linkTarget = this.target(n);
    if (n.type === 'file') s.content = this.content(n);
    return s;
  }

  private target(n: LoadedInode): string {
    if (n.size > SYMLINK_MAX) {
      throw fsError(this.src, `ext4 symlink inode ${n.ino}`, 'i_size_lo', n.at + Inode.offsetOf('i_size_lo'), `a target of at most ${SYMLINK_MAX} bytes`, `${n.size} bytes`);
    }
    const bytes = this.isFastSymlink(n) ? n.v.i_block.subarray(0, n.size) : this.content(n).read(0, n.size);
    return Buffer.from(bytes).toString('utf8');
  }

  /** Entries of a directory inode, '.' and '..' left out, in on-disk order. */
  private entries(n: LoadedInode): Ext4DirEntry[] {
    const hit = this.dirCache.get(n.ino);
    if (hit) return hit;
    const out: Ext4DirEntry[] = [];
    if (this.isInline(n)) {
      // i_block: the parent's inode number, then entries; system.data: more entries.
      const [head, tail] = this.inlineParts(n);
      this.parseDirRegion(n, head.subarray(4, I_BLOCK_SIZE), 'i_block', out, n.at + Inode.offsetOf('i_block') + 4);
      if (tail.length) this.parseDirRegion(n, tail, 'system.data', out, undefined);
    } else {
      // Only mapped blocks are read (a directory has no holes; a damaged one that claims a
      // huge size costs no more than the blocks it really maps).
      const bs = this.src.blockSize;
      const blocks = Math.ceil(n.size / bs);
      for (const r of this.runs(n)) {
        if (r.uninit) continue;
        for (let blk = r.logical; blk < r.logical + r.length && blk < blocks; blk++) {
          const at = (r.physical + blk - r.logical) * bs;
          this.parseDirRegion(n, this.dev.readAt(at, bs), `block ${blk}`, out, at);
        }
      }
    }
    this.dirCache.set(n.ino, out);
    return out;
  }

  /** An index of each directory once it has been searched by name. */
  private readonly dirIndex = new Map<number, Map<string, Ext4DirEntry>>();

  /** ReadableFs: the entry `name` of directory inode `dir`. */
  child(dir: number, name: string): Ext4DirEntry | undefined {
    const n = this.loadInode(dir);
    if (n.type !== 'dir') throw new InputError(`ext4: inode ${dir} is a ${n.type}, not a directory`);
    let index = this.dirIndex.get(dir);
    if (!index) {
      index = new Map();
      for (const e of this.entries(n)) if (!index.has(e.name)) index.set(e.name, e);
      this.dirIndex.set(dir, index);
    }
    return index.get(name);
  }

  /** ReadableFs: the entries of directory inode `dir`, sorted by bytes. */
  list(dir: number): Ext4DirEntry[] {
    const n = this.loadInode(dir);
    if (n.type !== 'dir') throw new InputError(`ext4: inode ${dir} is a ${n.type}, not a directory`);
    return [...this.entries(n)].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  statIno(ino: number, path: string): Ext4Stat {
    return this.statInode(this.loadInode(ino), path);
  }

  contentOf(ino: number): Ext4FileContent {
    const n = this.loadInode(ino);
    if (n.type !== 'file') throw new InputError(`ext4: inode ${ino} is a ${n.type}, not a regular file`);
    return this.content(n);
  }

  linkTarget(ino: number): string {
    const n = this.loadInode(ino);
    if (n.type !== 'symlink') throw new InputError(`ext4: inode ${ino} is a ${n.type}, not a symbolic link`);
    return this.target(n);
  }

  /** Linear directory entries filling `data` (a leaf block, or an inline region). */
  private parseDirRegion(n: LoadedInode, data: Uint8Array, where: string, out: Ext4DirEntry[], dataAt: number | undefined): void {
    const size = data.length;
    const filetype = (this.geo.sb.s_feature_incompat & INCOMPAT.FILETYPE) !== 0;
    const FT: EntryType[] = ['file', 'file', 'dir', 'chardev', 'blockdev', 'fifo', 'socket', 'symlink'];
    let at = 0;
    while (at + DirEntry.size <= size) {
      const e = DirEntry.decode(data, at);
      let rec = e.rec_len;
      if (size >= 65536 && (rec === 65535 || rec === 0)) rec = size;
      if (rec < DirEntry.size || at + rec > size || (e.inode !== 0 && DirEntry.size + e.name_len > rec)) {
        throw fsError(this.src, `directory entry of inode ${n.ino} (${where})`, 'rec_len', dataAt === undefined ? undefined : dataAt + at + DirEntry.offsetOf('rec_len'),
          `rec_len ${DirEntry.size}..${size - at} holding the name`, `rec_len ${e.rec_len}, name_len ${e.name_len}`);
      }
      if (e.inode !== 0) {
        const name = Buffer.from(data.subarray(at + DirEntry.size, at + DirEntry.size + e.name_len)).toString('utf8');
        if (name !== '.' && name !== '..') {
          const type = filetype && e.file_type >= 1 && e.file_type <= 7 ? FT[e.file_type]! : this.loadInode(e.inode).type;
          out.push({ name, ino: e.inode, type });
        }
      }
      at += rec;
    }
  }

  /** Inode number of `path`; symlinks in the middle are followed (within this filesystem), the last one is not unless `follow`. */
  lookup(path: string, opts: { follow?: boolean } = {}): number {
    return this.resolve(path, opts.follow ?? false);
  }

  private resolve(path: string, followLast: boolean): number {
    return resolvePath([{ point: '/', fs: this }], path, followLast, 'in the ext4 filesystem').ino;
  }

  stat(path: string): Ext4Stat {
    return this.statInode(this.loadInode(this.lookup(path)), normalise(path));
  }

  readdir(path: string): Ext4DirEntry[] {
    const n = this.loadInode(this.lookup(path, { follow: true }));
    if (n.type !== 'dir') throw new InputError(`ext4: '${path}' is a ${n.type}, not a directory`);
    return this.entries(n).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  }

  readFile(path: string, opts: { maxBytes?: number } = {}): Uint8Array {
    const c = this.fileContent(path);
    const max = Math.min(opts.maxBytes ?? READ_FILE_MAX, READ_FILE_MAX);
    if (c.size > max) {
      throw new InputError(`ext4: '${path}' is ${c.size} bytes, more than the ${max} read in one piece`, 'read it in pieces through fileContent()');
    }
    return c.read(0, c.size);
  }

  /** The content of the regular file at `path` (symlinks followed), read on demand. */
  fileContent(path: string): Ext4FileContent {
    const n = this.loadInode(this.lookup(path, { follow: true }));
    if (n.type !== 'file') throw new InputError(`ext4: '${path}' is a ${n.type}, not a regular file`);
    return this.content(n);
  }

  /** Where the data of `path` lives: logical-to-physical block runs (empty for fast symlinks and devices). */
  blockRuns(path: string): Run[] {
    const n = this.loadInode(this.lookup(path));
    if ((n.type !== 'file' && n.type !== 'dir' && n.type !== 'symlink') || this.isFastSymlink(n) || this.isInline(n)) return [];
    return this.runs(n).map((r) => ({ ...r }));
  }

  readlink(path: string): string {
    const n = this.loadInode(this.lookup(path));
    if (n.type !== 'symlink') throw new InputError(`ext4: '${path}' is a ${n.type}, not a symbolic link`);
    return this.target(n);
  }

  /** The whole filesystem as a tree (lost+found included); content is read on demand. */
  walk(opts: { exclude?: (path: string) => boolean } = {}): FileTree {
    const out: TreeEntry[] = [];
    const byIno = new Map<number, Ext4Stat[]>();
    const dirsSeen = new Set<number>();
    const visit = (ino: number, path: string): void => {
      const s = this.statInode(this.loadInode(ino), path);
      if (s.type === 'dir') {
        if (dirsSeen.has(ino)) {
          throw fsError(this.src, `ext4 directory '${path}'`, undefined, undefined, 'each directory reached once', `inode ${ino} again (a directory loop)`);
        }
        dirsSeen.add(ino);
      }
      out.push(s);
      if (s.type !== 'dir' && s.nlink > 1) {
        const g = byIno.get(ino) ?? [];
        g.push(s);
        byIno.set(ino, g);
      }
      if (s.type !== 'dir') return;
      const children = this.entries(this.loadInode(ino)).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
      for (const c of children) {
        const p = path === '/' ? '/' + c.name : `${path}/${c.name}`;
        if (!opts.exclude?.(p)) visit(c.ino, p);
      }
    };
    visit(INO.ROOT, '/');
    for (const [ino, g] of byIno) if (g.length > 1) for (const s of g) s.hardlinkKey = `ext4:${ino}`;
    const byPath = new Map(out.map((e) => [e.path, e]));
    return { entries: out, get: (p) => byPath.get(p), close: () => {} };
  }
}

function normalise(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

/** Opens the ext2/3/4 filesystem on `dev` (a whole device or a partition's SliceBlockDevice). */
export function openExt4(dev: BlockDevice): Ext4Reader {
  return new Ext4Reader(dev);
}

