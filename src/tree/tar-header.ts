/**
 * The tar header block (POSIX.1-2001 ustar, GNU and v7 variants) and pax extended-header
 * records, as pax(1) in POSIX.1-2008 and GNU tar's manual ("Basic Tar Format") describe them.
 * Numeric fields are octal text, or GNU base-256 when the first byte has its high bit set.
 * Pax records are `LEN KEY=VALUE\n`; values of SCHILY.xattr.* are raw bytes (kept as bytes),
 * every other value is UTF-8. Also converts star/GNU textual ACLs (SCHILY.acl.*) into the
 * Linux system.posix_acl_* xattr bytes (posix-acl.ts).
 */
import { ascii, bytes, defineStruct, u8 } from '../binary/struct.js';
import { InputError } from '../errors.js';
import { ACL_TAG, ACL_UNDEFINED_ID, type AclEntry, aclEntryNamesId, encodePosixAclXattr } from './posix-acl.js';

export const TAR_BLOCK = 512;

export const TarHeader = defineStruct('tar header', TAR_BLOCK, {
  name: [0x000, bytes(100)],
  mode: [0x064, bytes(8)],
  uid: [0x06c, bytes(8)],
  gid: [0x074, bytes(8)],
  size: [0x07c, bytes(12)],
  mtime: [0x088, bytes(12)],
  chksum: [0x094, bytes(8)],
  typeflag: [0x09c, u8],
  linkname: [0x09d, bytes(100)],
  magic: [0x101, bytes(6)],
  version: [0x107, bytes(2)],
  uname: [0x109, ascii(32)],
  gname: [0x129, ascii(32)],
  devmajor: [0x149, bytes(8)],
  devminor: [0x151, bytes(8)],
  /** ustar: path prefix. GNU uses these bytes for atime (0x159) and ctime (0x165) instead. */
  prefix: [0x159, bytes(155)],
});

/** Text up to the first NUL, as UTF-8. */
export function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return Buffer.from(b.buffer, b.byteOffset, end < 0 ? b.length : end).toString('utf8');
}

/** An octal or GNU base-256 number field. */
export function tarNumber(b: Uint8Array, field: string, at: number): number {
  if (b.length && (b[0]! & 0x80) !== 0) {
    const negative = (b[0]! & 0x40) !== 0;
    let v = BigInt(b[0]! & 0x3f) - (negative ? 0x40n : 0n);
    for (let i = 1; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new InputError(`tar header at offset ${at}: ${field} ${v} is too large`);
    }
    return Number(v);
  }
  const s = cString(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new InputError(`tar header at offset ${at}: ${field} expected octal digits but it was '${s}'`);
  return Number.parseInt(s, 8);
}

const CHKSUM_AT = TarHeader.offsetOf('chksum');
const CHKSUM_END = CHKSUM_AT + TarHeader.fields.chksum[1].size;

/** The header checksum: byte sum with the checksum field read as eight spaces. */
export function headerChecksum(block: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= CHKSUM_AT && i < CHKSUM_END ? 0x20 : block[i]!;
  return sum;
}

export type PaxRecords = Map<string, Uint8Array>;

/** Parses pax extended-header data into raw values by key. */
export function parsePax(data: Uint8Array, at: number): PaxRecords {
  const out: PaxRecords = new Map();
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break; // padding some writers leave
    const sp = data.indexOf(0x20, i);
    const len = sp < 0 ? NaN : Number(Buffer.from(data.subarray(i, sp)).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || i + len > data.length || data[i + len - 1] !== 0x0a) {
      throw new InputError(`pax extended header at offset ${at}: record at byte ${i} is malformed (expected 'LEN KEY=VALUE\\n')`);
    }
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new InputError(`pax extended header at offset ${at}: record at byte ${i} has no '='`);
    out.set(Buffer.from(rec.subarray(0, eq)).toString('utf8'), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

export function paxText(v: Uint8Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.length).toString('utf8');
}

/** A pax time value ('1614834363.123456786', possibly negative) as seconds and nanoseconds. */
export function paxTime(v: string, key: string, at: number): { sec: number; nsec: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(v);
  if (!m) throw new InputError(`pax extended header at offset ${at}: ${key} expected a decimal time but it was '${v}'`);
  const whole = Number(m[2]);
  const frac = Number((m[3] ?? '').padEnd(9, '0').slice(0, 9));
  if (m[1] !== '-' || frac === 0) return { sec: m[1] === '-' ? -whole : whole, nsec: frac };
  return { sec: -whole - 1, nsec: 1_000_000_000 - frac };
}

const ACL_TAGS: Record<string, [named: number, obj: number]> = {
  user: [ACL_TAG.USER, ACL_TAG.USER_OBJ],
  group: [ACL_TAG.GROUP, ACL_TAG.GROUP_OBJ],
  mask: [ACL_TAG.MASK, ACL_TAG.MASK],
  other: [ACL_TAG.OTHER, ACL_TAG.OTHER],
};

/**
 * Converts a textual ACL ('user::rw-,user:1000:rwx,group::r--,mask::rwx,other::r--', entries
 * separated by ',' or newlines, star's optional fourth field a numeric id) into Linux xattr
 * bytes. Named entries need numeric ids: user names of the machine that made the archive
 * mean nothing here.
 */
export function aclTextToXattr(text: string, isDefault: boolean, where: string): Uint8Array | undefined {
  const entries: AclEntry[] = [];
  for (const raw of text.split(/[,\n]/)) {
    const item = raw.replace(/#.*/, '').trim();
    if (!item) continue;
    const f = item.split(':');
    const kind = ACL_TAGS[f[0] === 'u' ? 'user' : f[0] === 'g' ? 'group' : f[0] === 'm' ? 'mask' : f[0] === 'o' ? 'other' : f[0]!];
    const perms = f[2] ?? '';
    if (!kind || f.length < 3 || !/^[r-][w-][x-]$/.test(perms)) {
      throw new InputError(`${where}: ACL entry '${item}' expected TAG:QUALIFIER:rwx`);
    }
    const perm = (perms[0] === 'r' ? 4 : 0) | (perms[1] === 'w' ? 2 : 0) | (perms[2] === 'x' ? 1 : 0);
    const qual = f[3] ?? f[1] ?? '';
    if (qual === '' || !aclEntryNamesId(kind[0])) {
      entries.push({ e_tag: kind[1], e_perm: perm, e_id: ACL_UNDEFINED_ID });
    } else if (/^\d+$/.test(qual)) {
      entries.push({ e_tag: kind[0], e_perm: perm, e_id: Number(qual) });
    } else {
      throw new InputError(`${where}: ACL entry '${item}' names '${qual}' without a numeric id`,
        "create the archive with GNU tar --xattrs (it also stores the raw system.posix_acl_* attributes) or with numeric ids");
    }
  }
  entries.sort((a, b) => a.e_tag - b.e_tag || a.e_id - b.e_id);
  if (entries.length === 0) return undefined;
  // An access ACL of only user::, group:: and other:: is the mode itself; Linux stores none.
  const modeOnly = [ACL_TAG.USER_OBJ, ACL_TAG.GROUP_OBJ, ACL_TAG.OTHER] as number[];
  if (!isDefault && entries.length === 3 && entries.every((e) => modeOnly.includes(e.e_tag))) return undefined;
  return encodePosixAclXattr(entries);
}
