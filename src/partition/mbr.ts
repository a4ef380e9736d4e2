/**
 * Reads and writes DOS/MBR partition tables: up to four primary entries in sector 0 and,
 * through ONE extended partition, a chain of EBRs each describing one logical partition
 * (entry 0: the logical, relative to its EBR; entry 1: the link to the next EBR, type 0x05,
 * relative to the extended partition's start, covering the next EBR through the end of the
 * next logical). This is the layout sfdisk writes and diskimage-builder's mbr.py wrote.
 * Structures: mbr-struct.ts. CHS: chs.ts.
 */
import type { BlockDevice } from '../binary/block-device.js';
import { FormatError, LayoutError } from '../errors.js';
import { type ChsGeometry, encodeChs, IMAGE_FILE_GEOMETRY } from './chs.js';
import {
  decodeRecords,
  emptyRecord,
  encodeRecords,
  EXTENDED_TYPES,
  MasterBootRecord,
  MbrPartitionRecord,
  MBR_BOOT_CODE_SIZE,
  MBR_SIGNATURE,
  type MbrRecord,
} from './mbr-struct.js';
import { GPT_SIGNATURE } from './gpt-struct.js';
import type { PartitionEntry, PartitionTable } from './table.js';

export interface MbrWriteOptions {
  /** Boot code for bytes 0..439 (at most 440 bytes). Default: keep what the device holds there. */
  bootCode?: Uint8Array;
  /** CHS geometry for the CHS fields. Default 255 heads x 63 sectors, as sfdisk uses for a file. */
  geometry?: ChsGeometry;
}

export interface MbrReadResult {
  table: PartitionTable;
  warnings: string[];
  /** Bytes 0..439 of sector 0. */
  bootCode: Uint8Array;
}

const U32_LIMIT = 1n << 32n;

/** Parses '0x83', '83' or 'fd' into a type byte. */
export function parseMbrType(type: string, where: string): number {
  const m = /^(?:0x)?([0-9a-f]{1,2})$/i.exec(type.trim());
  if (!m) throw new LayoutError(where, `MBR type '${type}' is not a one-byte hex value`, "write it as '0x83'");
  return parseInt(m[1]!, 16);
}

export function formatMbrType(byte: number): string {
  return `0x${byte.toString(16).padStart(2, '0')}`;
}

function parseDiskSignature(id: string): number {
  const m = /^(?:0x)?([0-9a-f]{1,8})$/i.exec(id.trim());
  if (!m) throw new LayoutError('partition table', `MBR disk signature '${id}' is not a 32-bit hex value`, "write it as '0x1234abcd'");
  return parseInt(m[1]!, 16);
}

interface PlannedLogical {
  entry: PartitionEntry;
  ebr: bigint;
}

/** Checks the table and works out where every EBR goes. */
function planMbr(table: PartitionTable, totalSectors: bigint) {
  const where = (p: PartitionEntry) => `partition ${p.number}`;
  const seen = new Set<number>();
  for (const p of table.partitions) {
    if (!Number.isInteger(p.number) || p.number < 1) throw new LayoutError(where(p), `number ${p.number} is not a positive integer`);
    if (seen.has(p.number)) throw new LayoutError(where(p), 'number is used twice');
    seen.add(p.number);
    if (p.firstLba < 1n || p.lastLba < p.firstLba || p.lastLba >= totalSectors) {
      throw new LayoutError(where(p), `sectors ${p.firstLba}-${p.lastLba} are not inside sectors 1-${totalSectors - 1n} of the disk`);
    }
    if (p.firstLba >= U32_LIMIT || p.lastLba - p.firstLba + 1n >= U32_LIMIT) {
      throw new LayoutError(where(p), `sectors ${p.firstLba}-${p.lastLba} do not fit the 32-bit fields of an MBR`, 'use a GPT label for disks over 2 TiB');
    }
  }
  const primaries = table.partitions.filter((p) => p.number <= 4).sort((a, b) => a.number - b.number);
  const logicals = table.partitions.filter((p) => p.number > 4).sort((a, b) => a.number - b.number);
  const extended = primaries.filter((p) => EXTENDED_TYPES.has(parseMbrType(p.type, where(p))));
  if (extended.length > 1) throw new LayoutError('partition table', `${extended.length} extended partitions; an MBR may have one`);
  const ext = extended[0];
  if (logicals.length > 0 && !ext) {
    throw new LayoutError(where(logicals[0]!), 'is a logical partition but the table has no extended partition (type 0x0f) numbered 1-4');
  }
  const planned: PlannedLogical[] = [];
  let prevEnd = ext ? ext.firstLba - 1n : 0n;
  // The EBR-to-partition distance of the first logical (its EBR sits at the extended start)
  // is the alignment pad; each later EBR sits that far before its partition, as sfdisk and DIB
  // place them, or right after the previous logical when that distance does not fit.
  const first = logicals[0];
  const pad = first && ext ? first.firstLba - (first.ebrLba ?? ext.firstLba) : 1n;
  logicals.forEach((p, i) => {
    if (p.number !== 5 + i) throw new LayoutError(where(p), `logical partitions must be numbered 5, 6, ... in order; expected ${5 + i}`);
    const padded = p.firstLba - pad;
    const ebr = p.ebrLba ?? (i === 0 ? ext!.firstLba : padded > prevEnd ? padded : prevEnd + 1n);
    if (ebr <= prevEnd || ebr >= p.firstLba) {
      throw new LayoutError(where(p), `its EBR at sector ${ebr} must lie after sector ${prevEnd} and before the partition's first sector ${p.firstLba}`);
    }
    if (ebr < ext!.firstLba || p.lastLba > ext!.lastLba) {
      throw new LayoutError(where(p), `EBR and sectors ${ebr}-${p.lastLba} are not inside the extended partition ${ext!.firstLba}-${ext!.lastLba}`);
    }
    planned.push({ entry: p, ebr });
    prevEnd = p.lastLba;
  });
  return { primaries, ext, logicals: planned };
}

function record(type: number, bootable: boolean, first: bigint, last: bigint, base: bigint, g: ChsGeometry): MbrRecord {
  return {
    BootIndicator: bootable ? 0x80 : 0,
    StartingCHS: encodeChs(first, g),
    OSType: type,
    EndingCHS: encodeChs(last, g),
    StartingLBA: Number(first - base),
    SizeInLBA: Number(last - first + 1n),
  };
}

function bootSector(bootCode: Uint8Array, signature: number, records: MbrRecord[]): Uint8Array {
  return MasterBootRecord.encode({
    BootCode: bootCode,
    UniqueMBRDiskSignature: signature,
    Unknown: 0,
    PartitionRecord: encodeRecords(records),
    Signature: MBR_SIGNATURE,
  });
}

export function writeMbr(dev: BlockDevice, table: PartitionTable, opts: MbrWriteOptions = {}): void {
  const ss = table.sectorSize;
  const g = opts.geometry ?? IMAGE_FILE_GEOMETRY;
  const totalSectors = BigInt(Math.floor(dev.size / ss));
  const { primaries, ext, logicals } = planMbr(table, totalSectors);
  if (opts.bootCode && opts.bootCode.length > MBR_BOOT_CODE_SIZE) {
    throw new LayoutError('partition table', `boot code is ${opts.bootCode.length} bytes; the MBR has room for ${MBR_BOOT_CODE_SIZE}`);
  }
  const bootCode = opts.bootCode ?? dev.readAt(0, MBR_BOOT_CODE_SIZE);

  const records = [emptyRecord(), emptyRecord(), emptyRecord(), emptyRecord()];
  for (const p of primaries) {
    records[p.number - 1] = record(parseMbrType(p.type, `partition ${p.number}`), p.bootable, p.firstLba, p.lastLba, 0n, g);
  }
  dev.writeAt(0, bootSector(bootCode, parseDiskSignature(table.diskId), records));
  wipeStaleGpt(dev, ss);

  const zeros = new Uint8Array(MBR_BOOT_CODE_SIZE);
  if (ext && logicals.length === 0) {
    // An empty chain: an EBR with no entries at the extended partition's start.
    dev.writeAt(Number(ext.firstLba) * ss, bootSector(zeros, 0, [emptyRecord(), emptyRecord(), emptyRecord(), emptyRecord()]));
  }
  logicals.forEach(({ entry: p, ebr }, i) => {
    const recs = [emptyRecord(), emptyRecord(), emptyRecord(), emptyRecord()];
    recs[0] = record(parseMbrType(p.type, `partition ${p.number}`), p.bootable, p.firstLba, p.lastLba, ebr, g);
    const next = logicals[i + 1];
    if (next) recs[1] = record(0x05, false, next.ebr, next.entry.lastLba, ext!.firstLba, g);
    dev.writeAt(Number(ebr) * ss, bootSector(zeros, 0, recs));
  });
}

const EFI_PART = new TextEncoder().encode(GPT_SIGNATURE);

/**
 * A device that held a GPT keeps its headers after an MBR is written over sector 0, and tools
 * that look for them (libblkid, gdisk) would then see two tables: zero both GPT header
 * sectors when they carry the 'EFI PART' signature, as sfdisk does when it creates a label.
 */
function wipeStaleGpt(dev: BlockDevice, ss: number): void {
  const lastLba = Math.floor(dev.size / ss) - 1;
  for (const lba of [1, lastLba]) {
    if (lba < 1) continue;
    const head = dev.readAt(lba * ss, EFI_PART.length);
    if (EFI_PART.every((b, i) => head[i] === b)) dev.writeAt(lba * ss, new Uint8Array(ss));
  }
}

/** Reads sector 0 and its EBR chain. Throws FormatError when there is no MBR signature. */
export function readMbr(dev: BlockDevice, opts: { sectorSize?: 512 | 4096 } = {}): MbrReadResult {
  const ss = opts.sectorSize ?? 512;
  if (dev.size < MasterBootRecord.size) throw new FormatError({ struct: 'MBR', offset: 0, expected: `a device of at least ${MasterBootRecord.size} bytes`, actual: `${dev.size} bytes` });
  const sector0 = dev.readAt(0, MasterBootRecord.size);
  const mbr = MasterBootRecord.decode(sector0);
  if (mbr.Signature !== MBR_SIGNATURE) {
    throw new FormatError({
      struct: 'MBR', field: 'Signature', offset: MasterBootRecord.offsetOf('Signature'), expected: '0xaa55 (bytes 55 aa)',
      actual: `0x${mbr.Signature.toString(16).padStart(4, '0')}`, hint: 'the device has no partition table (or it is not at sector 0)',
    });
  }
  const warnings: string[] = [];
  const partitions: PartitionEntry[] = [];
  let ext: PartitionEntry | undefined;
  decodeRecords(sector0).forEach((r, i) => {
    if (r.OSType === 0) return;
    const e = toEntry(i + 1, r, 0n);
    partitions.push(e);
    if (EXTENDED_TYPES.has(r.OSType)) {
      if (ext) warnings.push(`MBR entry ${i + 1} is a second extended partition; only the first is followed`);
      else ext = e;
    }
  });
  if (ext) partitions.push(...readEbrChain(dev, ss, ext, warnings));
  return {
    table: { label: 'mbr', sectorSize: ss, diskSize: dev.size, diskId: `0x${mbr.UniqueMBRDiskSignature.toString(16).padStart(8, '0')}`, partitions },
    warnings,
    bootCode: mbr.BootCode,
  };
}

function toEntry(number: number, r: MbrRecord, base: bigint): PartitionEntry {
  const first = base + BigInt(r.StartingLBA);
  return { number, firstLba: first, lastLba: first + BigInt(r.SizeInLBA) - 1n, type: formatMbrType(r.OSType), bootable: r.BootIndicator === 0x80 };
}

const MAX_LOGICALS = 1024;

function readEbrChain(dev: BlockDevice, ss: number, ext: PartitionEntry, warnings: string[]): PartitionEntry[] {
  const out: PartitionEntry[] = [];
  const seen = new Set<bigint>();
  let ebr = ext.firstLba;
  while (out.length < MAX_LOGICALS) {
    const offset = Number(ebr) * ss;
    if (ebr > ext.lastLba || offset + MasterBootRecord.size > dev.size) {
      warnings.push(`EBR link to sector ${ebr} points outside the extended partition or the device; the chain stops there`);
      break;
    }
    seen.add(ebr);
    const sector = dev.readAt(offset, MasterBootRecord.size);
    const sig = MasterBootRecord.decode(sector).Signature;
    if (sig !== MBR_SIGNATURE) {
      if (out.length === 0) break; // an extended partition whose first EBR was never written: no logicals
      throw new FormatError({
        struct: `EBR of partition ${5 + out.length}`, field: 'Signature', offset: offset + MasterBootRecord.offsetOf('Signature'),
        expected: '0xaa55', actual: `0x${sig.toString(16).padStart(4, '0')}`,
      });
    }
    const [r0, r1] = decodeRecords(sector);
    if (r0!.OSType !== 0) out.push({ ...toEntry(5 + out.length, r0!, ebr), ebrLba: ebr });
    if (!r1 || r1.OSType === 0 || r1.SizeInLBA === 0) break;
    const next = ext.firstLba + BigInt(r1.StartingLBA);
    if (seen.has(next)) {
      throw new FormatError({
        struct: `EBR at sector ${ebr}`, field: 'PartitionRecord[1]', offset: offset + MasterBootRecord.offsetOf('PartitionRecord') + MbrPartitionRecord.size,
        expected: 'a link to a new EBR', actual: `a loop back to sector ${next}`,
      });
    }
    ebr = next;
  }
  return out;
}
