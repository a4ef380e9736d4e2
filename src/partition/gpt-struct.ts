/**
 * The on-disk structures of a GUID Partition Table: the 92-byte header (at LBA 1 and, as a
 * backup, at the last LBA) and the 128-byte partition entry. Field names and offsets follow
 * the UEFI Specification 2.10, section 5.3.2 (GPT Header, table 5.5) and 5.3.3 (GPT
 * Partition Entry, table 5.6).
 */
import { bytes, defineStruct, u32, u64, utf16le } from '../binary/struct.js';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION = 0x00010000;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRY_SIZE = 128;
export const GPT_DEFAULT_ENTRY_COUNT = 128;
export const PROTECTIVE_MBR_TYPE = 0xee;

export const GptHeader = defineStruct('GPT header', GPT_HEADER_SIZE, {
  Signature: [0x00, bytes(8)],
  Revision: [0x08, u32],
  HeaderSize: [0x0c, u32],
  HeaderCRC32: [0x10, u32],
  Reserved: [0x14, u32],
  MyLBA: [0x18, u64],
  AlternateLBA: [0x20, u64],
  FirstUsableLBA: [0x28, u64],
  LastUsableLBA: [0x30, u64],
  DiskGUID: [0x38, bytes(16)],
  PartitionEntryLBA: [0x48, u64],
  NumberOfPartitionEntries: [0x50, u32],
  SizeOfPartitionEntry: [0x54, u32],
  PartitionEntryArrayCRC32: [0x58, u32],
});

export const GptEntry = defineStruct('GPT partition entry', GPT_ENTRY_SIZE, {
  PartitionTypeGUID: [0x00, bytes(16)],
  UniquePartitionGUID: [0x10, bytes(16)],
  StartingLBA: [0x20, u64],
  EndingLBA: [0x28, u64],
  Attributes: [0x30, u64],
  PartitionName: [0x38, utf16le(72)],
});

export type GptHeaderValue = ReturnType<typeof GptHeader.decode>;
