/**
 * The htree directory hash "half MD4" (Documentation/filesystems/ext4/directory.rst, "Hash
 * Tree Directories"; the algorithm is the kernel's fs/ext4/hash.c): the name is packed 32 bytes
 * at a time into eight words (signed-char variant, as x86 mke2fs records with the
 * SIGNED_HASH superblock flag), each chunk mixed into a four-word state seeded by s_hash_seed.
 */

const K2 = 0o13240474631;
const K3 = 0o15666365641;

function rol(x: number, s: number): number {
  return ((x << s) | (x >>> (32 - s))) >>> 0;
}
const F = (x: number, y: number, z: number) => (z ^ (x & (y ^ z))) >>> 0;
const G = (x: number, y: number, z: number) => ((x & y) + ((x ^ y) & z)) >>> 0;
const H = (x: number, y: number, z: number) => (x ^ y ^ z) >>> 0;

function halfMd4Transform(buf: Uint32Array, inp: Uint32Array): void {
  let a = buf[0]!;
  let b = buf[1]!;
  let c = buf[2]!;
  let d = buf[3]!;
  const r = (f: typeof F, w: number, x: number, y: number, z: number, k: number, s: number) => rol((w + f(x, y, z) + k) >>> 0, s);
  a = r(F, a, b, c, d, inp[0]!, 3); d = r(F, d, a, b, c, inp[1]!, 7); c = r(F, c, d, a, b, inp[2]!, 11); b = r(F, b, c, d, a, inp[3]!, 19);
  a = r(F, a, b, c, d, inp[4]!, 3); d = r(F, d, a, b, c, inp[5]!, 7); c = r(F, c, d, a, b, inp[6]!, 11); b = r(F, b, c, d, a, inp[7]!, 19);
  a = r(G, a, b, c, d, (inp[1]! + K2) >>> 0, 3); d = r(G, d, a, b, c, (inp[3]! + K2) >>> 0, 5);
  c = r(G, c, d, a, b, (inp[5]! + K2) >>> 0, 9); b = r(G, b, c, d, a, (inp[7]! + K2) >>> 0, 13);
  a = r(G, a, b, c, d, (inp[0]! + K2) >>> 0, 3); d = r(G, d, a, b, c, (inp[2]! + K2) >>> 0, 5);
  c = r(G, c, d, a, b, (inp[4]! + K2) >>> 0, 9); b = r(G, b, c, d, a, (inp[6]! + K2) >>> 0, 13);
  a = r(H, a, b, c, d, (inp[3]! + K3) >>> 0, 3); d = r(H, d, a, b, c, (inp[7]! + K3) >>> 0, 9);
  c = r(H, c, d, a, b, (inp[2]! + K3) >>> 0, 11); b = r(H, b, c, d, a, (inp[6]! + K3) >>> 0, 15);
  a = r(H, a, b, c, d, (inp[1]! + K3) >>> 0, 3); d = r(H, d, a, b, c, (inp[5]! + K3) >>> 0, 9);
  c = r(H, c, d, a, b, (inp[0]! + K3) >>> 0, 11); b = r(H, b, c, d, a, (inp[4]! + K3) >>> 0, 15);
  buf[0] = (buf[0]! + a) >>> 0;
  buf[1] = (buf[1]! + b) >>> 0;
  buf[2] = (buf[2]! + c) >>> 0;
  buf[3] = (buf[3]! + d) >>> 0;
}

/** str2hashbuf_signed: bytes as signed chars, padded with a length-derived word. */
function str2hashbuf(msg: Uint8Array, start: number, len: number, out: Uint32Array, num: number): void {
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  let val = pad;
  let o = 0;
  const n = Math.min(len, num * 4);
  for (let i = 0; i < n; i++) {
    const ch = msg[start + i]!;
    const sc = ch >= 128 ? ch - 256 : ch;
    val = (sc + ((val << 8) >>> 0)) >>> 0;
    if (i % 4 === 3) {
      out[o++] = val;
      val = pad;
      num--;
    }
  }
  if (--num >= 0) out[o++] = val;
  while (--num >= 0) out[o++] = pad;
}

/** The 16-byte s_hash_seed as four little-endian words (all zero means "use the MD4 constants"). */
export function seedWords(seed: Uint8Array): Uint32Array {
  const v = new DataView(seed.buffer, seed.byteOffset, 16);
  return Uint32Array.of(v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), v.getUint32(12, true));
}

/** The major hash of `name` (low bit clear) as htree index entries record it. */
export function halfMd4Hash(name: Uint8Array, seed: Uint32Array): number {
  // Scratch state reused across calls (one call per name in every big directory).
  const buf = HASH_BUF;
  if (seed[0] !== 0 || seed[1] !== 0 || seed[2] !== 0 || seed[3] !== 0) buf.set(seed.subarray(0, 4));
  else buf.set(MD4_INIT);
  const inp = HASH_INP;
  let len = name.length;
  let p = 0;
  while (len > 0) {
    str2hashbuf(name, p, len, inp, 8);
    halfMd4Transform(buf, inp);
    len -= 32;
    p += 32;
  }
  let hash = (buf[1]! & ~1) >>> 0;
  if (hash === (0x7fffffff << 1) >>> 0) hash = ((0x7fffffff - 1) << 1) >>> 0;
  return hash;
}
const MD4_INIT = Uint32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
const HASH_BUF = new Uint32Array(4);
const HASH_INP = new Uint32Array(8);
