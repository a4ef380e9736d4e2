/**
 * A read-only FAT12/16/32 reader over a BlockDevice (Microsoft FAT spec v1.03): directories
 * with their VFAT long names (section 7, checked against the short name's checksum, as
 * Linux's vfat does), files read through their cluster chains, behind the filesystem
 * interface inspection uses (src/fs/readable.ts), so that disk-image-ls and disk-image-cat
 * read an EFI system partition as they read ext4. Names are looked up as Linux's vfat does:
 * the exact name first, then regardless of case. Modes are those a default vfat mount shows
 * (0755, without the write bits for a read-only file); owner root; times as stored (UTC).
 */
import { type BlockDevice, SliceBlockDevice } from '../../binary/block-device.js';
import { FormatError, InputError } from '../../errors.js';
import type { EntryType, Timestamp } from '../../tree/model.js';
import type { FsDirEntry, FsFileContent, FsStat, ReadableFs } from '../readable.js';
import { shortNameChecksum } from './names.js';
import { type ByteRun, FatTable, type FatVolume, readFatVolume } from './reader-volume.js';
import { ATTR_DIRECTORY, ATTR_LONG_NAME, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIR_ENTRY_SIZE, DirEntry, LAST_LONG_ENTRY, LfnEntry } from './structs.js';

/** A directory holds at most 65536 entries (spec section 6). */
const MAX_DIR_BYTES = 65536 * DIR_ENTRY_SIZE;
const DELETED = 0xe5;
const KANJI_E5 = 0x05;
/** DIR_NTRes bits Windows NT and Linux use for an all-lower-case base name or extension. */
const NTRES_LOWER_BASE = 0x08;
const NTRES_LOWER_EXT = 0x10;
const ROOT_INO = 1;

interface FatNode {
  ino: number;
  type: EntryType;
  firstCluster: number;
  size: number;
  attr: number;
  /** Byte offset of its short entry in the volume (undefined for the root). */
  at?: number;
  raw?: ReturnType<typeof DirEntry.decode>;
}

/** FAT date and time (2-second resolution, local time as stored, taken as UTC). */
function fatTime(date: number, time = 0, tenths = 0): Timestamp {
  if (date === 0) return { sec: 0, nsec: 0 };
  const ms = Date.UTC(1980 + (date >> 9), ((date >> 5) & 0xf) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2);
  const extra = tenths * 10;
  return { sec: Math.floor(ms / 1000) + Math.floor(extra / 1000), nsec: (extra % 1000) * 1_000_000 };
}

/** The 8.3 name as Linux shows it: trimmed, lower-cased where DIR_NTRes says so. */
function shortName(name11: Uint8Array, ntres: number): string {
  const bytes = Uint8Array.from(name11);
  if (bytes[0] === KANJI_E5) bytes[0] = DELETED;
  let base = Buffer.from(bytes.subarray(0, 8)).toString('latin1').trimEnd();
  let ext = Buffer.from(bytes.subarray(8, 11)).toString('latin1').trimEnd();
  if (ntres & NTRES_LOWER_BASE) base = base.toLowerCase();
  if (ntres & NTRES_LOWER_EXT) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}

/** Long-name pieces gathered before a short entry (spec section 7). */
class LongName {
  private units: number[][] = [];
  private count = 0;
  private sum = -1;
  private nextOrd = 0;

  add(rec: Uint8Array, at: number): void {
    const l = LfnEntry.decode(rec, at);
    const ord = l.LDIR_Ord & 0x1f;
    if (l.LDIR_Ord & LAST_LONG_ENTRY) {
      this.units = [];
      this.count = ord;
      this.sum = l.LDIR_Chksum;
      this.nextOrd = ord;
    }
    if (ord === 0 || ord !== this.nextOrd || l.LDIR_Chksum !== this.sum) {
      this.reset();
      return;
    }
    const piece = [...l.LDIR_Name1, ...l.LDIR_Name2, ...l.LDIR_Name3];
    const u: number[] = [];
    for (let i = 0; i < piece.length; i += 2) u.push(piece[i]! | (piece[i + 1]! << 8));
    this.units[ord - 1] = u;
    this.nextOrd = ord - 1;
  }

  /** The long name when every piece arrived and belongs to `name11`, else undefined; then starts over. */
  take(name11: Uint8Array): string | undefined {
    const complete = this.count > 0 && this.nextOrd === 0 && this.sum === shortNameChecksum(name11);
    const units = this.units.flat();
    this.reset();
    if (!complete) return undefined;
    const end = units.indexOf(0);
    return String.fromCharCode(...(end < 0 ? units : units.slice(0, end)));
  }

  reset(): void {
    this.units = [];
    this.count = 0;
    this.sum = -1;
    this.nextOrd = 0;
  }
}

export class FatReader implements ReadableFs {
  readonly kind = 'vfat';
  readonly rootIno = ROOT_INO;
  readonly volume: FatVolume;
  /** Byte offset of the volume in the image: errors name offsets in the image. */
  readonly origin: number;
  private readonly table: FatTable;
  private readonly nodes: FatNode[] = [];
  private readonly listings = new Map<number, FsDirEntry[]>();

  constructor(private readonly dev: BlockDevice, opts: { origin?: number } = {}) {
    this.origin = opts.origin ?? (dev instanceof SliceBlockDevice ? dev.start : 0);
    this.volume = readFatVolume(dev, this.origin);
    this.table = new FatTable(dev, this.volume, this.origin);
    this.nodes[ROOT_INO] = { ino: ROOT_INO, type: 'dir', firstCluster: this.volume.rootCluster, size: 0, attr: ATTR_DIRECTORY };
  }

  private node(ino: number): FatNode {
    const n = this.nodes[ino];
    if (!n) throw new InputError(`vfat: no node ${ino} has been listed`);
    return n;
  }

  private dirNode(ino: number): FatNode {
    const n = this.node(ino);
    if (n.type !== 'dir') throw new InputError(`vfat: node ${ino} is a ${n.type}, not a directory`);
    return n;
  }

  /** Where a directory's entries are: the fixed FAT12/16 root region, or its cluster chain. */
  private dirRuns(n: FatNode): ByteRun[] {
    const v = this.volume;
    if (n.ino === ROOT_INO && v.fatType !== 32) return [[v.rootDirStart, v.rootDirBytes]];
    if (n.firstCluster === 0) return [];
    return this.table.chain(n.firstCluster, Math.ceil(MAX_DIR_BYTES / v.clusterBytes), `directory node ${n.ino}`);
  }

  private readRuns(runs: ByteRun[]): Uint8Array {
    const total = runs.reduce((s, r) => s + r[1], 0);
    const out = new Uint8Array(total);
    let pos = 0;
    for (const [at, n] of runs) {
      out.set(this.dev.readAt(at, n), pos);
      pos += n;
    }
    return out;
  }

  /** Parses a directory's entries into nodes (in on-disk order). */
  private parse(dir: FatNode): FsDirEntry[] {
    const runs = this.dirRuns(dir);
    const bytes = this.readRuns(runs);
    const out: FsDirEntry[] = [];
    const long = new LongName();
    for (let at = 0; at + DIR_ENTRY_SIZE <= bytes.length; at += DIR_ENTRY_SIZE) {
      const first = bytes[at]!;
      if (first === 0) break;
      if (first === DELETED) {
        long.reset();
        continue;
      }
      const attr = bytes[at + DirEntry.offsetOf('DIR_Attr')]!;
      if ((attr & 0x3f) === ATTR_LONG_NAME) {
        long.add(bytes, at);
        continue;
      }
      const e = DirEntry.decode(bytes, at);
      const name = long.take(e.DIR_Name) ?? shortName(e.DIR_Name, e.DIR_NTRes);
      if (attr & ATTR_VOLUME_ID || name === '.' || name === '..') continue;
      const node: FatNode = {
        ino: this.nodes.length, type: attr & ATTR_DIRECTORY ? 'dir' : 'file',
        firstCluster: (this.volume.fatType === 32 ? e.DIR_FstClusHI << 16 : 0) + e.DIR_FstClusLO,
        size: attr & ATTR_DIRECTORY ? 0 : e.DIR_FileSize, attr, at: this.volumeOffset(runs, at), raw: e,
      };
      this.nodes.push(node);
      out.push({ name, ino: node.ino, type: node.type });
    }
    return out;
  }

  /** The volume offset of byte `at` of the bytes `runs` hold. */
  private volumeOffset(runs: ByteRun[], at: number): number {
    let left = at;
    for (const [start, n] of runs) {
      if (left < n) return start + left;
      left -= n;
    }
    return 0;
  }

  list(dir: number): FsDirEntry[] {
    const d = this.dirNode(dir);
    let l = this.listings.get(dir);
    if (!l) {
      l = this.parse(d).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
      this.listings.set(dir, l);
    }
    return l;
  }

  child(dir: number, name: string): FsDirEntry | undefined {
    const all = this.list(dir);
    const upper = name.toUpperCase();
    return all.find((e) => e.name === name) ?? all.find((e) => e.name.toUpperCase() === upper);
  }

  statIno(ino: number, path: string): FsStat {
    const n = this.node(ino);
    const r = n.raw;
    const mtime = r ? fatTime(r.DIR_WrtDate, r.DIR_WrtTime) : { sec: 0, nsec: 0 };
    const s: FsStat = {
      path, type: n.type, ino, nlink: 1, mode: n.attr & ATTR_READ_ONLY ? 0o555 : 0o755, uid: 0, gid: 0,
      mtime, atime: r ? fatTime(r.DIR_LstAccDate) : mtime, ctime: r ? fatTime(r.DIR_CrtDate, r.DIR_CrtTime, r.DIR_CrtTimeTenth) : mtime,
      size: n.size, rdevMajor: 0, rdevMinor: 0, xattrs: new Map(),
    };
    if (n.type === 'file') s.content = this.contentOf(ino);
    return s;
  }

  contentOf(ino: number): FsFileContent {
    const n = this.node(ino);
    if (n.type !== 'file') throw new InputError(`vfat: node ${ino} is a ${n.type}, not a regular file`);
    let runs: ByteRun[] | undefined;
    const load = (): ByteRun[] => {
      if (runs) return runs;
      const cs = this.volume.clusterBytes;
      runs = n.size === 0 ? [] : this.table.chain(n.firstCluster, Math.ceil(n.size / cs), `the file at ${this.origin + (n.at ?? 0)}`);
      const have = runs.reduce((s, r) => s + r[1], 0);
      if (have < n.size) {
        throw new FormatError({ struct: 'FAT directory entry', field: 'DIR_FileSize', offset: this.origin + (n.at ?? 0) + DirEntry.offsetOf('DIR_FileSize'),
          expected: `at most the ${have} bytes its cluster chain holds`, actual: `${n.size} bytes`, hint: 'the FAT volume is damaged; fsck.fat -n names the problem' });
      }
      return runs;
    };
    const readInto = (offset: number, target: Uint8Array): void => {
      const end = Math.min(n.size, offset + target.length);
      let pos = 0;
      let skip = offset;
      for (const [at, len] of load()) {
        if (offset + pos >= end) break;
        if (skip >= len) {
          skip -= len;
          continue;
        }
        const take = Math.min(len - skip, end - offset - pos);
        target.set(this.dev.readAt(at + skip, take), pos);
        pos += take;
        skip = 0;
      }
      target.fill(0, Math.max(0, pos));
    };
    return {
      size: n.size,
      read: (offset, length) => {
        const out = new Uint8Array(Math.max(0, Math.min(length, n.size - offset)));
        readInto(offset, out);
        return out;
      },
      readInto,
    };
  }

  linkTarget(ino: number): string {
    throw new InputError(`vfat: node ${ino} is a ${this.node(ino).type}, not a symbolic link (FAT has none)`);
  }
}

/** Opens the FAT filesystem on `dev` (a whole device or a partition's SliceBlockDevice). */
export function openFat(dev: BlockDevice): FatReader {
  return new FatReader(dev);
}
