/**
 * Declarative struct codec: every on-disk structure is declared once as a table of
 * `field: [offset, codec]` and both decode and encode come from that table. The table is
 * checked when the module that declares it is imported (fields inside the size, no overlaps),
 * so a typo in an offset fails at start-up rather than producing a bad image.
 */
import { InternalError } from '../errors.js';

export interface Codec<T> {
  readonly size: number;
  readonly name: string;
  read(buf: Uint8Array, offset: number): T;
  write(buf: Uint8Array, offset: number, value: T): void;
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function intCodec(name: string, size: 1 | 2 | 4, little: boolean): Codec<number> {
  return {
    size,
    name,
    read(buf, off) {
      // Byte arithmetic rather than a DataView per field: decoding is on the readers' hot path.
      if (off < 0 || off + size > buf.length) throw new InternalError(`${name}: read at offset ${off} is outside the ${buf.length}-byte buffer`);
      if (size === 1) return buf[off]!;
      if (size === 2) return little ? buf[off]! | (buf[off + 1]! << 8) : (buf[off]! << 8) | buf[off + 1]!;
      return little
        ? (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16)) + buf[off + 3]! * 0x1000000
        : buf[off]! * 0x1000000 + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
    },
    write(buf, off, value) {
      if (!Number.isInteger(value) || value < 0 || value >= 2 ** (8 * size)) {
        throw new InternalError(`${name}: value ${value} does not fit ${8 * size} bits`);
      }
      const v = view(buf);
      if (size === 1) v.setUint8(off, value);
      else if (size === 2) v.setUint16(off, value, little);
      else v.setUint32(off, value, little);
    },
  };
}

export const u8 = intCodec('u8', 1, true);
export const u16 = intCodec('u16le', 2, true);
export const u32 = intCodec('u32le', 4, true);
export const u16be = intCodec('u16be', 2, false);
export const u32be = intCodec('u32be', 4, false);

function bigCodec(name: string, little: boolean): Codec<bigint> {
  return {
    size: 8,
    name,
    read: (buf, off) => view(buf).getBigUint64(off, little),
    write(buf, off, value) {
      if (value < 0n || value >= 1n << 64n) throw new InternalError(`${name}: value ${value} does not fit 64 bits`);
      view(buf).setBigUint64(off, value, little);
    },
  };
}

export const u64 = bigCodec('u64le', true);
export const u64be = bigCodec('u64be', false);

/** Raw bytes of a fixed length (copied on read; shorter values are zero-padded on write). */
export function bytes(n: number): Codec<Uint8Array> {
  return {
    size: n,
    name: `bytes[${n}]`,
    read: (buf, off) => buf.slice(off, off + n),
    write(buf, off, value) {
      if (value.length > n) throw new InternalError(`bytes[${n}]: value has ${value.length} bytes`);
      buf.fill(0, off, off + n);
      buf.set(value, off);
    },
  };
}

/** A NUL-padded ASCII/UTF-8 string of a fixed field length. */
export function ascii(n: number): Codec<string> {
  return {
    size: n,
    name: `ascii[${n}]`,
    read(buf, off) {
      let end = off;
      while (end < off + n && buf[end] !== 0) end++;
      return Buffer.from(buf.buffer, buf.byteOffset + off, end - off).toString('utf8');
    },
    write(buf, off, value) {
      const b = Buffer.from(value, 'utf8');
      if (b.length > n) throw new InternalError(`ascii[${n}]: '${value}' is ${b.length} bytes`);
      buf.fill(0, off, off + n);
      buf.set(b, off);
    },
  };
}

/** A NUL-padded UTF-16LE string of `n` bytes (GPT partition names). */
export function utf16le(n: number): Codec<string> {
  return {
    size: n,
    name: `utf16le[${n}]`,
    read(buf, off) {
      let end = off;
      while (end + 1 < off + n && (buf[end] !== 0 || buf[end + 1] !== 0)) end += 2;
      return Buffer.from(buf.buffer, buf.byteOffset + off, end - off).toString('utf16le');
    },
    write(buf, off, value) {
      const b = Buffer.from(value, 'utf16le');
      if (b.length > n) throw new InternalError(`utf16le[${n}]: '${value}' needs ${b.length} bytes`);
      buf.fill(0, off, off + n);
      buf.set(b, off);
    },
  };
}

export type FieldTable = Record<string, readonly [offset: number, codec: Codec<any>]>;
export type StructValue<F extends FieldTable> = { [K in keyof F]: F[K][1] extends Codec<infer T> ? T : never };

export interface Struct<F extends FieldTable> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  decode(buf: Uint8Array, offset?: number): StructValue<F>;
  /** Writes every field into `into` (a new zeroed buffer by default); bytes between fields are left as they are. */
  encode(value: StructValue<F>, into?: Uint8Array, offset?: number): Uint8Array;
  offsetOf(field: keyof F & string): number;
  /** Writes one field at `offset` in `buf`, leaving every other byte as it is (checksum patches). */
  writeField<K extends keyof F & string>(buf: Uint8Array, field: K, value: StructValue<F>[K], offset?: number): void;
}

export function defineStruct<F extends FieldTable>(name: string, size: number, fields: F): Struct<F> {
  const entries = Object.entries(fields).sort((a, b) => a[1][0] - b[1][0]);
  let end = 0;
  let prev = '';
  for (const [field, [off, codec]] of entries) {
    if (off < end) throw new InternalError(`struct ${name}: field ${field} at 0x${off.toString(16)} overlaps ${prev}`);
    if (off + codec.size > size) {
      throw new InternalError(`struct ${name}: field ${field} at 0x${off.toString(16)} (+${codec.size}) runs past the size ${size}`);
    }
    end = off + codec.size;
    prev = field;
  }
  return {
    name,
    size,
    fields,
    decode(buf, offset = 0) {
      if (offset + size > buf.length) {
        throw new InternalError(`struct ${name}: need ${size} bytes at offset ${offset} but the buffer has ${buf.length}`);
      }
      const out: Record<string, unknown> = {};
      for (const [field, [off, codec]] of entries) out[field] = codec.read(buf, offset + off);
      return out as StructValue<F>;
    },
    encode(value, into = new Uint8Array(size), offset = 0) {
      if (offset + size > into.length) {
        throw new InternalError(`struct ${name}: need ${size} bytes at offset ${offset} but the buffer has ${into.length}`);
      }
      for (const [field, [off, codec]] of entries) {
        const v = (value as Record<string, unknown>)[field];
        if (v === undefined) throw new InternalError(`struct ${name}: field ${field} is missing`);
        try {
          codec.write(into, offset + off, v);
        } catch (e) {
          throw new InternalError(`struct ${name}.${field}: ${(e as Error).message}`);
        }
      }
      return into;
    },
    offsetOf(field) {
      const f = fields[field];
      if (!f) throw new InternalError(`struct ${name} has no field ${field}`);
      return f[0];
    },
    writeField(buf, field, value, offset = 0) {
      const f = fields[field];
      if (!f) throw new InternalError(`struct ${name} has no field ${field}`);
      f[1].write(buf, offset + f[0], value);
    },
  };
}
