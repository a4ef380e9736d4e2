/**
 * The EFI system partition's contents (UEFI spec 2.10 section 3.5.1.1, removable-media
 * boot path): grub's x86_64 image as \EFI\BOOT\BOOTX64.EFI, found by the firmware without
 * any boot entry in NVRAM.
 */
import type { FileTree, Timestamp } from '../tree/model.js';
import { memoryTree } from './memory-tree.js';

export const EFI_BOOT_PATH = '/EFI/BOOT/BOOTX64.EFI';

/** PE/COFF check: "MZ" then a "PE\0\0" header whose machine is x86-64 (0x8664). */
export function isX64PeImage(b: Uint8Array): boolean {
  if (b.length < 0x40 || b[0] !== 0x4d || b[1] !== 0x5a) return false;
  const pe = Buffer.from(b).readUInt32LE(0x3c);
  if (pe + 6 > b.length) return false;
  return b[pe] === 0x50 && b[pe + 1] === 0x45 && b[pe + 2] === 0 && b[pe + 3] === 0 && Buffer.from(b).readUInt16LE(pe + 4) === 0x8664;
}

export function espTree(bootx64: Uint8Array, time: Timestamp): FileTree {
  return memoryTree([{ path: EFI_BOOT_PATH, data: bootx64 }], time);
}
