/**
 * GRUB's BIOS boot code, placed as grub-bios-setup places it (grub 2.06: boot/i386/pc/boot.S,
 * boot/i386/pc/diskboot.S, util/setup.c), as pure byte work on a block device:
 *   - sector 0 gets boot.img's code (bytes 0x00-0x02 and 0x5a-0x1b7); the BPB area
 *     0x03-0x59, the disk signature and partition table (0x1b8-0x1fd) and 0x55AA stay;
 *   - boot.img's kernel_sector (0x5c) = LBA of core.img, boot_drive (0x64) = 0xff (use DL),
 *     the floppy/hard-disk probe jump at 0x66 becomes two NOPs;
 *   - core.img goes into the MBR gap (sector 1 up to the first partition) or the GPT BIOS
 *     boot partition, and the block list at the end of its first sector (diskboot.img) names
 *     the rest: start LBA = core LBA + 1, sectors, load segment 0x0820.
 */
import type { BlockDevice } from '../binary/block-device.js';
import { bytes, defineStruct, u16, u64, u8 } from '../binary/struct.js';
import { FormatError, LayoutError, NoSpaceError } from '../errors.js';
import { resolveGptType } from '../partition/gpt-types.js';
import { MasterBootRecord, MBR_SIGNATURE } from '../partition/mbr-struct.js';
import type { PartitionTable } from '../partition/table.js';

export const SECTOR = 512;
/** From the one table of GPT types (src/partition/gpt-types.ts). */
export const BIOS_BOOT_PARTITION_GUID = resolveGptType('bios-boot');

/**
 * The fields of boot.img that setup patches (boot.S: GRUB_BOOT_MACHINE_*). The disk signature,
 * partition records and boot signature are the MBR's (src/partition/mbr-struct.ts).
 */
export const BootImgPatch = defineStruct('grub boot.img', SECTOR, {
  kernel_sector: [0x5c, u64],
  boot_drive: [0x64, u8],
  drive_check: [0x66, bytes(2)],
});
export const BPB_START = 0x03;
export const BPB_END = 0x5a;
/** boot.img's code ends where the MBR's disk signature starts. */
export const BOOT_CODE_END = MasterBootRecord.offsetOf('UniqueMBRDiskSignature');
const SIGNATURE_AT = MasterBootRecord.offsetOf('Signature');

/** diskboot.img's block list: the last 12 bytes of core.img's first sector (diskboot.S: firstlist). */
export const DiskbootBlocklist = defineStruct('grub diskboot block list', SECTOR, {
  start: [0x1f4, u64],
  len: [0x1fc, u16],
  segment: [0x1fe, u16],
});
export const CORE_LOAD_SEGMENT = 0x0820;

export interface CoreLocation {
  /** First sector of the space for core.img. */
  lba: number;
  /** Sectors available there. */
  sectors: number;
  where: string;
}

/** Where core.img goes on a disk with this table: the MBR gap, or GPT's BIOS boot partition. */
export function coreLocation(table: PartitionTable): CoreLocation {
  if (table.sectorSize !== SECTOR) {
    throw new LayoutError('bootloader', `BIOS boot needs 512-byte sectors but the table has ${table.sectorSize}`);
  }
  if (table.label === 'gpt') {
    const bbp = table.partitions.find((p) => p.type.toLowerCase() === BIOS_BOOT_PARTITION_GUID);
    if (!bbp) {
      throw new LayoutError('bootloader', 'a GPT disk needs a BIOS boot partition (type EF02) for BIOS boot',
        'add a partition of type EF02 of 1-8 MiB to the layout, or use the efi layout');
    }
    return { lba: Number(bbp.firstLba), sectors: Number(bbp.lastLba - bbp.firstLba + 1n), where: `BIOS boot partition ${bbp.number}` };
  }
  const first = table.partitions.reduce((m, p) => (p.firstLba < m ? p.firstLba : m), BigInt(Math.floor(table.diskSize / SECTOR)));
  return { lba: 1, sectors: Number(first) - 1, where: 'the gap between the MBR and the first partition' };
}

/** Checks that `coreImg` is a grub i386-pc core.img and returns its sector count. */
export function checkCoreImg(bootImg: Uint8Array, coreImg: Uint8Array): number {
  // boot.img and core.img are files, not yet in the image: their errors have no image offset.
  if (bootImg.length !== SECTOR) {
    throw new FormatError({ struct: 'grub boot.img', expected: `${SECTOR} bytes`, actual: `${bootImg.length} bytes`, hint: 'use usr/lib/grub/i386-pc/boot.img' });
  }
  const sig = MasterBootRecord.decode(bootImg).Signature;
  if (sig !== MBR_SIGNATURE) throw new FormatError({ struct: 'grub boot.img', field: 'Signature', expected: 'boot signature 0xaa55', actual: `0x${sig.toString(16)}` });
  if (coreImg.length < SECTOR) throw new FormatError({ struct: 'grub core.img', expected: `at least ${SECTOR} bytes`, actual: `${coreImg.length} bytes` });
  const sectors = Math.ceil(coreImg.length / SECTOR);
  const list = DiskbootBlocklist.decode(coreImg);
  if (list.segment !== CORE_LOAD_SEGMENT || list.len !== sectors - 1) {
    throw new FormatError({
      struct: 'grub core.img block list', field: 'segment, len', expected: `segment 0x820 and length ${sectors - 1}`,
      actual: `segment 0x${list.segment.toString(16)} and length ${list.len}`, hint: 'core.img must come from grub-mkimage -O i386-pc',
    });
  }
  return sectors;
}

/** The first sector as setup writes it: boot.img's code over the existing sector 0. */
export function patchedBootSector(existing: Uint8Array, bootImg: Uint8Array, coreLba: number): Uint8Array {
  const out = Uint8Array.from(existing);
  out.set(bootImg.subarray(0, BPB_START), 0);
  out.set(bootImg.subarray(BPB_END, BOOT_CODE_END), BPB_END);
  BootImgPatch.encode({ kernel_sector: BigInt(coreLba), boot_drive: 0xff, drive_check: Uint8Array.from([0x90, 0x90]) }, out);
  MasterBootRecord.writeField(out, 'Signature', MBR_SIGNATURE);
  return out;
}

/** core.img with its block list pointing at the sectors after its first, at `coreLba`. */
export function patchedCoreImg(coreImg: Uint8Array, coreLba: number): Uint8Array {
  const sectors = Math.ceil(coreImg.length / SECTOR);
  const out = new Uint8Array(sectors * SECTOR);
  out.set(coreImg);
  DiskbootBlocklist.encode({ start: BigInt(coreLba + 1), len: sectors - 1, segment: CORE_LOAD_SEGMENT }, out);
  return out;
}

/**
 * Installs GRUB for BIOS on a disk whose partition table `table` is already written:
 * boot.img into sector 0, core.img at `coreLocation(table)`.
 */
export function installBiosBoot(dev: BlockDevice, table: PartitionTable, bootImg: Uint8Array, coreImg: Uint8Array): CoreLocation & { coreSectors: number } {
  const sectors = checkCoreImg(bootImg, coreImg);
  const loc = coreLocation(table);
  if (sectors > loc.sectors) {
    throw new NoSpaceError(`core.img needs ${sectors} sectors but ${loc.where} has ${loc.sectors}`, sectors * SECTOR,
      table.label === 'gpt' ? 'make the BIOS boot partition larger (1 MiB or more)' : 'start the first partition at 1 MiB (sector 2048)');
  }
  const sector0 = dev.readAt(0, SECTOR);
  if (MasterBootRecord.decode(sector0).Signature !== MBR_SIGNATURE) {
    throw new FormatError({ struct: 'MBR', field: 'Signature', offset: SIGNATURE_AT, expected: 'boot signature 0xaa55 (write the partition table first)', actual: 'something else' });
  }
  dev.writeAt(loc.lba * SECTOR, patchedCoreImg(coreImg, loc.lba));
  dev.writeAt(0, patchedBootSector(sector0, bootImg, loc.lba));
  return { ...loc, coreSectors: sectors };
}
