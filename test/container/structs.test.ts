// Round trip of every container struct declaration (qcow2, VHD, VMDK): encode a value with
// every field set, decode it back equal, and the declared sizes the specs give.
import { describe, expect, it } from 'vitest';
import { Qcow2ExtensionHeader, Qcow2HeaderV2, Qcow2HeaderV3, compressedEntry, parseCompressedEntry } from '../../src/container/qcow2/struct.js';
import { VhdDynamicHeader, VhdFooter } from '../../src/container/vhd/struct.js';
import { GrainMarker, MetadataMarker, SparseExtentHeader } from '../../src/container/vmdk/struct.js';
import type { Struct, FieldTable, StructValue } from '../../src/binary/struct.js';

/** A value with every field set to something non-zero and distinct. */
function sample<F extends FieldTable>(s: Struct<F>): StructValue<F> {
  const v: Record<string, unknown> = {};
  let k = 1;
  for (const [name, [, codec]] of Object.entries(s.fields)) {
    k++;
    if (codec.name.startsWith('bytes')) v[name] = new Uint8Array(codec.size).fill(k);
    else if (codec.name.startsWith('ascii')) v[name] = 'ab'.slice(0, Math.min(2, codec.size));
    else if (codec.size === 8) v[name] = BigInt(k) << 33n;
    else v[name] = k % 2 ** (8 * codec.size);
  }
  return v as StructValue<F>;
}

describe('container structs', () => {
  const all: [Struct<any>, number][] = [
    [Qcow2HeaderV2, 72], [Qcow2HeaderV3, 112], [Qcow2ExtensionHeader, 8], [VhdFooter, 512], [VhdDynamicHeader, 1024],
    [SparseExtentHeader, 512], [GrainMarker, 12], [MetadataMarker, 512],
  ];
  for (const [s, size] of all) {
    it(`${s.name}: ${size} bytes, round trip`, () => {
      expect(s.size).toBe(size);
      const v = sample(s);
      expect(s.decode(s.encode(v))).toEqual(v);
    });
  }
  it('qcow2 compressed-cluster descriptors round-trip (64 KiB and 2 MiB clusters)', () => {
    expect(parseCompressedEntry(16, compressedEntry(16, 0x123456789, 1000))).toEqual({ offset: 0x123456789, length: Math.ceil((0x189 + 1000) / 512) * 512 - 0x189 });
    expect(parseCompressedEntry(21, compressedEntry(21, 512 * 7, 512 * 4095))).toEqual({ offset: 512 * 7, length: 512 * 4095 });
  });
});
