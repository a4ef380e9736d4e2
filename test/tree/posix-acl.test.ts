/**
 * The Linux xattr form of POSIX ACLs (src/tree/posix-acl.ts) against the kernel: the bytes
 * getxattr returns for an ACL setfacl made decode to its entries and encode back unchanged;
 * the declared structs round-trip at their spec sizes.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { readXattrs } from '../../src/tree/dir-source.js';
import {
  ACL_TAG, ACL_UNDEFINED_ID, PosixAclXattrEntry, PosixAclXattrHeader, decodePosixAclXattr, encodePosixAclXattr,
} from '../../src/tree/posix-acl.js';
import { expectRoundTrip } from '../helpers/struct-round-trip.js';
import { hasTool } from '../helpers/tools.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-acl-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('POSIX ACL xattr form', () => {
  it('declared structs round-trip: header (4), entry (8)', () => {
    expectRoundTrip(PosixAclXattrHeader, 4);
    expectRoundTrip(PosixAclXattrEntry, 8);
  });

  it.skipIf(!hasTool('setfacl'))('decodes the kernel\'s bytes for a setfacl ACL and encodes them back', () => {
    const f = path.join(tmp, 'f');
    fs.writeFileSync(f, '');
    execFileSync('setfacl', ['-m', 'u:4242:rw-,g:4343:r-x,m::rwx', f]);
    const value = readXattrs(f).get('system.posix_acl_access')!;
    const entries = decodePosixAclXattr(value, 'f');
    expect(entries).toEqual([
      { e_tag: ACL_TAG.USER_OBJ, e_perm: 6, e_id: ACL_UNDEFINED_ID },
      { e_tag: ACL_TAG.USER, e_perm: 6, e_id: 4242 },
      { e_tag: ACL_TAG.GROUP_OBJ, e_perm: 4, e_id: ACL_UNDEFINED_ID },
      { e_tag: ACL_TAG.GROUP, e_perm: 5, e_id: 4343 },
      { e_tag: ACL_TAG.MASK, e_perm: 7, e_id: ACL_UNDEFINED_ID },
      { e_tag: ACL_TAG.OTHER, e_perm: 4, e_id: ACL_UNDEFINED_ID },
    ]);
    expect(Buffer.from(encodePosixAclXattr(entries)).equals(Buffer.from(value))).toBe(true);
  });

  it('a value that is not version 2 with 8-byte entries is an InputError', () => {
    expect(() => decodePosixAclXattr(Uint8Array.from([1, 0, 0, 0]), 'f')).toThrow(InputError);
    expect(() => decodePosixAclXattr(Uint8Array.from([2, 0, 0, 0, 1, 0]), 'f')).toThrow(/not version 2 with 8-byte entries/);
  });
});
