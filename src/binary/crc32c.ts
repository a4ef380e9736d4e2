/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; RFC 3720 appendix B.4) as ext4's
 * metadata_csum and jbd2 use it. ext4 chains the *raw* register (no pre/post inversion between
 * pieces): the kernel's `ext4_chksum(seed, data)` is `crc32c_raw(seed, data)`. Both forms are
 * exported. The native @node-rs/crc32 implementation is used when it loads, once enough has
 * been checksummed to pay for loading it; the slicing-by-8 table version is its twin behind
 * the same interface (a test checks that they agree).
 */
import { createRequire } from 'node:module';

const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** Raw register update, slicing-by-8 (no inversion): the TypeScript twin. */
export function crc32cRawTable(crc: number, data: Uint8Array): number {
  let c = crc >>> 0;
  let i = 0;
  const n = data.length;
  const t = TABLES;
  for (; i + 8 <= n; i += 8) {
    const a = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      t[7 * 256 + (a & 0xff)]! ^
      t[6 * 256 + ((a >>> 8) & 0xff)]! ^
      t[5 * 256 + ((a >>> 16) & 0xff)]! ^
      t[4 * 256 + (a >>> 24)]! ^
      t[3 * 256 + data[i + 4]!]! ^
      t[2 * 256 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

type NativeCrc = (input: Uint8Array, initial?: number) => number;
/** The native function once loaded; undefined if it cannot load; null until tried. */
let native: NativeCrc | undefined | null = null;
/** Bytes the table has checksummed while the native module was not loaded. */
let tableBytes = 0;

/**
 * Loads @node-rs/crc32 now rather than when first worth it; false if it cannot load (the
 * table twin then serves everything). For tests and benchmarks that compare the two.
 */
export function loadNativeCrc32c(): boolean {
  if (native === null) {
    try {
      native = (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc }).crc32c;
    } catch {
      native = undefined;
    }
  }
  return native !== undefined;
}

/** Which implementation serves inputs of NATIVE_FROM bytes or more right now. */
export function crc32cImplementation(): 'native' | 'table' {
  return native ? 'native' : 'table';
}

/**
 * Below this many bytes the table loop beats the call into native code (measured on Node 20:
 * docs/benchmarks.md).
 */
const NATIVE_FROM = 96;
/**
 * Loading the native module costs as much time as the table needs for tens of MB, and an
 * ext4 image of a Debian root checksums less metadata than that (docs/benchmarks.md): it is
 * loaded once this much has gone through the table.
 */
const LOAD_AFTER = 32 << 20;

/** Raw register update: ext4's `ext4_chksum(crc, data)`. */
export function crc32cRaw(crc: number, data: Uint8Array): number {
  if (data.length < NATIVE_FROM || native === undefined) return crc32cRawTable(crc, data);
  if (native === null) {
    tableBytes += data.length;
    if (tableBytes < LOAD_AFTER || !loadNativeCrc32c()) return crc32cRawTable(crc, data);
  }
  // The native function takes and returns the finalized (inverted) form.
  return ~native!(data, ~crc >>> 0) >>> 0;
}

/** Standard CRC-32C of `data` (check value of "123456789" is 0xE3069283). */
export function crc32c(data: Uint8Array, previous = 0): number {
  return ~crc32cRaw(~previous >>> 0, data) >>> 0;
}

/** The twin of `crc32c` on the table path. */
export function crc32cTable(data: Uint8Array, previous = 0): number {
  return ~crc32cRawTable(~previous >>> 0, data) >>> 0;
}
