import { describe, expect, it } from 'vitest';
import { ascii, bytes, defineStruct, u16, u32, u64, u8, utf16le } from '../../src/binary/struct.js';

describe('defineStruct', () => {
  const S = defineStruct('test', 32, {
    a: [0x00, u8],
    b: [0x02, u16],
    c: [0x04, u32],
    d: [0x08, u64],
    e: [0x10, ascii(8)],
    f: [0x18, utf16le(8)],
  });

  it('round-trips every codec', () => {
    const v = { a: 0xfe, b: 0xbeef, c: 0xdeadbeef, d: 0x0102030405060708n, e: 'label', f: 'EFI' };
    const buf = S.encode(v);
    expect(buf.length).toBe(32);
    expect(S.decode(buf)).toEqual(v);
    expect(Array.from(buf.subarray(0x08, 0x10))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(Array.from(buf.subarray(0x18, 0x1e))).toEqual([0x45, 0, 0x46, 0, 0x49, 0]);
  });

  it('keeps bytes between fields as they were', () => {
    const buf = new Uint8Array(40).fill(0xaa);
    S.encode({ a: 1, b: 2, c: 3, d: 4n, e: '', f: '' }, buf, 8);
    expect(buf[8 + 1]).toBe(0xaa);
    expect(buf[0]).toBe(0xaa);
  });

  it('rejects overlapping or oversized declarations at definition', () => {
    expect(() => defineStruct('bad', 8, { a: [0, u32], b: [2, u32] })).toThrow(/b at 0x2 overlaps a/);
    expect(() => defineStruct('bad', 8, { a: [6, u32] })).toThrow(/runs past the size 8/);
  });

  it('says which field does not fit', () => {
    expect(() => S.encode({ a: 256, b: 0, c: 0, d: 0n, e: '', f: '' })).toThrow(/test\.a/);
    expect(() => S.encode({ a: 0, b: 0, c: 0, d: 0n, e: 'much too long', f: '' })).toThrow(/test\.e/);
    expect(() => bytes(2).write(new Uint8Array(4), 0, new Uint8Array(3))).toThrow();
  });
});
