// Our boot-code placement and our FAT writer, booted by real firmware: SeaBIOS from an MBR
// gap and from a GPT BIOS boot partition, OVMF from a FAT32 ESP we wrote. grub's embedded
// config prints a marker on the serial console, so no kernel or root filesystem is needed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { SliceBlockDevice } from '../../src/binary/block-device.js';
import { installBiosBoot } from '../../src/boot/bios.js';
import { espTree, isX64PeImage } from '../../src/boot/efi.js';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { findGrubModules, grubMkimage, readModuleFile } from '../../src/assemble/grub-mkimage.js';
import { writeFat } from '../../src/fs/fat/index.js';
import { bootUntil, OVMF_CODE, qemuReady } from '../boot/qemu.js';
import { sfdiskImage, sfdiskTable } from '../boot/tools.js';
import { hasTool } from '../helpers/tools.js';

const MARKER = 'GRUB-ONLY-BOOT-MARKER';
const early = `serial --unit=0 --speed=115200\nterminal_output serial\necho ${MARKER}\nsleep 60\n`;
const ready = qemuReady() && hasTool('sfdisk') && hasTool('sgdisk') && hasTool('grub-mkimage') && fs.existsSync('/usr/lib/grub/i386-pc/boot.img');
const MiB = 1024 * 1024;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-grub-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function biosImages(img: string) {
  const modules = findGrubModules(memoryTree([]), 'i386-pc');
  const core = await grubMkimage({ modules, earlyConfig: early, prefix: '/boot/grub', moduleList: ['biosdisk', 'serial', 'terminal', 'echo', 'sleep'] });
  const dev = FileBlockDevice.open(img, 'r+');
  try {
    installBiosBoot(dev, sfdiskTable(img), readModuleFile(modules, 'boot.img'), core);
  } finally {
    dev.close();
  }
}

describe.skipIf(!ready)('grub boot code booted by SeaBIOS and OVMF (QEMU TCG)', () => {
  it('MBR gap: SeaBIOS runs boot.img, which loads core.img through the block list', async () => {
    const img = path.join(dir, 'mbr.img');
    sfdiskImage(img, 16 * MiB, 'label: dos\nstart=2048, type=83, bootable\n');
    await biosImages(img);
    const r = await bootUntil(img, MARKER, { uefi: false, workDir: dir, timeoutSec: 120, memory: 256 });
    expect(r.found, r.log).toBe(true);
  }, 240_000);

  it('GPT BIOS boot partition: the same from LBA 2048', async () => {
    const img = path.join(dir, 'gpt.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 16 * MiB);
    execFileSync('sgdisk', ['-n', '1:2048:+1M', '-t', '1:EF02', '-n', '2:0:0', '-t', '2:8300', img], { stdio: 'ignore' });
    await biosImages(img);
    const r = await bootUntil(img, MARKER, { uefi: false, workDir: dir, timeoutSec: 120, memory: 256 });
    expect(r.found, r.log).toBe(true);
  }, 240_000);

  it.skipIf(!fs.existsSync(OVMF_CODE))('UEFI: OVMF finds \\EFI\\BOOT\\BOOTX64.EFI on our FAT32 ESP', async () => {
    const img = path.join(dir, 'efi.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 600 * MiB);
    execFileSync('sgdisk', ['-n', '1:2048:+550M', '-t', '1:EF00', '-n', '2:0:0', '-t', '2:8300', img], { stdio: 'ignore' });
    const modules = findGrubModules(memoryTree([]), 'x86_64-efi');
    const efi = await grubMkimage({ modules, earlyConfig: early, prefix: '/boot/grub', moduleList: ['serial', 'terminal', 'echo', 'sleep', 'fat', 'part_gpt'] });
    expect(isX64PeImage(efi)).toBe(true);
    const t = sfdiskTable(img);
    const esp = t.partitions[0]!;
    const dev = FileBlockDevice.open(img, 'r+');
    try {
      const part = new SliceBlockDevice(dev, Number(esp.firstLba) * 512, Number(esp.lastLba - esp.firstLba + 1n) * 512);
      const plan = writeFat(part, espTree(efi, { sec: 1_700_000_000, nsec: 0 }), { label: 'ESP', volumeId: 0xcafe0001, hiddenSectors: Number(esp.firstLba) });
      expect(plan.geometry.fatType).toBe(32);
    } finally {
      dev.close();
    }
    const r = await bootUntil(img, MARKER, { uefi: true, workDir: dir, timeoutSec: 180, memory: 256 });
    expect(r.found, r.log).toBe(true);
  }, 240_000);
});
