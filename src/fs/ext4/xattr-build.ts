/**
 * Lays out a tree entry's extended attributes (Documentation/filesystems/ext4/attributes.rst):
 * in the inode body after i_extra_isize when they all fit, otherwise in one xattr block whose
 * identical copies are shared (h_refcount). POSIX ACLs arrive in the Linux xattr form and are
 * stored in ext4's own form (acl.ts), name index 2 and 3.
 */
import { InputError } from '../../errors.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import { aclToExt4 } from './acl.js';
import { BLOCK_SIZE, EXTRA_ISIZE, GOOD_OLD_INODE_SIZE, INODE_SIZE, XATTR_MAGIC } from './constants.js';
import {
  XATTR_PREFIXES,
  XattrBlockHeader,
  XattrEntry,
  XattrIbodyHeader,
  xattrBlockHash,
  xattrEntryHash,
  xattrEntrySize,
} from './xattr.js';

export interface XattrItem {
  index: number;
  name: Uint8Array;
  value: Uint8Array;
}

/** Splits full names into (index, suffix) and converts ACLs; sorted as the kernel sorts block entries. */
export function prepareXattrs(xattrs: Map<string, Uint8Array>, where: string): XattrItem[] {
  const items: XattrItem[] = [];
  for (const [full, value] of xattrs) {
    const p = XATTR_PREFIXES.find(([prefix]) => (prefix.endsWith('.') ? full.startsWith(prefix) : full === prefix));
    if (!p) throw new InputError(`${where}: extended attribute '${full}' has no ext4 name index`, 'only user., trusted., security., system. names can be stored');
    const name = Buffer.from(full.slice(p[0].endsWith('.') ? p[0].length : full.length), 'utf8');
    if (name.length > 255) throw new InputError(`${where}: extended attribute name '${full}' is longer than 255 bytes`);
    const v = p[1] === 2 || p[1] === 3 ? aclToExt4(value, where) : value;
    items.push({ index: p[1], name, value: v });
  }
  items.sort((a, b) => a.index - b.index || a.name.length - b.name.length || Buffer.compare(a.name, b.name));
  return items;
}

const pad4 = (n: number) => (n + 3) & ~3;

/** Bytes of the in-inode xattr space (after the 128-byte base inode and i_extra_isize). */
export const IBODY_SPACE = INODE_SIZE - GOOD_OLD_INODE_SIZE - EXTRA_ISIZE;

/** The in-inode area (IBODY_SPACE bytes) if every item fits, else undefined. */
export function buildIbodyXattrs(items: XattrItem[]): Uint8Array | undefined {
  if (items.length === 0) return undefined;
  const entries = items.reduce((s, it) => s + xattrEntrySize(it.name.length), 0);
  const values = items.reduce((s, it) => s + pad4(it.value.length), 0);
  // magic + entries + 4-byte terminator + values
  if (XattrIbodyHeader.size + entries + 4 + values > IBODY_SPACE) return undefined;
  const area = new Uint8Array(IBODY_SPACE);
  XattrIbodyHeader.encode({ h_magic: XATTR_MAGIC }, area);
  const base = XattrIbodyHeader.size; // value offsets count from the first entry
  let e = base;
  let valEnd = IBODY_SPACE;
  for (const it of items) {
    valEnd -= pad4(it.value.length);
    area.set(it.value, valEnd);
    XattrEntry.encode({
      e_name_len: it.name.length,
      e_name_index: it.index,
      e_value_offs: it.value.length ? valEnd - base : 0,
      e_value_inum: 0,
      e_value_size: it.value.length,
      e_hash: xattrEntryHash(it.name, it.value),
    }, area, e);
    area.set(it.name, e + XattrEntry.size);
    e += xattrEntrySize(it.name.length);
  }
  return area;
}

/** The xattr block content (checksum and refcount left zero: they are patched when placed). */
export function buildXattrBlock(items: XattrItem[], where: string): Uint8Array {
  const block = new Uint8Array(BLOCK_SIZE);
  let e = XattrBlockHeader.size;
  let valEnd = BLOCK_SIZE;
  const hashes: number[] = [];
  for (const it of items) {
    valEnd -= pad4(it.value.length);
    if (e + xattrEntrySize(it.name.length) + 4 > valEnd) {
      throw new InputError(`${where}: extended attributes need more than one ${BLOCK_SIZE}-byte block`,
        'ext4 without ea_inode keeps all of an inode\'s attributes in its body and one block; shrink them');
    }
    block.set(it.value, valEnd);
    const h = xattrEntryHash(it.name, it.value);
    hashes.push(h);
    XattrEntry.encode({
      e_name_len: it.name.length,
      e_name_index: it.index,
      e_value_offs: it.value.length ? valEnd : 0,
      e_value_inum: 0,
      e_value_size: it.value.length,
      e_hash: h,
    }, block, e);
    block.set(it.name, e + XattrEntry.size);
    e += xattrEntrySize(it.name.length);
  }
  XattrBlockHeader.encode({
    h_magic: XATTR_MAGIC, h_refcount: 0, h_blocks: 1, h_hash: xattrBlockHash(hashes), h_checksum: 0,
    h_reserved0: 0, h_reserved1: 0, h_reserved2: 0,
  }, block, 0);
  return block;
}

/** Sets refcount and the block checksum crc32c(fsSeed, le64 block number, block with h_checksum 0). */
export function finishXattrBlock(block: Uint8Array, fsSeed: number, blockNr: number, refcount: number): Uint8Array {
  const out = Uint8Array.from(block);
  const v = new DataView(out.buffer);
  v.setUint32(XattrBlockHeader.offsetOf('h_refcount'), refcount, true);
  v.setUint32(XattrBlockHeader.offsetOf('h_checksum'), 0, true);
  const nr = new Uint8Array(8);
  new DataView(nr.buffer).setBigUint64(0, BigInt(blockNr), true);
  v.setUint32(XattrBlockHeader.offsetOf('h_checksum'), crc32cRaw(crc32cRaw(fsSeed, nr), out), true);
  return out;
}
