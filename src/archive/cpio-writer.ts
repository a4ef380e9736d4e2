/**
 * A cpio newc archive from a file tree, planned then written (see newc-header.ts for the
 * format). Planning is pure: every entry's header and name, the archive's size, and the
 * warnings for what newc cannot hold. Writing streams the archive out in chunks of about
 * 1 MiB, reading file contents in tree order.
 *
 * Choices, as GNU cpio (`find . | cpio -o -H newc`) and the kernel's unpacker
 * (init/initramfs.c) see them:
 * - names are the tree paths without the leading '/', the root is '.', counted in UTF-8 bytes;
 * - inode numbers count from 1 in tree order (hard links share one), device 0:0;
 * - hard links: every link is an entry with the same inode number and c_nlink; the data goes
 *   with the last one, the others have size 0 (the kernel links later names to the first
 *   and writes the data through the last);
 * - directories have c_nlink 2 + their subdirectories, other entries 1;
 * - times are the modification times in whole seconds, clamped to SOURCE_DATE_EPOCH when it
 *   is given; times newc cannot hold (before 1970, after 2106) are clamped with a warning;
 * - a file over 4 GiB - 1 is refused (newc's size field is 32 bits); extended attributes
 *   cannot be stored and are dropped with a warning that counts them.
 */
import { DiskImageError, InternalError } from '../errors.js';
import { readAhead, type FileContent, type FileTree, type TreeEntry, S_IFMT } from '../tree/model.js';
import { NEWC_HEADER_SIZE, NEWC_MAGIC, NEWC_TRAILER, NewcHeader, pad4, type NewcHeaderValue } from './newc-header.js';

export interface CpioOptions {
  /** Later modification times are written as this (seconds since 1970). */
  sourceDateEpoch?: number;
}

export interface CpioEntryPlan {
  /** Tree path ('' for the trailer). */
  path: string;
  name: Uint8Array;
  header: NewcHeaderValue;
  /** Where the data comes from: file content, or a symlink's target bytes. */
  content?: FileContent;
  data?: Uint8Array;
}

export interface CpioPlan {
  entries: CpioEntryPlan[];
  /** Total bytes of the archive, trailer included (no block padding). */
  size: number;
  /** What newc could not hold and how it was written instead. */
  warnings: string[];
}

const MAX_U32 = 0xffffffff;
const encoder = new TextEncoder();

function cpioName(path: string): string {
  return path === '/' ? '.' : path.slice(1);
}

function header(fields: Partial<NewcHeaderValue>): NewcHeaderValue {
  return {
    c_magic: NEWC_MAGIC, c_ino: 0, c_mode: 0, c_uid: 0, c_gid: 0, c_nlink: 1, c_mtime: 0, c_filesize: 0,
    c_devmajor: 0, c_devminor: 0, c_rdevmajor: 0, c_rdevminor: 0, c_namesize: 0, c_check: 0, ...fields,
  };
}

function entryBytes(nameSize: number, dataSize: number): number {
  return NEWC_HEADER_SIZE + nameSize + pad4(NEWC_HEADER_SIZE + nameSize) + dataSize + pad4(dataSize);
}

/** Collects one kind of warning: how many entries and the first few paths. */
class WarningTally {
  private readonly seen = new Map<string, string[]>();
  add(kind: string, path: string): void {
    let l = this.seen.get(kind);
    if (!l) this.seen.set(kind, (l = []));
    l.push(path);
  }
  lines(): string[] {
    return [...this.seen].map(([kind, paths]) =>
      `${kind}: ${paths.length} ${paths.length === 1 ? 'entry' : 'entries'} (${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', ...' : ''})`);
  }
}

/** The archive's entries in tree order, then the trailer. */
export function planCpio(tree: FileTree, opts: CpioOptions = {}): CpioPlan {
  const warnings = new WarningTally();
  const entries = tree.entries;
  // Hard-link groups: how many links, which entry is the last (it carries the data), the inode.
  const groups = new Map<string, { count: number; last: TreeEntry; ino: number; content?: FileContent }>();
  const subdirs = new Map<string, number>();
  for (const e of entries) {
    if (e.type === 'dir' && e.path !== '/') {
      const parent = e.path.slice(0, Math.max(1, e.path.lastIndexOf('/')));
      subdirs.set(parent, (subdirs.get(parent) ?? 0) + 1);
    }
    if (e.hardlinkKey === undefined) continue;
    const g = groups.get(e.hardlinkKey);
    if (g) {
      g.count++;
      g.last = e;
    } else {
      groups.set(e.hardlinkKey, { count: 1, last: e, ino: 0, ...(e.content ? { content: e.content } : {}) });
    }
  }
  const plan: CpioEntryPlan[] = [];
  let size = 0;
  let nextIno = 1;
  for (const e of entries) {
    const g = e.hardlinkKey !== undefined ? groups.get(e.hardlinkKey)! : undefined;
    let ino: number;
    if (g && g.ino !== 0) ino = g.ino;
    else {
      ino = nextIno++;
      if (g) g.ino = ino;
    }
    let mtime = e.mtime.sec;
    if (opts.sourceDateEpoch !== undefined && mtime > opts.sourceDateEpoch) mtime = opts.sourceDateEpoch;
    if (mtime < 0) {
      warnings.add('times before 1970 written as 1970-01-01 (newc times are unsigned)', e.path);
      mtime = 0;
    } else if (mtime > MAX_U32) {
      warnings.add('times after 2106-02-07 written as 2106-02-07 (newc times are 32-bit)', e.path);
      mtime = MAX_U32;
    }
    if (e.xattrs.size > 0) warnings.add('extended attributes dropped (newc cannot hold them)', `${e.path} ${[...e.xattrs.keys()].join(',')}`);
    const name = encoder.encode(cpioName(e.path));
    const p: CpioEntryPlan = {
      path: e.path,
      name,
      header: header({
        c_ino: ino,
        c_mode: S_IFMT[e.type] | (e.mode & 0o7777),
        c_uid: e.uid,
        c_gid: e.gid,
        c_nlink: g ? g.count : e.type === 'dir' ? 2 + (subdirs.get(e.path) ?? 0) : 1,
        c_mtime: mtime,
        c_namesize: name.length + 1,
        ...(e.type === 'chardev' || e.type === 'blockdev' ? { c_rdevmajor: e.rdevMajor, c_rdevminor: e.rdevMinor } : {}),
      }),
    };
    if (e.type === 'file' && (!g || g.last === e)) {
      const content = g ? g.content : e.content;
      const fileSize = content?.size ?? 0;
      if (fileSize > MAX_U32) {
        throw new DiskImageError('UNSUPPORTED', `${e.path} is ${fileSize} bytes: a cpio newc archive holds files up to 4 GiB - 1 (its size field is 32 bits)`,
          'leave the file out of the ramdisk, or split it');
      }
      p.header.c_filesize = fileSize;
      if (content && fileSize > 0) p.content = content;
    } else if (e.type === 'symlink') {
      p.data = encoder.encode(e.linkTarget ?? '');
      p.header.c_filesize = p.data.length;
    }
    plan.push(p);
    size += entryBytes(p.header.c_namesize, p.header.c_filesize);
  }
  const trailerName = encoder.encode(NEWC_TRAILER);
  plan.push({ path: '', name: trailerName, header: header({ c_namesize: trailerName.length + 1 }) });
  size += entryBytes(trailerName.length + 1, 0);
  return { entries: plan, size, warnings: warnings.lines() };
}

const CHUNK = 1 << 20;

/**
 * The archive's bytes in order, as chunks of about 1 MiB (larger pieces of big files come
 * straight from their content). Each chunk is valid until the next one is asked for: a
 * consumer that keeps chunks must copy them.
 */
export function* cpioChunks(plan: CpioPlan): Generator<Uint8Array, void, undefined> {
  readAhead(plan.entries.flatMap((p) => (p.content ? [p.content] : [])));
  let buf = new Uint8Array(CHUNK + NEWC_HEADER_SIZE + 8192);
  let at = 0;
  for (const p of plan.entries) {
    const nameEnd = NEWC_HEADER_SIZE + p.name.length + 1;
    const headLen = nameEnd + pad4(nameEnd);
    if (at + headLen > buf.length) {
      if (at > 0) {
        yield buf.subarray(0, at);
        at = 0;
      }
      if (headLen > buf.length) buf = new Uint8Array(headLen + CHUNK);
    }
    NewcHeader.encode(p.header, buf, at);
    buf.set(p.name, at + NEWC_HEADER_SIZE);
    buf.fill(0, at + NEWC_HEADER_SIZE + p.name.length, at + headLen);
    at += headLen;
    const size = p.header.c_filesize;
    if (size === 0) continue;
    if (p.data) {
      if (at + size + 4 > buf.length) {
        yield buf.subarray(0, at);
        at = 0;
        if (size + 4 > buf.length) buf = new Uint8Array(size + 4 + CHUNK);
      }
      buf.set(p.data, at);
      at += size;
    } else {
      const content = p.content!;
      for (let off = 0; off < size;) {
        const room = buf.length - at;
        if (room < 4096 && at > 0) {
          yield buf.subarray(0, at);
          at = 0;
          continue;
        }
        const want = Math.min(size - off, size - off > room ? CHUNK : room);
        if (want > room) {
          // A big file: hand its piece on directly rather than copying it.
          if (at > 0) {
            yield buf.subarray(0, at);
            at = 0;
          }
          const piece = content.read(off, want);
          checkRead(p.path, off, want, piece);
          yield piece;
          off += want;
          continue;
        }
        const piece = content.read(off, want);
        checkRead(p.path, off, want, piece);
        buf.set(piece, at);
        at += want;
        off += want;
      }
    }
    const pad = pad4(size);
    if (pad) {
      if (at + pad > buf.length) {
        yield buf.subarray(0, at);
        at = 0;
      }
      buf.fill(0, at, at + pad);
      at += pad;
    }
  }
  if (at > 0) yield buf.subarray(0, at);
}

function checkRead(path: string, offset: number, want: number, got: Uint8Array): void {
  if (got.length !== want) {
    throw new DiskImageError('IO', `${path}: read ${got.length} bytes at offset ${offset} but expected ${want} (the file changed while the archive was written?)`,
      'do not change the tree while the ramdisk is written');
  }
}

/** The whole archive in memory (tests, small archives such as early microcode). */
export function cpioBytes(plan: CpioPlan): Uint8Array {
  const out = new Uint8Array(plan.size);
  let at = 0;
  for (const c of cpioChunks(plan)) {
    out.set(c, at);
    at += c.length;
  }
  if (at !== plan.size) throw new InternalError(`cpio writer: wrote ${at} bytes but the plan says ${plan.size}`);
  return out;
}
