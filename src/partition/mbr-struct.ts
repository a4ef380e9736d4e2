/**
 * The on-disk structures of a DOS/MBR partition table: the master boot record in sector 0
 * (boot code, disk signature at 440, four 16-byte entries at 446, 0x55 0xAA at 510) and the
 * same shape reused by each extended boot record (EBR) of a logical-partition chain.
 * Reference: the "Master boot record" and "Extended boot record" layouts as documented by
 * util-linux libfdisk (dos.c) and the UEFI spec 2.10 section 5.2.1 (legacy MBR).
 */
import { bytes, defineStruct, u16, u32, u8 } from '../binary/struct.js';

export const MBR_SIGNATURE = 0xaa55;
export const MBR_BOOT_CODE_SIZE = 440;

export const MbrPartitionRecord = defineStruct('MBR partition record', 16, {
  BootIndicator: [0x00, u8],
  StartingCHS: [0x01, bytes(3)],
  OSType: [0x04, u8],
  EndingCHS: [0x05, bytes(3)],
  StartingLBA: [0x08, u32],
  SizeInLBA: [0x0c, u32],
});

export const MasterBootRecord = defineStruct('MBR', 512, {
  BootCode: [0x000, bytes(MBR_BOOT_CODE_SIZE)],
  UniqueMBRDiskSignature: [0x1b8, u32],
  Unknown: [0x1bc, u16],
  PartitionRecord: [0x1be, bytes(64)],
  Signature: [0x1fe, u16],
});

const RECORDS_AT = MasterBootRecord.offsetOf('PartitionRecord');

export type MbrRecord = ReturnType<typeof MbrPartitionRecord.decode>;

export function emptyRecord(): MbrRecord {
  return { BootIndicator: 0, StartingCHS: new Uint8Array(3), OSType: 0, EndingCHS: new Uint8Array(3), StartingLBA: 0, SizeInLBA: 0 };
}

export function decodeRecords(sector: Uint8Array): MbrRecord[] {
  const out: MbrRecord[] = [];
  for (let i = 0; i < 4; i++) out.push(MbrPartitionRecord.decode(sector, RECORDS_AT + MbrPartitionRecord.size * i));
  return out;
}

export function encodeRecords(records: MbrRecord[]): Uint8Array {
  const buf = new Uint8Array(MasterBootRecord.fields.PartitionRecord[1].size);
  records.forEach((r, i) => MbrPartitionRecord.encode(r, buf, MbrPartitionRecord.size * i));
  return buf;
}

/** Extended-partition type bytes: CHS (0x05), LBA (0x0f), Linux (0x85). */
export const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);
