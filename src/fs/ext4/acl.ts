/**
 * ext4's on-disk POSIX ACL (fs/ext4/acl.h), the value of the xattrs with name index 2
 * (access) and 3 (default): a 4-byte header with a_version 1, then entries of e_tag and e_perm,
 * followed by e_id only for ACL_USER and ACL_GROUP (ext4_acl_entry, 8 bytes) and not for the
 * others (ext4_acl_entry_short, 4 bytes). The tree model carries ACLs in the Linux xattr form
 * (src/tree/posix-acl.ts); the writer converts to this form and the reader back.
 */
import { defineStruct, u16, u32 } from '../../binary/struct.js';
import { FormatError } from '../../errors.js';
import {
  ACL_TAG, ACL_UNDEFINED_ID, type AclEntry, aclEntryNamesId, decodePosixAclXattr, encodePosixAclXattr,
} from '../../tree/posix-acl.js';

export const EXT4_ACL_VERSION = 1;

export const Ext4AclHeader = defineStruct('ext4_acl_header', 4, {
  a_version: [0x0, u32],
});

export const Ext4AclEntry = defineStruct('ext4_acl_entry', 8, {
  e_tag: [0x0, u16],
  e_perm: [0x2, u16],
  e_id: [0x4, u32],
});

export const Ext4AclEntryShort = defineStruct('ext4_acl_entry_short', 4, {
  e_tag: [0x0, u16],
  e_perm: [0x2, u16],
});

const entrySize = (tag: number) => (aclEntryNamesId(tag) ? Ext4AclEntry.size : Ext4AclEntryShort.size);

/** ext4's on-disk bytes for `entries`. */
export function encodeExt4Acl(entries: readonly AclEntry[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + entrySize(e.e_tag), Ext4AclHeader.size));
  Ext4AclHeader.encode({ a_version: EXT4_ACL_VERSION }, out);
  let at = Ext4AclHeader.size;
  for (const e of entries) {
    if (aclEntryNamesId(e.e_tag)) Ext4AclEntry.encode(e, out, at);
    else Ext4AclEntryShort.encode(e, out, at);
    at += entrySize(e.e_tag);
  }
  return out;
}

const KNOWN_TAGS = new Set<number>(Object.values(ACL_TAG));

/**
 * The entries of ext4's on-disk ACL; the short entries get e_id ACL_UNDEFINED_ID, as the kernel
 * reports them. `where` names the inode; errors carry no image offset (the value's place in the
 * image is the caller's knowledge) but name the field and the entry's byte within the value.
 */
export function decodeExt4Acl(disk: Uint8Array, where: string): AclEntry[] {
  const struct = `ext4 POSIX ACL (${where})`;
  if (disk.length < Ext4AclHeader.size || Ext4AclHeader.decode(disk).a_version !== EXT4_ACL_VERSION) {
    throw new FormatError({
      struct, field: 'a_version', expected: `ext4 ACL version ${EXT4_ACL_VERSION}`,
      actual: disk.length < Ext4AclHeader.size ? `${disk.length} bytes` : String(Ext4AclHeader.decode(disk).a_version),
    });
  }
  const out: AclEntry[] = [];
  const cut = (at: number) => new FormatError({ struct, field: `entry at byte ${at}`, expected: 'a whole entry', actual: 'a cut one' });
  for (let at = Ext4AclHeader.size; at < disk.length;) {
    if (at + Ext4AclEntryShort.size > disk.length) throw cut(at);
    const { e_tag, e_perm } = Ext4AclEntryShort.decode(disk, at);
    if (!KNOWN_TAGS.has(e_tag)) throw new FormatError({ struct, field: `e_tag of the entry at byte ${at}`, expected: 'a known tag', actual: `0x${e_tag.toString(16)}` });
    if (aclEntryNamesId(e_tag)) {
      if (at + Ext4AclEntry.size > disk.length) throw cut(at);
      out.push(Ext4AclEntry.decode(disk, at));
    } else {
      out.push({ e_tag, e_perm, e_id: ACL_UNDEFINED_ID });
    }
    at += entrySize(e_tag);
  }
  return out;
}

/** A system.posix_acl_* value of the tree (Linux xattr form) in ext4's on-disk form. */
export function aclToExt4(linux: Uint8Array, where: string): Uint8Array {
  return encodeExt4Acl(decodePosixAclXattr(linux, where));
}

/** ext4's on-disk ACL in the Linux xattr form, the way getxattr(2) hands it out (for the reader). */
export function ext4AclToXattr(disk: Uint8Array, where: string): Uint8Array {
  return encodePosixAclXattr(decodeExt4Acl(disk, where));
}
