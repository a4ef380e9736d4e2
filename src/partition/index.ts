/**
 * Partition tables: `writePartitionTable` and `readPartitionTable` dispatch on the label
 * ('mbr' -> mbr.ts, 'gpt' -> gpt.ts). The table model is in table.ts.
 *
 * MBR tables with logical partitions list their ONE extended partition as an ordinary entry
 * (number 1-4, type '0x0f'); logicals are numbered from 5 and each is preceded by its EBR
 * (`ebrLba`; default: the alignment pad before the partition, see table.ts).
 */
import type { BlockDevice } from '../binary/block-device.js';
import { FormatError } from '../errors.js';
import { detectGptSectorSize, type GptWriteOptions, hasProtectiveMbr, readGpt, writeGpt } from './gpt.js';
import { readMbr, writeMbr, type MbrWriteOptions } from './mbr.js';
import { MasterBootRecord, MBR_SIGNATURE } from './mbr-struct.js';
import type { PartitionTable } from './table.js';

export type { PartitionEntry, PartitionTable, TableLabel } from './table.js';
export { readGpt, writeGpt, type GptReadResult, type GptWriteOptions } from './gpt.js';
export { readMbr, writeMbr, type MbrReadResult, type MbrWriteOptions } from './mbr.js';
export { GPT_ATTR, GPT_TYPES, gptTypeByGuid, resolveGptType } from './gpt-types.js';
export { DIB_GEOMETRY, IMAGE_FILE_GEOMETRY, type ChsGeometry } from './chs.js';

/** Options of both writers; each uses the ones that apply to its label. */
export type WritePartitionTableOptions = MbrWriteOptions & GptWriteOptions;

export interface ReadPartitionTableResult {
  table: PartitionTable;
  /** Problems that did not stop the read (e.g. "primary GPT damaged, backup used"); the caller prints them. */
  warnings: string[];
}

/** Writes the table's label structures (MBR + EBRs, or protective MBR + both GPTs) onto `dev`. */
export function writePartitionTable(dev: BlockDevice, table: PartitionTable, opts: WritePartitionTableOptions = {}): void {
  if (table.label === 'gpt') writeGpt(dev, table, opts);
  else writeMbr(dev, table, opts);
}

/** Reads whichever table `dev` holds: GPT when sector 0 protects one (or a GPT header is found), else MBR. */
export function readPartitionTable(dev: BlockDevice, opts: { sectorSize?: 512 | 4096 } = {}): ReadPartitionTableResult {
  if (dev.size < MasterBootRecord.size) throw new FormatError({ struct: 'MBR', offset: 0, expected: `a device of at least ${MasterBootRecord.size} bytes`, actual: `${dev.size} bytes` });
  const sector0 = dev.readAt(0, MasterBootRecord.size);
  if (hasProtectiveMbr(sector0)) {
    const { table, warnings } = readGpt(dev, opts);
    return { table, warnings };
  }
  if (MasterBootRecord.decode(sector0).Signature === MBR_SIGNATURE) {
    const { table, warnings } = readMbr(dev, opts);
    return { table, warnings };
  }
  const ss = opts.sectorSize ?? detectGptSectorSize(dev);
  if (ss) {
    const { table, warnings } = readGpt(dev, { sectorSize: ss });
    return { table, warnings: ['sector 0 has no protective MBR; the GPT was found without it', ...warnings] };
  }
  return readMbr(dev, opts); // throws the FormatError that names the missing signature
}
