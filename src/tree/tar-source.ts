/**
 * A FileTree read from a tar archive (ustar, GNU and pax; plain or gzip-compressed), so a
 * tree can come from `tar -C ROOT --xattrs --acls -cpf - .` without root. A plain .tar file
 * is read in place: each entry reads its byte range of the archive. A stream or a .tar.gz
 * is spooled to ONE unlinked temporary file (zero chunks are skipped, so holes stay holes).
 * close() closes the archive and the spool (input plumbing: tar-input.ts). Extended
 * attributes come from pax SCHILY.xattr.* (raw bytes) and LIBARCHIVE.xattr.* (URL-encoded name, base64 value)
 * records, ACLs from the raw system.posix_acl_* attributes or, failing that, SCHILY.acl.*.
 * GNU sparse members, multi-volume archives, zstd/xz/bzip2 input are refused with a hint.
 * Header layout: see tar-header.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isZero } from '../binary/block-device.js';
import { InputError } from '../errors.js';
import { type EntryType, type FileTree, type Timestamp, type TreeEntry, parentOf } from './model.js';
import { normaliseMemberPath, sortEntries, syntheticDir, treeFromEntries } from './entries.js';
import { ACL_TAG, decodePosixAclXattr } from './posix-acl.js';
import {
  TAR_BLOCK, TarHeader, aclTextToXattr, cString, headerChecksum, paxText, paxTime, parsePax, tarNumber,
  type PaxRecords,
} from './tar-header.js';
import { type ChunkSource, ByteReader, FdSource, Spool, openChunks, openPlainFile, rangeContent } from './tar-input.js';
import { alignUp } from '../binary/align.js';

export interface TarTreeOptions {
  /** Directory for the spool file (default os.tmpdir()). */
  spoolDir?: string;
  /** Name used in error messages (default: the path, or 'tar stream'). */
  label?: string;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '2': 'symlink', '3': 'chardev', '4': 'blockdev', '5': 'dir', '6': 'fifo',
};

/** The permission bits of the mask entry of a Linux ACL xattr, if it has one. */
function maskOf(acl: Uint8Array | undefined, where: string): number | undefined {
  if (!acl) return undefined;
  const mask = decodePosixAclXattr(acl, where).find((e) => e.e_tag === ACL_TAG.MASK);
  return mask ? mask.e_perm & 7 : undefined;
}

function base64Xattr(name: string): string {
  return decodeURIComponent(name);
}

/** Where member content ends up: ranges of the archive file itself, or the spool. */
interface Store {
  /** The open plain archive, when content is read in place. */
  direct?: { fd: number; label: string };
  spool(): Spool;
}

/**
 * Reads a whole archive into a tree. A plain .tar file is read in place (content is served
 * from it, so it must not change until close()); a stream or a .tar.gz is spooled.
 */
export async function tarTree(input: string | NodeJS.ReadableStream, opts: TarTreeOptions = {}): Promise<FileTree> {
  const label = opts.label ?? (typeof input === 'string' ? input : 'tar stream');
  const plain = typeof input === 'string' ? openPlainFile(input, label) : undefined;
  let spool: Spool | undefined;
  let closed = false;
  const release = (): void => {
    closed = true;
    spool?.close();
    if (plain) fs.closeSync(plain.fd);
  };
  const store: Store = {
    direct: plain && { fd: plain.fd, label },
    spool: () => (spool ??= new Spool(opts.spoolDir ?? os.tmpdir())),
  };
  try {
    const source: ChunkSource = plain ? new FdSource(plain.fd, plain.size) : await openChunks(input, label);
    const reader = new ByteReader(source, label);
    const entries = await readMembers(reader, store, label, () => closed);
    await reader.drain();
    (spool as Spool | undefined)?.finish();
    return treeFromEntries(entries, release);
  } catch (e) {
    release();
    throw e;
  }
}

/** The records that describe the next member (pax x, L, K) and the archive's global ones (pax g). */
interface Pending {
  globalPax: PaxRecords;
  pax?: PaxRecords;
  longName?: string;
  longLink?: string;
}

/** One member's header with every record that applies to it merged in. */
interface Member {
  at: number;
  h: ReturnType<typeof TarHeader.decode>;
  flag: string;
  /** `label: member at offset N`, for errors. */
  where: string;
  paxStr: (k: string) => string | undefined;
  recs: PaxRecords;
  /** Bytes of data that follow the header, and the same rounded up to whole blocks. */
  size: number;
  padded: number;
  /** A pax sparse 1.0 member. */
  sparse: boolean;
  gnu: boolean;
  name: string;
  linkname: string;
}

/** What the member loop carries from one member to the next. */
interface Members {
  r: ByteReader;
  store: Store;
  label: string;
  isClosed: () => boolean;
  byPath: Map<string, TreeEntry>;
  linkGroups: number;
}

/** Reads every member up to the end of the archive; returns the tree's entries, sorted, with missing parents added. */
async function readMembers(r: ByteReader, store: Store, label: string, isClosed: () => boolean): Promise<TreeEntry[]> {
  const m: Members = { r, store, label, isClosed, byPath: new Map(), linkGroups: 0 };
  const pending: Pending = { globalPax: new Map() };
  for (;;) {
    const at = r.offset;
    const block = await r.exact(TAR_BLOCK, 'header');
    if (!block && at === 0) throw new InputError(`${label}: the archive is empty`, 'expected a tar archive (tar -C ROOT -cpf OUT .)');
    if (!block || isZero(block)) break; // no end-of-archive blocks: accepted, as GNU tar does
    const h = checkedHeader(block, at, label);
    const flag = String.fromCharCode(h.typeflag);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') await readRecordMember(m, h, flag, at, pending);
    else await readMember(m, memberOf(h, flag, at, label, pending));
  }
  addMissingParents(m.byPath, label);
  return sortEntries([...m.byPath.values()]);
}

/** The decoded header of the block at `at`, its checksum checked. */
function checkedHeader(block: Buffer, at: number, label: string): ReturnType<typeof TarHeader.decode> {
  const h = TarHeader.decode(block);
  const stored = tarNumber(h.chksum, 'chksum', at);
  const actual = headerChecksum(block);
  if (stored !== actual) {
    throw new InputError(`${label}: tar header at offset ${at}: checksum expected ${actual} but it was ${stored}`,
      'the archive is damaged, or this is not a tar archive');
  }
  return h;
}

/** A pax extended header (x: the next member's, g: global) or a GNU long name (L) or long link target (K). */
async function readRecordMember(m: Members, h: ReturnType<typeof TarHeader.decode>, flag: string, at: number, pending: Pending): Promise<void> {
  // A pending pax size applies to a long name or link (L, K) too, as to any member but pax headers.
  const paxSize = flag === 'L' || flag === 'K' ? new Map([...pending.globalPax, ...(pending.pax ?? [])]).get('size') : undefined;
  const headerSize = tarNumber(h.size, 'size', at);
  const size = paxSize !== undefined ? Number(paxText(paxSize)) : headerSize;
  const data = (await m.r.exact(alignUp(size, TAR_BLOCK), `${flag} header data`))?.subarray(0, size) ?? Buffer.alloc(0);
  if (flag === 'x') pending.pax = parsePax(data, at);
  else if (flag === 'g') pending.globalPax = new Map([...pending.globalPax, ...parsePax(data, at)]);
  else if (flag === 'L') pending.longName = cString(data);
  else pending.longLink = cString(data);
}

/** The member of header `h` with the pending records applied (which it uses up); refuses sparse and multi-volume kinds it cannot read. */
function memberOf(h: ReturnType<typeof TarHeader.decode>, flag: string, at: number, label: string, pending: Pending): Member {
  const where = `${label}: member at offset ${at}`;
  const recs = new Map([...pending.globalPax, ...(pending.pax ?? [])]);
  const paxStr = (k: string): string | undefined => (recs.has(k) ? paxText(recs.get(k)!) : undefined);
  const headerSize = tarNumber(h.size, 'size', at);
  const size = paxStr('size') !== undefined ? Number(paxStr('size')) : headerSize;
  const sparse = paxStr('GNU.sparse.major') === '1' && paxStr('GNU.sparse.minor') === '0';
  if (flag === 'S' || (!sparse && [...recs.keys()].some((k) => k.startsWith('GNU.sparse.')))) {
    throw new InputError(`${where}: GNU sparse members other than pax format 1.0 are not supported`,
      'create the archive without --sparse (-S), or with --format=pax (sparse format 1.0)');
  }
  if (flag === 'M' || flag === 'N') throw new InputError(`${where}: multi-volume archives are not supported`);
  const gnu = Buffer.from(h.magic).toString('latin1') === 'ustar ';
  const { longName, longLink } = pending;
  let name = (sparse ? paxStr('GNU.sparse.name') : undefined) ?? longName ?? paxStr('path') ?? cString(h.name);
  const prefix = cString(h.prefix);
  if (!sparse && !longName && paxStr('path') === undefined && !gnu && prefix) name = `${prefix}/${name}`;
  const linkname = longLink ?? paxStr('linkpath') ?? cString(h.linkname);
  delete pending.pax;
  delete pending.longName;
  delete pending.longLink;
  return { at, h, flag, where, paxStr, recs, size, padded: alignUp(size, TAR_BLOCK), sparse, gnu, name, linkname };
}

/** One member that is not a record: a volume label (skipped), a hard link, or an entry with its content. */
async function readMember(m: Members, mb: Member): Promise<void> {
  const { r, byPath, label } = m;
  if (mb.flag === 'V') {
    await r.exact(mb.padded, 'volume label');
    return;
  }
  const type: EntryType | undefined = mb.flag === 'D' ? 'dir' : mb.flag === '1' ? 'file' : TYPES[mb.flag];
  if (!type) {
    throw new InputError(`${mb.where}: unknown member type '${mb.flag}' for '${mb.name}'`,
      'the archive uses an extension this reader does not know; recreate it with GNU tar --format=pax');
  }
  const p = normaliseMemberPath(mb.name, label);
  const entry = entryOf(mb, p, type);
  if (mb.flag === '1') {
    await addHardLink(m, mb, p);
    return;
  }
  if (type === 'file') await readContent(m, mb, entry);
  else if (mb.padded > 0) await r.exact(mb.padded, `data of '${mb.name}'`);
  const old = byPath.get(p);
  if (old?.type === 'dir' && type === 'dir') byPath.delete(p); // a later entry for a directory restates it
  byPath.set(p, entry);
}

/** The entry a member's header and records describe: owner, mode, times, attributes, device numbers, link target. */
function entryOf(mb: Member, p: string, type: EntryType): TreeEntry {
  const { h, at, paxStr, gnu } = mb;
  const mtime: Timestamp = paxStr('mtime') !== undefined ? paxTime(paxStr('mtime')!, 'mtime', at)
    : { sec: tarNumber(h.mtime, 'mtime', at), nsec: 0 };
  const gnuTime = (off: number): number => (gnu ? tarNumber(h.prefix.subarray(off, off + 12), 'time', at) : 0);
  const other = (key: string, gnuOff: number): Timestamp =>
    paxStr(key) !== undefined ? paxTime(paxStr(key)!, key, at) : gnuTime(gnuOff) ? { sec: gnuTime(gnuOff), nsec: 0 } : mtime;
  const xattrs = memberXattrs(mb);
  const entry: TreeEntry = {
    path: p, type,
    mode: tarNumber(h.mode, 'mode', at) & 0o7777,
    uid: paxStr('uid') !== undefined ? Number(paxStr('uid')) : tarNumber(h.uid, 'uid', at),
    gid: paxStr('gid') !== undefined ? Number(paxStr('gid')) : tarNumber(h.gid, 'gid', at),
    atime: other('atime', 0), mtime, ctime: other('ctime', 12),
    size: 0, rdevMajor: 0, rdevMinor: 0, xattrs,
  };
  // With an access ACL the group permission bits are the ACL mask (as the kernel shows
  // them); libarchive records the group entry's bits in the header instead.
  const aclMask = maskOf(xattrs.get('system.posix_acl_access'), `${mb.where} ('${mb.name}')`);
  if (aclMask !== undefined) entry.mode = (entry.mode & ~0o070) | (aclMask << 3);
  if (type === 'chardev' || type === 'blockdev') {
    entry.rdevMajor = paxStr('SCHILY.devmajor') !== undefined ? Number(paxStr('SCHILY.devmajor')) : tarNumber(h.devmajor, 'devmajor', at);
    entry.rdevMinor = paxStr('SCHILY.devminor') !== undefined ? Number(paxStr('SCHILY.devminor')) : tarNumber(h.devminor, 'devminor', at);
  }
  if (type === 'symlink') {
    entry.linkTarget = mb.linkname;
    entry.size = Buffer.byteLength(mb.linkname);
  }
  return entry;
}

/** Extended attributes from SCHILY.xattr.* and LIBARCHIVE.xattr.* records; ACLs from SCHILY.acl.* when no raw attribute gave them. */
function memberXattrs(mb: Member): Map<string, Uint8Array> {
  const xattrs = new Map<string, Uint8Array>();
  for (const [k, v] of mb.recs) {
    if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice(13), new Uint8Array(v));
    else if (k.startsWith('LIBARCHIVE.xattr.')) xattrs.set(base64Xattr(k.slice(17)), new Uint8Array(Buffer.from(paxText(v), 'base64')));
  }
  for (const [key, attr] of [['SCHILY.acl.access', 'system.posix_acl_access'], ['SCHILY.acl.default', 'system.posix_acl_default']] as const) {
    const text = mb.paxStr(key);
    if (text === undefined || xattrs.has(attr)) continue;
    const acl = aclTextToXattr(text, attr.endsWith('default'), `${mb.where} ('${mb.name}')`);
    if (acl) xattrs.set(attr, acl);
  }
  return xattrs;
}

/** A hard link member: a copy of its earlier target's entry at `p`, both in one link group. */
async function addHardLink(m: Members, mb: Member, p: string): Promise<void> {
  const target = m.byPath.get(normaliseMemberPath(mb.linkname, m.label));
  if (!target) throw new InputError(`${mb.where}: hard link '${mb.name}' points to '${mb.linkname}', which is not earlier in the archive`);
  if (target.type === 'dir') throw new InputError(`${mb.where}: hard link '${mb.name}' points to the directory '${mb.linkname}'`);
  if (mb.size > 0) await m.r.exact(mb.padded, 'hard link data');
  target.hardlinkKey ??= `tar:${++m.linkGroups}`;
  m.byPath.set(p, { ...target, path: p, xattrs: new Map(target.xattrs) });
}

/** A regular file's content: a pax sparse member into the spool, else in place in a plain archive, else spooled. */
async function readContent(m: Members, mb: Member, entry: TreeEntry): Promise<void> {
  const { r, store, label } = m;
  const { name, size, padded } = mb;
  if (mb.sparse) {
    const realSize = Number(mb.paxStr('GNU.sparse.realsize') ?? NaN);
    if (!Number.isSafeInteger(realSize)) throw new InputError(`${mb.where}: sparse member '${name}' has no GNU.sparse.realsize`);
    const spool = store.spool();
    const start = spool.end;
    const { used, regions } = await readSparse10(r, spool, size, realSize, `${mb.where} ('${name}')`);
    if (padded > used) await r.exact(padded - used, `padding of '${name}'`);
    entry.size = realSize;
    entry.content = spool.content(start, realSize, `${label}: ${entry.path}`, regions.filter(([, len]) => len > 0));
  } else if (store.direct) {
    const start = r.offset;
    await r.skip(padded, `'${name}'`);
    entry.size = size;
    entry.content = rangeContent(store.direct.fd, start, size, `${label}: ${entry.path}`, m.isClosed);
  } else {
    const spool = store.spool();
    const start = spool.end;
    await r.stream(size, `'${name}'`, (c) => spool.append(c));
    if (padded > size) await r.exact(padded - size, `padding of '${name}'`);
    entry.size = size;
    entry.content = spool.content(start, size, `${label}: ${entry.path}`);
  }
}

/** Parents the archive did not list get a root-owned 0755 directory with their child's time; a parent that is not a directory is an error. */
function addMissingParents(byPath: Map<string, TreeEntry>, label: string): void {
  for (const e of [...byPath.values()]) {
    for (let q = parentOf(e.path); !byPath.has(q); q = parentOf(q)) {
      byPath.set(q, syntheticDir(q, e.mtime));
      if (q === '/') break;
    }
    const parent = byPath.get(parentOf(e.path));
    if (e.path !== '/' && parent && parent.type !== 'dir') {
      throw new InputError(`${label}: '${e.path}' is inside '${parent.path}', which is a ${parent.type}, not a directory`);
    }
  }
  if (!byPath.has('/')) byPath.set('/', syntheticDir('/'));
}

/**
 * Content of a pax sparse 1.0 member: a decimal map (count, then offset/length pairs, one
 * per line, padded to a block) followed by the data of each region. Writes the regions at
 * their offsets in the spool, leaving the holes unwritten. Returns the bytes consumed and the
 * map, which the member's content passes on as its dataRanges.
 */
async function readSparse10(r: ByteReader, spool: Spool, stored: number, realSize: number, where: string): Promise<{ used: number; regions: [number, number][] }> {
  let consumed = 0;
  let text = '';
  const nextLine = async (): Promise<number> => {
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (!/^\d+$/.test(line)) throw new InputError(`${where}: sparse map expected a number but it was '${line}'`);
        return Number(line);
      }
      if (consumed >= stored) throw new InputError(`${where}: sparse map runs past the member's data`);
      const b = await r.exact(TAR_BLOCK, 'sparse map');
      if (!b) throw new InputError(`${where}: truncated archive in a sparse map`);
      consumed += TAR_BLOCK;
      text += b.toString('latin1');
    }
  };
  const count = await nextLine();
  const regions: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) regions.push([await nextLine(), await nextLine()]);
  const base = spool.end;
  let last = 0;
  for (const [off, len] of regions) {
    if (off < last || off + len > realSize) throw new InputError(`${where}: sparse region ${off}+${len} is out of order or past the size ${realSize}`);
    spool.end = base + off;
    await r.stream(len, 'sparse data', (c) => spool.append(c));
    consumed += len;
    last = off + len;
  }
  spool.end = base + realSize;
  return { used: consumed, regions };
}
