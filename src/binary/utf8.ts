/**
 * UTF-8 byte counts of JavaScript strings without a call into native code: Buffer.byteLength
 * costs about 1 µs a call, which a walk over the names of 16,000 files pays 16,000 times.
 */

/** The number of bytes `s` takes in UTF-8 (as Buffer.byteLength(s, 'utf8'), lone surrogates as U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // a surrogate pair: 2 UTF-16 units, 4 bytes
      i++;
    } else n += 2; // 3 bytes (a lone surrogate too: U+FFFD)
  }
  return n;
}
