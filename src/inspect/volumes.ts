/**
 * The volumes of a disk image: the partitions of its MBR (primaries and logicals; the
 * extended container is listed but holds no filesystem) or GPT, or the whole disk when it is
 * a bare filesystem. Each volume says what its first sectors look like (ext2/3/4, FAT, swap,
 * XFS, Btrfs, LVM, LUKS, ...) so that "no Linux filesystem" errors can list what there is;
 * ext2/3/4 volumes are opened with the ext4 reader, FAT volumes with the FAT reader, both
 * behind the one filesystem interface (src/fs/readable.ts).
 */
import { type BlockDevice, SliceBlockDevice } from '../binary/block-device.js';
import { bytesToUuid } from '../binary/guid.js';
import { DiskImageError, FormatError, InputError } from '../errors.js';
import { COMPAT, EXT4_SUPER_MAGIC, INCOMPAT, SUPERBLOCK_OFFSET } from '../fs/ext4/constants.js';
import { Ext4Reader } from '../fs/ext4/reader.js';
import { Superblock } from '../fs/ext4/superblock.js';
import { FatReader } from '../fs/fat/reader.js';
import { Fat16BootSector, Fat32BootSector } from '../fs/fat/structs.js';
import type { ReadableFs } from '../fs/readable.js';
import { describeBytes } from './describe-bytes.js';
import { gptTypeByGuid, type PartitionEntry, type PartitionTable, readPartitionTable } from '../partition/index.js';

export type FsType = 'ext2' | 'ext3' | 'ext4' | 'vfat' | 'swap' | 'xfs' | 'btrfs' | 'lvm2' | 'luks' | 'iso9660' | 'squashfs' | 'empty' | 'unknown';

export interface Volume {
  /** 'disk' for a bare filesystem, else the partition number as a string. */
  name: string;
  /** Byte offset and size in the image. */
  start: number;
  size: number;
  partition?: PartitionEntry;
  /** The partition type: an MBR byte ('0x83') or a GPT type's name or GUID. */
  partitionType?: string;
  /** GPT: the partition GUID; MBR: DISKID-NN as Linux's PARTUUID. */
  partUuid?: string;
  partLabel?: string;
  fsType: FsType;
  uuid?: string;
  label?: string;
  /** Set for ext2/3/4; a filesystem that could not be opened keeps the error here. */
  ext?: Ext4Reader;
  /** Set for every filesystem this package reads (ext2/3/4: the same reader as `ext`; FAT). */
  fs?: ReadableFs;
  error?: DiskImageError;
}

export interface DiskLayout {
  table?: PartitionTable;
  warnings: string[];
  volumes: Volume[];
}

function ascii(b: Uint8Array, at: number, s: string): boolean {
  if (b.length < at + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** Names the filesystem (or other content) that starts `head`, the first 68 KiB (or less) of a volume. */
export function sniff(head: Uint8Array): FsType {
  if (head.length >= SUPERBLOCK_OFFSET + Superblock.size) {
    const sb = Superblock.decode(head, SUPERBLOCK_OFFSET);
    if (sb.s_magic === EXT4_SUPER_MAGIC) {
      if (sb.s_feature_incompat & (INCOMPAT.EXTENTS | INCOMPAT.BIT64 | INCOMPAT.FLEX_BG)) return 'ext4';
      return sb.s_feature_compat & COMPAT.HAS_JOURNAL ? 'ext3' : 'ext2';
    }
  }
  if (ascii(head, 0, 'XFSB')) return 'xfs';
  if (ascii(head, 0x10040, '_BHRfS_M')) return 'btrfs';
  if (ascii(head, 0x200, 'LABELONE')) return 'lvm2';
  if (ascii(head, 0, 'LUKS\xba\xbe')) return 'luks';
  if (ascii(head, 0, 'hsqs')) return 'squashfs';
  if (ascii(head, 0x8001, 'CD001')) return 'iso9660';
  if (ascii(head, 4086, 'SWAPSPACE2') || ascii(head, 4086, 'SWAP-SPACE')) return 'swap';
  if (head.length >= Fat16BootSector.size && isFat(head)) return 'vfat';
  if (head.subarray(0, Math.min(head.length, 4096)).every((x) => x === 0)) return 'empty';
  return 'unknown';
}

const BOOT_SIGNATURE = 0xaa55;

/** A FAT boot sector: the signature word, and 'FAT' in BS_FilSysType of FAT12/16 or 'FAT32' in FAT32's. */
function isFat(head: Uint8Array): boolean {
  const b = Fat16BootSector.decode(head);
  return b.Signature_word === BOOT_SIGNATURE
    && (b.BS_FilSysType.startsWith('FAT') || Fat32BootSector.decode(head).BS_FilSysType.startsWith('FAT32'));
}

/** Runs `open`, keeping a format error on the volume instead of throwing it. */
function opened<T>(vol: Volume, open: () => T): T | undefined {
  try {
    return open();
  } catch (e) {
    if (!(e instanceof DiskImageError)) throw e;
    vol.error = inVolume(vol, e);
    return undefined;
  }
}

function describeFs(vol: Volume, dev: BlockDevice): void {
  const head = dev.readAt(0, Math.min(dev.size, 0x10048));
  vol.fsType = sniff(head);
  if (vol.fsType === 'ext2' || vol.fsType === 'ext3' || vol.fsType === 'ext4') {
    const sb = Superblock.decode(head, SUPERBLOCK_OFFSET);
    vol.uuid = bytesToUuid(sb.s_uuid);
    vol.label = Buffer.from(sb.s_volume_name).toString('utf8').replace(/\0.*$/s, '');
    vol.ext = opened(vol, () => new Ext4Reader(dev));
    if (vol.ext) vol.fs = vol.ext;
  } else if (vol.fsType === 'vfat') {
    const fat = opened(vol, () => new FatReader(dev));
    if (!fat) return;
    vol.fs = fat;
    const id = fat.volume.volumeId;
    if (id !== undefined) vol.uuid = `${(id >>> 16).toString(16).padStart(4, '0')}-${(id & 0xffff).toString(16).padStart(4, '0')}`.toUpperCase();
    if (fat.volume.label) vol.label = fat.volume.label;
  }
}

/** The MBR PARTUUID Linux derives: the disk signature and the partition number, 'xxxxxxxx-NN'. */
function mbrPartUuid(diskId: string, n: number): string {
  return `${diskId.replace(/^0x/, '').padStart(8, '0')}-${n.toString(16).padStart(2, '0')}`;
}

const EXTENDED = new Set(['0x05', '0x0f', '0x85']);

/**
 * Reads the partition table of `dev` (or finds a bare filesystem) and describes every volume.
 * Partitions that reach past the end of the image are kept, with an error, and not opened.
 */
export function findVolumes(dev: BlockDevice): DiskLayout {
  // A bare filesystem: the ext superblock magic at 1080 wins over what looks like a table.
  if (dev.size >= SUPERBLOCK_OFFSET + Superblock.size) {
    const head = dev.readAt(0, Math.min(dev.size, 0x10048));
    const t = sniff(head);
    if (t === 'ext2' || t === 'ext3' || t === 'ext4' || t === 'xfs' || t === 'btrfs' || t === 'squashfs') {
      const vol: Volume = { name: 'disk', start: 0, size: dev.size, fsType: t };
      describeFs(vol, dev);
      return { warnings: [], volumes: [vol] };
    }
  }
  const sector0 = dev.readAt(0, Math.min(dev.size, 4096 + 8));
  const hasMbr = sector0.length >= 512 && sector0[510] === 0x55 && sector0[511] === 0xaa;
  const hasGpt = ascii(sector0, 512, 'EFI PART') || ascii(sector0, 4096, 'EFI PART');
  if (!hasMbr && !hasGpt) {
    const what = sniff(dev.readAt(0, Math.min(dev.size, 0x10048)));
    throw new InputError(`not a disk image this command can read: no MBR or GPT partition table and no ext2/3/4 filesystem at its start `
      + `(${what === 'empty' ? 'the first 4 KiB are zeros' : what !== 'unknown' ? `it starts with ${what}` : `first bytes: ${describeBytes(sector0)}`})`,
      'it reads raw and qcow2 images of a whole disk (MBR or GPT) or of a bare ext2/3/4 filesystem');
  }
  const { table, warnings } = readPartitionTable(dev);
  const volumes: Volume[] = [];
  for (const p of [...table.partitions].sort((a, b) => a.number - b.number)) {
    const start = Number(p.firstLba) * table.sectorSize;
    const size = Number(p.lastLba - p.firstLba + 1n) * table.sectorSize;
    const vol: Volume = { name: String(p.number), start, size, partition: p, fsType: 'unknown' };
    if (table.label === 'gpt') {
      vol.partitionType = gptTypeByGuid(p.type)?.name ?? p.type;
      if (p.guid) vol.partUuid = p.guid.toLowerCase();
      if (p.name) vol.partLabel = p.name;
    } else {
      vol.partitionType = p.type;
      vol.partUuid = mbrPartUuid(table.diskId, p.number);
    }
    volumes.push(vol);
    if (table.label === 'mbr' && EXTENDED.has(p.type)) {
      vol.fsType = 'empty';
      continue;
    }
    if (start + size > dev.size || size <= 0) {
      vol.error = new DiskImageError('FORMAT', `partition ${p.number} (bytes ${start}..${start + size}) reaches past the end of the ${dev.size}-byte image`,
        'the image is truncated, or its partition table is damaged');
      continue;
    }
    describeFs(vol, new SliceBlockDevice(dev, start, size));
  }
  return { table, warnings, volumes };
}

/** `e` with the partition it happened in named first (its offsets are already the image's). */
export function inVolume(vol: Volume, e: DiskImageError): DiskImageError {
  if (!(e instanceof FormatError) || vol.name === 'disk' || e.struct.startsWith('partition ')) return e;
  return new FormatError({ struct: `partition ${vol.name}: ${e.struct}`, field: e.field, offset: e.offset, expected: e.expected, actual: e.actual, hint: e.hint });
}

/** One line per volume, for error messages ("no Linux filesystem found: ..."). */
export function describeVolumes(layout: DiskLayout): string {
  if (layout.volumes.length === 0) return `an empty ${layout.table?.label ?? ''} partition table`.replace('  ', ' ');
  return layout.volumes.map((v) => {
    const where = v.name === 'disk' ? 'the whole disk' : `partition ${v.name} (type ${v.partitionType})`;
    return `${where}: ${v.fsType}${v.label ? ` '${v.label}'` : ''}${v.error ? ` (${v.error.message})` : ''}`;
  }).join('; ');
}
