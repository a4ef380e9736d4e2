/**
 * Extended attributes for the ext4 reader (attributes.rst): the in-inode area after
 * i_extra_isize (magic, entries, values offset from the first entry) and the xattr block
 * (32-byte header, entries, values offset from the block start), values in an EA inode when
 * e_value_inum is set. POSIX ACLs, stored in ext4's compact form, are returned the way the
 * kernel hands them out, in the Linux xattr form (acl.ts ext4AclToXattr). 'system.data'
 * (inline data) is hidden, as the kernel hides it.
 */
import { FormatError } from '../../errors.js';
import { ext4AclToXattr } from './acl.js';
import { GOOD_OLD_INODE_SIZE, XATTR_MAGIC } from './constants.js';
import { XATTR_PREFIXES, XattrBlockHeader, XattrEntry, XattrIbodyHeader, xattrEntrySize } from './xattr.js';

/** The largest attribute value Linux accepts (XATTR_SIZE_MAX). */
const XATTR_SIZE_MAX = 65536;
const PREFIX_BY_INDEX = new Map<number, string>(XATTR_PREFIXES.map(([p, i]) => [i, p]));
PREFIX_BY_INDEX.set(8, 'system.richacl');

const HINT = 'the filesystem is damaged; run e2fsck -fn on it';

/**
 * Parses entries starting at `entriesAt` of `buf`; values are at `valueBase + e_value_offs`.
 * `readEaInode(inum, size)` fetches values stored in their own inode. `bufAt` is where `buf`
 * starts in the image (for errors).
 */
export function parseXattrEntries(
  buf: Uint8Array, entriesAt: number, valueBase: number, where: string,
  readEaInode: (inum: number, size: number) => Uint8Array, out: Map<string, Uint8Array>, bufAt?: number,
): void {
  const fail = (struct: string, field: string | undefined, at: number, expected: string, actual: string) =>
    new FormatError({ struct, field, offset: bufAt === undefined ? undefined : bufAt + at, expected, actual, hint: HINT });
  let at = entriesAt;
  while (at + 4 <= buf.length && !(buf[at] === 0 && buf[at + 1] === 0 && buf[at + 2] === 0 && buf[at + 3] === 0)) {
    if (at + XattrEntry.size > buf.length) throw fail(`xattr entry (${where})`, undefined, at, 'an entry inside the area', 'one running past its end');
    const e = XattrEntry.decode(buf, at);
    const nameStart = at + XattrEntry.size;
    if (nameStart + e.e_name_len > buf.length) {
      throw fail(`xattr entry (${where})`, 'e_name_len', at + XattrEntry.offsetOf('e_name_len'), 'a name inside the area', `name_len ${e.e_name_len}`);
    }
    const prefix = PREFIX_BY_INDEX.get(e.e_name_index);
    if (prefix === undefined) throw fail(`xattr entry (${where})`, 'e_name_index', at + XattrEntry.offsetOf('e_name_index'), 'a known name index', String(e.e_name_index));
    const name = prefix + Buffer.from(buf.subarray(nameStart, nameStart + e.e_name_len)).toString('utf8');
    if (e.e_value_size > XATTR_SIZE_MAX) {
      throw fail(`xattr entry '${name}' (${where})`, 'e_value_size', at + XattrEntry.offsetOf('e_value_size'), `at most ${XATTR_SIZE_MAX} bytes`, String(e.e_value_size));
    }
    let value: Uint8Array;
    if (e.e_value_inum !== 0) value = readEaInode(e.e_value_inum, e.e_value_size);
    else {
      const vs = valueBase + e.e_value_offs;
      if (vs + e.e_value_size > buf.length) {
        throw fail(`xattr entry '${name}' (${where})`, 'e_value_offs', at + XattrEntry.offsetOf('e_value_offs'), `${e.e_value_size} bytes inside the area`,
          `an area of ${buf.length} bytes`);
      }
      value = buf.slice(vs, vs + e.e_value_size);
    }
    if (name === 'system.data') out.set(INLINE_DATA_KEY, value);
    else {
      out.set(name, name === 'system.posix_acl_access' || name === 'system.posix_acl_default' ? ext4AclToXattr(value, where) : value);
    }
    at += xattrEntrySize(e.e_name_len);
  }
}

/** Attributes in the inode body: `raw` is the whole on-disk inode, `extraIsize` its i_extra_isize. */
export function inodeXattrs(raw: Uint8Array, extraIsize: number, ino: number, readEaInode: (inum: number, size: number) => Uint8Array,
  out: Map<string, Uint8Array>, rawAt?: number): void {
  const start = GOOD_OLD_INODE_SIZE + extraIsize;
  if (raw.length <= GOOD_OLD_INODE_SIZE || start + XattrIbodyHeader.size > raw.length) return;
  if (XattrIbodyHeader.decode(raw, start).h_magic !== XATTR_MAGIC) return;
  const area = raw.subarray(start + XattrIbodyHeader.size);
  parseXattrEntries(area, 0, 0, `inode ${ino}`, readEaInode, out, rawAt === undefined ? undefined : rawAt + start + XattrIbodyHeader.size);
}

/** Attributes in an xattr block. */
export function blockXattrs(block: Uint8Array, blockNr: number, ino: number, readEaInode: (inum: number, size: number) => Uint8Array,
  out: Map<string, Uint8Array>, blockAt?: number): void {
  const h = XattrBlockHeader.decode(block);
  if (h.h_magic !== XATTR_MAGIC) {
    throw new FormatError({ struct: `xattr block ${blockNr} of inode ${ino}`, field: 'h_magic', offset: blockAt, expected: `magic 0x${XATTR_MAGIC.toString(16)}`,
      actual: `0x${h.h_magic.toString(16)}`, hint: HINT });
  }
  parseXattrEntries(block, XattrBlockHeader.size, 0, `xattr block ${blockNr}`, readEaInode, out, blockAt);
}

/** Where parseXattrEntries puts the hidden 'system.data' value (inline data): a key no real name can have. */
export const INLINE_DATA_KEY = '\0system.data';
