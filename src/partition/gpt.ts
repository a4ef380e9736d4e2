/**
 * Reads and writes GUID Partition Tables (UEFI Specification 2.10, section 5.3): a protective
 * MBR in LBA 0 (one 0xEE record covering the disk, section 5.2.3), the primary header at LBA 1
 * with its entry array from LBA 2, and the backup entry array and header at the end of the
 * disk. Defaults match sgdisk (gdisk 1.0.9): 128 entries of 128 bytes, first usable LBA right
 * after the array (34 with 512-byte sectors, 6 with 4096), CHS of the 0xEE record from a
 * 255x63 geometry. Structures: gpt-struct.ts.
 */
import type { BlockDevice } from '../binary/block-device.js';
import { crc32 } from '../binary/crc32.js';
import { decodeGuid, encodeGuid, isGuid } from '../binary/guid.js';
import { FormatError, type FormatErrorDetails, LayoutError } from '../errors.js';
import { type ChsGeometry, encodeChs, IMAGE_FILE_GEOMETRY } from './chs.js';
import { GPT_ATTR, resolveGptType } from './gpt-types.js';
import {
  GPT_DEFAULT_ENTRY_COUNT,
  GPT_ENTRY_SIZE,
  GPT_HEADER_SIZE,
  GPT_REVISION,
  GPT_SIGNATURE,
  GptEntry,
  GptHeader,
  type GptHeaderValue,
  PROTECTIVE_MBR_TYPE,
} from './gpt-struct.js';
import { decodeRecords, emptyRecord, encodeRecords, MasterBootRecord, MBR_BOOT_CODE_SIZE, MBR_SIGNATURE } from './mbr-struct.js';
import type { PartitionEntry, PartitionTable } from './table.js';

/** The largest entry array a header may announce (readers keep it in memory; sgdisk makes 16 KiB). */
const GPT_MAX_ARRAY_BYTES = 16 * 1024 * 1024;

export interface GptWriteOptions {
  /** Boot code for bytes 0..439 of the protective MBR. Default: keep what the device holds. */
  bootCode?: Uint8Array;
  /** Entries in the array (default 128, the minimum the spec allows for 16 KiB). */
  entryCount?: number;
  /** Default: the sector after the primary entry array (sgdisk). sfdisk uses 2048. */
  firstUsableLba?: bigint;
  /**
   * CHS of the protective record's last sector: 'geometry' (sgdisk: from 255x63, ff ff ff
   * when past cylinder 1023) or 'all-ones' (sfdisk: always ff ff ff).
   */
  protectiveChs?: 'geometry' | 'all-ones';
  geometry?: ChsGeometry;
}

export interface GptReadResult {
  table: PartitionTable;
  /** Problems that did not stop the read (damaged backup, primary replaced by backup...). */
  warnings: string[];
  /** Which header the table came from. */
  source: 'primary' | 'backup';
  firstUsableLba: bigint;
  lastUsableLba: bigint;
  entryCount: number;
}

const SIG = new TextEncoder().encode(GPT_SIGNATURE);

interface GptGeometry {
  ss: number;
  lastLba: bigint;
  arraySectors: bigint;
  entryCount: number;
}

function geometryOf(devSize: number, ss: number, entryCount: number): GptGeometry {
  const sectors = BigInt(Math.floor(devSize / ss));
  const arraySectors = BigInt(Math.ceil((entryCount * GPT_ENTRY_SIZE) / ss));
  return { ss, lastLba: sectors - 1n, arraySectors, entryCount };
}

function attributesOf(p: PartitionEntry): bigint {
  return (p.attributes ?? 0n) | (p.bootable ? GPT_ATTR.LEGACY_BIOS_BOOTABLE : 0n);
}

/** Builds the entry array (padded to whole sectors), checking every partition. */
function buildEntryArray(table: PartitionTable, g: GptGeometry, firstUsable: bigint, lastUsable: bigint): Uint8Array {
  const array = new Uint8Array(Number(g.arraySectors) * g.ss);
  const sorted = [...table.partitions].sort((a, b) => (a.firstLba < b.firstLba ? -1 : 1));
  const used = new Set<number>();
  let prev: PartitionEntry | undefined;
  for (const p of sorted) {
    const where = `partition ${p.number}`;
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > g.entryCount) {
      throw new LayoutError(where, `number must be 1-${g.entryCount} (the GPT has ${g.entryCount} entries)`);
    }
    if (used.has(p.number)) throw new LayoutError(where, 'number is used twice');
    used.add(p.number);
    if (p.firstLba < firstUsable || p.lastLba > lastUsable || p.lastLba < p.firstLba) {
      throw new LayoutError(where, `sectors ${p.firstLba}-${p.lastLba} are not inside the usable sectors ${firstUsable}-${lastUsable}`);
    }
    if (prev && p.firstLba <= prev.lastLba) {
      throw new LayoutError(where, `sectors ${p.firstLba}-${p.lastLba} overlap partition ${prev.number} (${prev.firstLba}-${prev.lastLba})`);
    }
    prev = p;
    if (!p.guid || !isGuid(p.guid)) {
      throw new LayoutError(where, `needs a unique partition GUID but has '${p.guid ?? ''}'`, 'the layout planner makes them (random, or seeded)');
    }
    const name = p.name ?? '';
    if (name.length > 36) throw new LayoutError(where, `name '${name}' is ${name.length} UTF-16 units; a GPT name holds 36`);
    GptEntry.encode({
      PartitionTypeGUID: encodeGuid(resolveGptType(p.type, where)),
      UniquePartitionGUID: encodeGuid(p.guid),
      StartingLBA: p.firstLba,
      EndingLBA: p.lastLba,
      Attributes: attributesOf(p),
      PartitionName: name,
    }, array, (p.number - 1) * GPT_ENTRY_SIZE);
  }
  return array;
}

function encodeHeader(h: Omit<GptHeaderValue, 'HeaderCRC32'>, ss: number): Uint8Array {
  const sector = new Uint8Array(ss);
  GptHeader.encode({ ...h, HeaderCRC32: 0 }, sector);
  GptHeader.writeField(sector, 'HeaderCRC32', crc32(sector.subarray(0, GPT_HEADER_SIZE)));
  return sector;
}

export function writeGpt(dev: BlockDevice, table: PartitionTable, opts: GptWriteOptions = {}): void {
  const entryCount = opts.entryCount ?? GPT_DEFAULT_ENTRY_COUNT;
  const g = geometryOf(dev.size, table.sectorSize, entryCount);
  const firstUsable = opts.firstUsableLba ?? 2n + g.arraySectors;
  const lastUsable = g.lastLba - 1n - g.arraySectors;
  if (firstUsable < 2n + g.arraySectors || lastUsable < firstUsable) {
    throw new LayoutError('partition table', `a ${dev.size}-byte disk with ${table.sectorSize}-byte sectors has no room for a GPT (usable ${firstUsable}-${lastUsable})`);
  }
  if (!isGuid(table.diskId)) throw new LayoutError('partition table', `GPT disk GUID '${table.diskId}' is not a GUID`);
  if (opts.bootCode && opts.bootCode.length > MBR_BOOT_CODE_SIZE) {
    throw new LayoutError('partition table', `boot code is ${opts.bootCode.length} bytes; the MBR has room for ${MBR_BOOT_CODE_SIZE}`);
  }
  const array = buildEntryArray(table, g, firstUsable, lastUsable);
  const arrayCrc = crc32(array.subarray(0, entryCount * GPT_ENTRY_SIZE));
  const backupArrayLba = g.lastLba - g.arraySectors;
  const common = {
    Signature: SIG,
    Revision: GPT_REVISION,
    HeaderSize: GPT_HEADER_SIZE,
    Reserved: 0,
    FirstUsableLBA: firstUsable,
    LastUsableLBA: lastUsable,
    DiskGUID: encodeGuid(table.diskId),
    NumberOfPartitionEntries: entryCount,
    SizeOfPartitionEntry: GPT_ENTRY_SIZE,
    PartitionEntryArrayCRC32: arrayCrc,
  };
  const primary = encodeHeader({ ...common, MyLBA: 1n, AlternateLBA: g.lastLba, PartitionEntryLBA: 2n }, g.ss);
  const backup = encodeHeader({ ...common, MyLBA: g.lastLba, AlternateLBA: 1n, PartitionEntryLBA: backupArrayLba }, g.ss);

  dev.writeAt(0, protectiveMbr(dev, g, opts));
  dev.writeAt(g.ss, primary);
  dev.writeAt(2 * g.ss, array);
  dev.writeAt(Number(backupArrayLba) * g.ss, array);
  dev.writeAt(Number(g.lastLba) * g.ss, backup);
}

function protectiveMbr(dev: BlockDevice, g: GptGeometry, opts: GptWriteOptions): Uint8Array {
  const geo = opts.geometry ?? IMAGE_FILE_GEOMETRY;
  const end = opts.protectiveChs === 'all-ones' ? new Uint8Array([0xff, 0xff, 0xff]) : encodeChs(g.lastLba, geo, 'all-ones');
  const record = {
    ...emptyRecord(),
    StartingCHS: encodeChs(1n, geo),
    OSType: PROTECTIVE_MBR_TYPE,
    EndingCHS: end,
    StartingLBA: 1,
    SizeInLBA: Number(g.lastLba > 0xffffffffn ? 0xffffffffn : g.lastLba),
  };
  return MasterBootRecord.encode({
    BootCode: opts.bootCode ?? dev.readAt(0, MBR_BOOT_CODE_SIZE),
    UniqueMBRDiskSignature: 0,
    Unknown: 0,
    PartitionRecord: encodeRecords([record, emptyRecord(), emptyRecord(), emptyRecord()]),
    Signature: MBR_SIGNATURE,
  });
}

/** True when sector 0 holds an MBR whose records include a 0xEE (GPT protective) one. */
export function hasProtectiveMbr(sector0: Uint8Array): boolean {
  if (MasterBootRecord.decode(sector0).Signature !== MBR_SIGNATURE) return false;
  return decodeRecords(sector0).some((r) => r.OSType === PROTECTIVE_MBR_TYPE);
}

/** Finds the sector size whose LBA 1 or last LBA holds 'EFI PART' (512 tried first). */
export function detectGptSectorSize(dev: BlockDevice): 512 | 4096 | undefined {
  for (const ss of [512, 4096] as const) {
    if (dev.size >= 2 * ss && hasSignature(dev.readAt(ss, SIG.length))) return ss;
  }
  for (const ss of [512, 4096] as const) {
    const last = Math.floor(dev.size / ss) - 1;
    if (last > 1 && hasSignature(dev.readAt(last * ss, SIG.length))) return ss;
  }
  return undefined;
}

function hasSignature(b: Uint8Array): boolean {
  return SIG.every((c, i) => b[i] === c);
}

type HeaderRead = { ok: true; header: GptHeaderValue; array: Uint8Array } | { ok: false; problem: FormatErrorDetails };

const hex32 = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Reads and checks the header at `lba` and its entry array. */
function readHeader(dev: BlockDevice, ss: number, lba: bigint, which: string): HeaderRead {
  const offset = Number(lba) * ss;
  const struct = `${which} GPT header (LBA ${lba})`;
  const bad = (field: keyof typeof GptHeader.fields, expected: string, actual: string): HeaderRead =>
    ({ ok: false, problem: { struct, field, offset: offset + GptHeader.offsetOf(field), expected, actual } });
  if (lba < 1n || offset + ss > dev.size) {
    return { ok: false, problem: { struct, expected: 'a sector inside the device', actual: `LBA ${lba}` } };
  }
  const sector = dev.readAt(offset, ss);
  const h = GptHeader.decode(sector);
  if (!hasSignature(h.Signature)) {
    return bad('Signature', `'${GPT_SIGNATURE}'`, JSON.stringify(Buffer.from(h.Signature).toString('latin1')));
  }
  if (h.HeaderSize < GPT_HEADER_SIZE || h.HeaderSize > ss) return bad('HeaderSize', `92-${ss}`, `${h.HeaderSize}`);
  const copy = sector.slice(0, h.HeaderSize);
  GptHeader.writeField(copy, 'HeaderCRC32', 0);
  const crc = crc32(copy);
  if (crc !== h.HeaderCRC32) return bad('HeaderCRC32', hex32(crc), hex32(h.HeaderCRC32));
  if (h.MyLBA !== lba) return bad('MyLBA', `${lba}`, `${h.MyLBA}`);
  if (h.SizeOfPartitionEntry < GPT_ENTRY_SIZE || h.SizeOfPartitionEntry % 8 !== 0) {
    return bad('SizeOfPartitionEntry', 'a multiple of 8 of at least 128', `${h.SizeOfPartitionEntry}`);
  }
  const arrayBytes = h.NumberOfPartitionEntries * h.SizeOfPartitionEntry;
  const arrayOffset = Number(h.PartitionEntryLBA) * ss;
  if (arrayBytes > GPT_MAX_ARRAY_BYTES) {
    return bad('NumberOfPartitionEntries', `an entry array of at most ${GPT_MAX_ARRAY_BYTES / 2 ** 20} MiB (${GPT_MAX_ARRAY_BYTES / GPT_ENTRY_SIZE} entries of 128 bytes)`,
      `${h.NumberOfPartitionEntries} entries of ${h.SizeOfPartitionEntry} bytes`);
  }
  if (arrayOffset + arrayBytes > dev.size) {
    return bad('PartitionEntryLBA', 'an entry array inside the device', `${h.NumberOfPartitionEntries} entries at LBA ${h.PartitionEntryLBA}`);
  }
  const array = dev.readAt(arrayOffset, arrayBytes);
  const arrayCrc = crc32(array);
  if (arrayCrc !== h.PartitionEntryArrayCRC32) return bad('PartitionEntryArrayCRC32', hex32(arrayCrc), hex32(h.PartitionEntryArrayCRC32));
  return { ok: true, header: h, array };
}

/** A problem as a warning line (the FormatError message without the hex offset). */
function describe(p: FormatErrorDetails): string {
  const at = p.offset !== undefined ? ` at offset ${p.offset}` : '';
  return `${p.struct}${p.field !== undefined ? ` ${p.field}` : ''}${at}: expected ${p.expected} but it was ${p.actual}`;
}

export function readGpt(dev: BlockDevice, opts: { sectorSize?: 512 | 4096 } = {}): GptReadResult {
  const ss = opts.sectorSize ?? detectGptSectorSize(dev) ?? 512;
  const lastLba = BigInt(Math.floor(dev.size / ss)) - 1n;
  const warnings: string[] = [];
  const primary = readHeader(dev, ss, 1n, 'primary');
  let chosen: { header: GptHeaderValue; array: Uint8Array };
  let source: 'primary' | 'backup' = 'primary';
  if (primary.ok) {
    chosen = primary;
    const alt = primary.header.AlternateLBA;
    const backup = readHeader(dev, ss, alt, 'backup');
    if (!backup.ok) warnings.push(`${describe(backup.problem)}; the primary GPT is used (writing the table again repairs the backup)`);
    else if (alt !== lastLba) warnings.push(`the backup GPT header is at LBA ${alt}, not at the last LBA ${lastLba} (was the disk resized?)`);
  } else {
    const backup = readHeader(dev, ss, lastLba, 'backup');
    if (!backup.ok) {
      throw new FormatError({ ...primary.problem, hint: `the backup is no better: ${describe(backup.problem)}. Is this a GPT disk, with ${ss}-byte sectors?` });
    }
    warnings.push(`${describe(primary.problem)}; the backup GPT header at LBA ${lastLba} is used instead (writing the table again repairs the primary)`);
    chosen = backup;
    source = 'backup';
  }
  const { header: h, array } = chosen;
  const partitions: PartitionEntry[] = [];
  for (let i = 0; i < h.NumberOfPartitionEntries; i++) {
    const off = i * h.SizeOfPartitionEntry;
    const e = GptEntry.decode(array, off);
    if (e.PartitionTypeGUID.every((b) => b === 0)) continue;
    partitions.push({
      number: i + 1,
      firstLba: e.StartingLBA,
      lastLba: e.EndingLBA,
      type: decodeGuid(e.PartitionTypeGUID),
      guid: decodeGuid(e.UniquePartitionGUID),
      name: e.PartitionName,
      bootable: (e.Attributes & GPT_ATTR.LEGACY_BIOS_BOOTABLE) !== 0n,
      attributes: e.Attributes,
    });
  }
  return {
    table: { label: 'gpt', sectorSize: ss, diskSize: dev.size, diskId: decodeGuid(h.DiskGUID), partitions },
    warnings,
    source,
    firstUsableLba: h.FirstUsableLBA,
    lastUsableLba: h.LastUsableLBA,
    entryCount: h.NumberOfPartitionEntries,
  };
}
