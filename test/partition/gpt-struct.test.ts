/**
 * Round trips of the declared on-disk structs (mbr-struct.ts, gpt-struct.ts) on bytes the
 * reference tools wrote: decode then encode gives the same bytes back, and the fields land
 * where the UEFI spec puts them.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/binary/crc32.js';
import { decodeGuid } from '../../src/binary/guid.js';
import { GptEntry, GptHeader } from '../../src/partition/gpt-struct.js';
import { MasterBootRecord, MbrPartitionRecord } from '../../src/partition/mbr-struct.js';
import { expectRoundTrip } from '../helpers/struct-round-trip.js';
import { fixtureBytes } from './helpers.js';

describe('on-disk structs round-trip on tool-made bytes', () => {
  const gpt = fixtureBytes('gpt-512');
  const mbr = fixtureBytes('mbr-logicals');

  it('GPT header (sgdisk): decode -> encode is identity; CRC over the 92 bytes with the field zeroed', () => {
    const raw = gpt.slice(512, 512 + 92);
    const h = GptHeader.decode(raw);
    expect(GptHeader.encode(h)).toEqual(raw);
    expect([h.MyLBA, h.AlternateLBA, h.FirstUsableLBA, h.PartitionEntryLBA, h.NumberOfPartitionEntries]).toEqual([1n, 32767n, 34n, 2n, 128]);
    expect(decodeGuid(h.DiskGUID)).toBe('5b1c3a1e-7d11-4c0e-9d0a-1f2e3d4c5b6a');
    const zeroed = raw.slice();
    zeroed.fill(0, 0x10, 0x14);
    expect(crc32(zeroed)).toBe(h.HeaderCRC32);
  });

  it('GPT entry (sgdisk): decode -> encode is identity', () => {
    const raw = gpt.slice(1024 + 128, 1024 + 256);
    const e = GptEntry.decode(raw);
    expect(GptEntry.encode(e)).toEqual(raw);
    expect(e.PartitionName).toBe('ESP');
    expect(e.Attributes).toBe(1n << 63n);
  });

  it('MBR and its partition record (sfdisk): decode -> encode is identity', () => {
    const raw = mbr.slice(0, 512);
    expect(MasterBootRecord.encode(MasterBootRecord.decode(raw))).toEqual(raw);
    const rec = MbrPartitionRecord.decode(raw, 446);
    expect(MbrPartitionRecord.encode(rec)).toEqual(raw.slice(446, 462));
    expect([rec.BootIndicator, rec.OSType, rec.StartingLBA, rec.SizeInLBA]).toEqual([0x80, 0x83, 2048, 4096]);
  });
});

describe('every declared partition struct round-trips at its spec size', () => {
  const gpt = fixtureBytes('gpt-512');
  const mbr = fixtureBytes('mbr-logicals');
  it('GPT header (92), GPT entry (128)', () => {
    expectRoundTrip(GptHeader, 92, gpt.slice(512, 512 + 92));
    expectRoundTrip(GptEntry, 128, gpt.slice(1024 + 128, 1024 + 256));
  });
  it('MBR (512), MBR partition record (16)', () => {
    expectRoundTrip(MasterBootRecord, 512, mbr.slice(0, 512));
    expectRoundTrip(MbrPartitionRecord, 16, mbr.slice(446, 462));
  });
});
