/**
 * POSIX ACLs as the tree model carries them: the value of the Linux extended attributes
 * system.posix_acl_access and system.posix_acl_default, exactly as getxattr(2) hands them out
 * (include/uapi/linux/posix_acl_xattr.h: a 4-byte header with a_version 2, then 8-byte
 * entries of e_tag, e_perm, e_id; tags from include/uapi/linux/posix_acl.h). Tree sources
 * produce this form (the dir source copies it, the tar source converts star/GNU text to it);
 * each filesystem writer converts it to its own on-disk form (ext4: src/fs/ext4/acl.ts).
 */
import { defineStruct, u16, u32, type StructValue } from '../binary/struct.js';
import { InputError } from '../errors.js';

/** e_tag values (include/uapi/linux/posix_acl.h). */
export const ACL_TAG = { USER_OBJ: 0x01, USER: 0x02, GROUP_OBJ: 0x04, GROUP: 0x08, MASK: 0x10, OTHER: 0x20 } as const;
/** e_id of the entries that name nobody (USER_OBJ, GROUP_OBJ, MASK, OTHER). */
export const ACL_UNDEFINED_ID = 0xffffffff;
export const POSIX_ACL_XATTR_VERSION = 2;

export const PosixAclXattrHeader = defineStruct('posix_acl_xattr_header', 4, {
  a_version: [0x0, u32],
});

export const PosixAclXattrEntry = defineStruct('posix_acl_xattr_entry', 8, {
  e_tag: [0x0, u16],
  e_perm: [0x2, u16],
  e_id: [0x4, u32],
});

/** One ACL entry; every on-disk form stores these three fields (some leave e_id out). */
export type AclEntry = StructValue<typeof PosixAclXattrEntry.fields>;

/** True for the entries that name a user or group by id (ACL_USER, ACL_GROUP). */
export function aclEntryNamesId(tag: number): boolean {
  return tag === ACL_TAG.USER || tag === ACL_TAG.GROUP;
}

/** The xattr value for `entries` (in the order given; the kernel keeps them sorted by tag, then id). */
export function encodePosixAclXattr(entries: readonly AclEntry[]): Uint8Array {
  const out = new Uint8Array(PosixAclXattrHeader.size + entries.length * PosixAclXattrEntry.size);
  PosixAclXattrHeader.encode({ a_version: POSIX_ACL_XATTR_VERSION }, out);
  entries.forEach((e, i) => PosixAclXattrEntry.encode(e, out, PosixAclXattrHeader.size + i * PosixAclXattrEntry.size));
  return out;
}

/** The entries of a system.posix_acl_* value; `where` names the tree entry for the error. */
export function decodePosixAclXattr(value: Uint8Array, where: string): AclEntry[] {
  const body = value.length - PosixAclXattrHeader.size;
  if (body < 0 || body % PosixAclXattrEntry.size !== 0 || PosixAclXattrHeader.decode(value).a_version !== POSIX_ACL_XATTR_VERSION) {
    throw new InputError(`${where}: POSIX ACL xattr is not version ${POSIX_ACL_XATTR_VERSION} with ${PosixAclXattrEntry.size}-byte entries (${value.length} bytes)`,
      'the tree source must hand out system.posix_acl_* values as the kernel does (getxattr)');
  }
  const out: AclEntry[] = [];
  for (let at = PosixAclXattrHeader.size; at < value.length; at += PosixAclXattrEntry.size) out.push(PosixAclXattrEntry.decode(value, at));
  return out;
}
