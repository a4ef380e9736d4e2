/**
 * The round trip every declared on-disk struct must pass (src/binary/struct.ts): its declared
 * size is the spec's, a value with every field set survives encode then decode, and bytes
 * survive decode then encode (the encoded sample, and bytes a reference tool wrote when the
 * test has some; those must hold zeros between the declared fields).
 */
import { expect } from 'vitest';
import type { Codec, FieldTable, Struct, StructValue } from '../../src/binary/struct.js';

/** A deterministic value for one field: no zero, no NUL inside strings, within the codec's range. */
function sample(codec: Codec<unknown>, seed: number): unknown {
  const byte = (i: number) => ((seed * 37 + i * 11) % 254) + 1;
  const n = /\[(\d+)\]$/.exec(codec.name);
  if (codec.name.startsWith('bytes')) return Uint8Array.from({ length: Number(n![1]) }, (_, i) => byte(i));
  if (codec.name.startsWith('ascii')) return 'abcdefghijklmnopqrstuvwxyz'.repeat(8).slice(seed % 26, (seed % 26) + Math.max(1, Number(n![1]) - 1));
  if (codec.name.startsWith('utf16le')) return 'ÉFI part name'.slice(0, Math.max(1, Number(n![1]) / 2 - 1));
  if (codec.size === 8) return BigInt(byte(0)) << 56n | BigInt(byte(1));
  if (codec.size === 1) return byte(0);
  return (byte(0) << (8 * (codec.size - 1))) + byte(1) >>> 0;
}

export function sampleValue<F extends FieldTable>(struct: Struct<F>): StructValue<F> {
  const out: Record<string, unknown> = {};
  Object.entries(struct.fields).forEach(([field, [, codec]], i) => { out[field] = sample(codec, i + 1); });
  return out as StructValue<F>;
}

export function expectRoundTrip<F extends FieldTable>(struct: Struct<F>, size: number, toolBytes?: Uint8Array): void {
  expect(struct.size, `${struct.name} size`).toBe(size);
  const x = sampleValue(struct);
  const enc = struct.encode(x);
  expect(enc.length).toBe(size);
  expect(struct.decode(enc), `${struct.name}: decode(encode(x))`).toEqual(x);
  expect(Buffer.from(struct.encode(struct.decode(enc))).equals(Buffer.from(enc)), `${struct.name}: encode(decode(bytes))`).toBe(true);
  if (toolBytes) {
    expect(toolBytes.length).toBe(size);
    expect(Buffer.from(struct.encode(struct.decode(toolBytes))).equals(Buffer.from(toolBytes)), `${struct.name}: tool bytes`).toBe(true);
  }
}
