/**
 * Version order as GNU `ls -v` sorts names (gnulib filevercmp, the order DIB's
 * `ls -1rv ... | head -1` takes the newest by): runs of digits compare as numbers, other
 * characters letters first, then '~' before everything, then the rest; a trailing file
 * suffix (".img", ".old", ".efi.signed") is compared only when the names are otherwise equal.
 * So vmlinuz-6.1.0-10-amd64 is newer than vmlinuz-6.1.0-9-amd64, which plain name order gets wrong.
 */

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

function order(c: number): number {
  if (isDigit(c)) return 0;
  if (isAlpha(c)) return c;
  if (c === 0x7e) return -1; // '~'
  return c + 256;
}

function verrevcmp(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i]!)) || (j < b.length && !isDigit(b[j]!))) {
      const ac = i === a.length ? 0 : order(a[i]!);
      const bc = j === b.length ? 0 : order(b[j]!);
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (a[i] === 0x30) i++;
    while (b[j] === 0x30) j++;
    while (i < a.length && j < b.length && isDigit(a[i]!) && isDigit(b[j]!)) {
      if (!firstDiff) firstDiff = a[i]! - b[j]!;
      i++;
      j++;
    }
    if (i < a.length && isDigit(a[i]!)) return 1;
    if (j < b.length && isDigit(b[j]!)) return -1;
    if (firstDiff) return firstDiff;
  }
  return 0;
}

/** Length of `s` without its suffix: (\.[A-Za-z~][A-Za-z0-9~]*)*~?$ */
function prefixLength(s: Uint8Array): number {
  let end = s.length;
  if (end > 0 && s[end - 1] === 0x7e) end--;
  let cut = end;
  // Walk back over '.X...' groups from the end.
  for (;;) {
    let k = cut - 1;
    while (k >= 0 && (isAlpha(s[k]!) || isDigit(s[k]!) || s[k] === 0x7e)) k--;
    if (k >= 0 && s[k] === 0x2e && k + 1 < cut && (isAlpha(s[k + 1]!) || s[k + 1] === 0x7e) && k > 0) cut = k;
    else break;
  }
  return cut;
}

/** filevercmp: negative when `a` sorts before `b` in `ls -v` order. */
export function compareVersions(a: string, b: string): number {
  if (a === b) return 0;
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length === 0) return -1;
  if (bb.length === 0) return 1;
  const special = (s: string) => (s === '.' ? 1 : s === '..' ? 2 : s.startsWith('.') ? 3 : 4);
  if (special(a) !== special(b) && (special(a) < 4 || special(b) < 4)) return special(a) - special(b);
  const r = verrevcmp(ab.subarray(0, prefixLength(ab)), bb.subarray(0, prefixLength(bb)));
  if (r) return r;
  const full = verrevcmp(ab, bb);
  return full || Buffer.compare(ab, bb);
}

/** The newest of `names` in version order (what `ls -1rv | head -1` prints), or undefined. */
export function newest<T>(items: readonly T[], key: (x: T) => string): T | undefined {
  let best: T | undefined;
  for (const x of items) if (best === undefined || compareVersions(key(x), key(best)) > 0) best = x;
  return best;
}
