/** utf8Length (src/binary/utf8.ts) against Buffer.byteLength, the reference it stands in for. */
import { describe, expect, it } from 'vitest';
import { utf8Length } from '../../src/binary/utf8.js';

describe('utf8Length', () => {
  it('counts what Buffer.byteLength counts, for every kind of character', () => {
    const samples = ['', 'a', 'libc.so.6', 'ä', 'é\u0301', '€', '日本語.txt', '😀', 'a😀b', '\ud800', '\udc00x', 'x\ud83d', '\u007f\u0080\u07ff\u0800\uffff'];
    for (const s of samples) expect(utf8Length(s), JSON.stringify(s)).toBe(Buffer.byteLength(s, 'utf8'));
    // Every code unit, alone and in pairs with its neighbours.
    for (let c = 0; c < 0x10000; c += 7) {
      const s = String.fromCharCode(c) + String.fromCharCode((c * 31) & 0xffff) + 'z';
      expect(utf8Length(s), c.toString(16)).toBe(Buffer.byteLength(s, 'utf8'));
    }
  });
});
