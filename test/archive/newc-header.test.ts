/** The newc header declaration: 110 bytes, every field round-trips, and GNU cpio's own header bytes survive decode then encode. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NEWC_HEADER_SIZE, NewcHeader, pad4 } from '../../src/archive/newc-header.js';
import { REPO } from '../helpers/cli-run.js';

describe('cpio newc header', () => {
  const gnu = fs.readFileSync(path.join(REPO, 'fixtures/cpio/gnu-newc.cpio')).subarray(0, NEWC_HEADER_SIZE);

  it('round-trips, also the first header GNU cpio wrote (fixtures/cpio)', () => {
    // test/helpers/struct-round-trip.ts samples 8-byte fields as bigints; these are 8 hex digits holding 32 bits.
    expect(NewcHeader.size).toBe(110);
    const x = { ...NewcHeader.decode(gnu) };
    Object.keys(x).forEach((k, i) => { if (k !== 'c_magic') (x as Record<string, unknown>)[k] = (0x9abcdef1 * (i + 1)) % 2 ** 32; });
    expect(NewcHeader.decode(NewcHeader.encode(x))).toEqual(x);
    expect(Buffer.from(NewcHeader.encode(NewcHeader.decode(gnu))).equals(gnu)).toBe(true);
    const h = NewcHeader.decode(gnu);
    expect([h.c_magic, h.c_mode, h.c_namesize]).toEqual(['070701', 0o40755, 2]); // '.', a directory
  });

  it('refuses a field that is not hexadecimal, and values over 32 bits', () => {
    const bad = Buffer.from(gnu);
    bad.write('0000000G', NewcHeader.offsetOf('c_ino'), 'latin1');
    expect(() => NewcHeader.decode(bad)).toThrow(/offset 13 \(0xd\): expected a hexadecimal digit but it was byte 0x47/);
    expect(() => NewcHeader.encode({ ...NewcHeader.decode(gnu), c_filesize: 2 ** 32 })).toThrow(/c_filesize.*does not fit 32 bits/);
  });

  it('pads to 4 bytes', () => {
    expect([0, 1, 2, 3, 4, 111].map(pad4)).toEqual([0, 3, 2, 1, 0, 1]);
  });
});
