/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as GPT, gzip and zlib use it.
 * Node's `zlib.crc32` (Node >= 20.15) is used where present; the table version is its twin
 * and is what older Node versions get. node:zlib is loaded at the first call, not at import:
 * a command that reads an MBR image never pays for it (docs/benchmarks.md, start-up).
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The table-driven twin; `crc` continues a previous result. */
export function crc32Table(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32 = (d: Uint8Array, v?: number) => number;
let native: Crc32 | null | undefined;

export function crc32(data: Uint8Array, crc = 0): number {
  native ??= (process.getBuiltinModule('node:zlib') as { crc32?: Crc32 }).crc32 ?? null;
  return native ? native(data, crc) >>> 0 : crc32Table(data, crc);
}
