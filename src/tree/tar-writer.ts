/**
 * A tar archive (POSIX.1-2001 pax, as GNU tar --format=posix writes) of a FileTree: what
 * DIB's `-t tar` makes of the finished root (`tar --numeric-owner --xattrs
 * --xattrs-include=*`). Headers come from the codec in tar-header.ts. Names start with './';
 * a pax record carries what ustar cannot hold: long names and link targets, ids and sizes past
 * the octal fields, sub-second times, and every extended attribute as SCHILY.xattr.NAME with
 * its raw bytes, except POSIX ACLs (the system.posix_acl_* attributes), which go as GNU tar
 * --acls stores them: SCHILY.acl.access / SCHILY.acl.default text with numeric ids. Sockets cannot be archived and are left out, as GNU tar
 * does. The stream is written in ascending order and padded to 10240-byte records.
 */
import { headerChecksum, TAR_BLOCK, TarHeader } from './tar-header.js';
import type { FileTree, Timestamp, TreeEntry } from './model.js';
import { ACL_TAG, aclEntryNamesId, decodePosixAclXattr } from './posix-acl.js';
import { InputError } from '../errors.js';

const RECORD = 10240;
const TYPE: Record<string, number> = { file: 0x30, hardlink: 0x31, symlink: 0x32, chardev: 0x33, blockdev: 0x34, dir: 0x35, fifo: 0x36, pax: 0x78 };
const enc = new TextEncoder();

function octal(n: number, width: number): Uint8Array | undefined {
  const s = n.toString(8);
  if (n < 0 || s.length > width - 1) return undefined;
  return enc.encode(s.padStart(width - 1, '0'));
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const body = new Uint8Array([...enc.encode(` ${key}=`), ...value, 0x0a]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return new Uint8Array([...enc.encode(String(len)), ...body]);
}

function timeText(t: Timestamp): string {
  if (t.nsec === 0) return String(t.sec);
  return `${t.sec}.${String(t.nsec).padStart(9, '0').replace(/0+$/, '')}`;
}

function header(name: string, type: number, o: { mode: number; uid: number; gid: number; size: number; mtime: number; linkname?: string; major?: number; minor?: number }): Uint8Array {
  const block = new Uint8Array(TAR_BLOCK);
  const field = (s: string, n: number) => {
    const b = enc.encode(s);
    return b.length <= n ? b : b.subarray(0, n);
  };
  TarHeader.encode({
    name: field(name, 100), mode: octal(o.mode & 0o7777, 8)!, uid: octal(o.uid, 8) ?? octal(0, 8)!, gid: octal(o.gid, 8) ?? octal(0, 8)!,
    size: octal(o.size, 12) ?? octal(0, 12)!, mtime: octal(Math.max(0, o.mtime), 12) ?? octal(0, 12)!, chksum: new Uint8Array(8).fill(0x20),
    typeflag: type, linkname: field(o.linkname ?? '', 100), magic: enc.encode('ustar\0'), version: enc.encode('00'), uname: '', gname: '',
    devmajor: octal(o.major ?? 0, 8)!, devminor: octal(o.minor ?? 0, 8)!, prefix: new Uint8Array(0),
  }, block);
  const sum = headerChecksum(block).toString(8).padStart(6, '0');
  block.set(enc.encode(`${sum}\0 `), TarHeader.offsetOf('chksum'));
  return block;
}

const ACL_TAG_TEXT: Record<number, string> = {
  [ACL_TAG.USER_OBJ]: 'user', [ACL_TAG.USER]: 'user', [ACL_TAG.GROUP_OBJ]: 'group', [ACL_TAG.GROUP]: 'group', [ACL_TAG.MASK]: 'mask', [ACL_TAG.OTHER]: 'other',
};

/** Linux ACL xattr bytes (decoded by posix-acl.ts) as ACL text with numeric ids; undefined if malformed. */
export function aclXattrToText(v: Uint8Array): string | undefined {
  let entries;
  try {
    entries = decodePosixAclXattr(v, 'tar');
  } catch (e) {
    if (e instanceof InputError) return undefined;
    throw e;
  }
  const parts: string[] = [];
  for (const { e_tag, e_perm, e_id } of entries) {
    const tag = ACL_TAG_TEXT[e_tag];
    if (!tag) return undefined;
    parts.push(`${tag}:${aclEntryNamesId(e_tag) ? e_id : ''}:${e_perm & 4 ? 'r' : '-'}${e_perm & 2 ? 'w' : '-'}${e_perm & 1 ? 'x' : '-'}`);
  }
  return parts.join(',');
}

/** The pax records an entry needs (empty when ustar holds it all). */
function paxFor(e: TreeEntry, name: string, linkname: string | undefined, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (enc.encode(name).length > 100) out.push(paxRecord('path', enc.encode(name)));
  if (linkname !== undefined && enc.encode(linkname).length > 100) out.push(paxRecord('linkpath', enc.encode(linkname)));
  if (!octal(e.uid, 8)) out.push(paxRecord('uid', enc.encode(String(e.uid))));
  if (!octal(e.gid, 8)) out.push(paxRecord('gid', enc.encode(String(e.gid))));
  if (!octal(size, 12)) out.push(paxRecord('size', enc.encode(String(size))));
  if (e.mtime.nsec !== 0 || e.mtime.sec < 0 || !octal(e.mtime.sec, 12)) out.push(paxRecord('mtime', enc.encode(timeText(e.mtime))));
  for (const [k, v] of [...e.xattrs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // ACLs as GNU tar --acls stores them (text with numeric ids), not as raw attributes.
    const acl = k === 'system.posix_acl_access' ? 'access' : k === 'system.posix_acl_default' ? 'default' : undefined;
    const text = acl ? aclXattrToText(v) : undefined;
    if (acl && text !== undefined) out.push(paxRecord(`SCHILY.acl.${acl}`, enc.encode(text)));
    else out.push(paxRecord(`SCHILY.xattr.${k}`, v));
  }
  return out;
}

/** Writes `tree` as a tar archive into `out` from offset 0; returns its length. */
export function writeTar(tree: FileTree, out: { writeAt(offset: number, data: Uint8Array): void }, progress?: (done: number, total: number) => void): { length: number; skipped: string[] } {
  let pos = 0;
  const put = (b: Uint8Array) => {
    out.writeAt(pos, b);
    pos += b.length;
  };
  const firstOfLink = new Map<string, string>();
  const skipped: string[] = [];
  let k = 0;
  for (const e of tree.entries) {
    k++;
    if (e.type === 'socket') {
      skipped.push(e.path);
      continue;
    }
    const name = e.path === '/' ? './' : `.${e.path}${e.type === 'dir' ? '/' : ''}`;
    let type = TYPE[e.type]!;
    let linkname: string | undefined = e.type === 'symlink' ? e.linkTarget ?? '' : undefined;
    let size = e.type === 'file' ? e.content?.size ?? e.size : 0;
    if (e.hardlinkKey !== undefined) {
      const first = firstOfLink.get(e.hardlinkKey);
      if (first === undefined) firstOfLink.set(e.hardlinkKey, name);
      else {
        type = TYPE.hardlink!;
        linkname = first;
        size = 0;
      }
    }
    const records = paxFor(e, name, linkname, size);
    if (records.length) {
      const data = new Uint8Array(records.reduce((s, r) => s + r.length, 0));
      let p = 0;
      for (const r of records) {
        data.set(r, p);
        p += r.length;
      }
      const paxName = `./PaxHeaders/${name.replace(/^\.\//, '').replace(/\/$/, '').split('/').pop() || 'root'}`;
      put(header(paxName, TYPE.pax!, { mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: Math.max(0, e.mtime.sec) }));
      put(data);
      if (data.length % TAR_BLOCK) put(new Uint8Array(TAR_BLOCK - (data.length % TAR_BLOCK)));
    }
    put(header(name, type, {
      mode: e.mode, uid: e.uid, gid: e.gid, size, mtime: e.mtime.sec, ...(linkname !== undefined ? { linkname } : {}),
      ...(e.type === 'chardev' || e.type === 'blockdev' ? { major: e.rdevMajor, minor: e.rdevMinor } : {}),
    }));
    if (size > 0 && e.content) {
      const ranges = e.content.dataRanges?.();
      const chunk = 4 << 20;
      for (let off = 0; off < size; off += chunk) {
        const n = Math.min(chunk, size - off);
        // Holes a sparse source knows about are not read: the sink's file reads as zeros there.
        if (ranges && !ranges.some(([a, l]) => a < off + n && a + l > off)) {
          pos += n;
          continue;
        }
        put(e.content.read(off, n));
      }
      if (size % TAR_BLOCK) pos += TAR_BLOCK - (size % TAR_BLOCK);
    }
    if (k % 1000 === 0) progress?.(k, tree.entries.length);
  }
  pos += 2 * TAR_BLOCK;
  const length = Math.ceil(pos / RECORD) * RECORD;
  return { length, skipped };
}
