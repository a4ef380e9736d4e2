// BIOS boot-code placement checked byte by byte against grub's own boot.img, diskboot.img and
// a grub-mkimage core.img, on disks partitioned by sfdisk and sgdisk, which must still
// validate (sfdisk -V, sgdisk -v) and list the same table afterwards.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { BootImgPatch, DiskbootBlocklist, installBiosBoot } from '../../src/boot/bios.js';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { findGrubModules, grubMkimage } from '../../src/assemble/grub-mkimage.js';
import { expectRoundTrip } from '../helpers/struct-round-trip.js';
import { hasTool } from '../helpers/tools.js';
import { sfdiskImage, sfdiskTable } from './tools.js';

const GRUB = '/usr/lib/grub/i386-pc';
const ready = hasTool('sfdisk') && hasTool('sgdisk') && hasTool('grub-mkimage') && fs.existsSync(`${GRUB}/boot.img`);
const MiB = 1024 * 1024;
let dir: string;
let core: Uint8Array;
let bootImg: Uint8Array;
let diskboot: Uint8Array;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bios-test-'));
  if (!ready) return;
  const modules = findGrubModules(memoryTree([]), 'i386-pc');
  core = await grubMkimage({ modules, earlyConfig: 'echo hello\n', prefix: '/boot/grub' });
  bootImg = new Uint8Array(fs.readFileSync(`${GRUB}/boot.img`));
  diskboot = new Uint8Array(fs.readFileSync(`${GRUB}/diskboot.img`));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const u64 = (b: Uint8Array, o: number) => Buffer.from(b).readBigUInt64LE(o);
const u16 = (b: Uint8Array, o: number) => Buffer.from(b).readUInt16LE(o);

function install(img: string) {
  const dev = FileBlockDevice.open(img, 'r+');
  try {
    return installBiosBoot(dev, sfdiskTable(img), bootImg, core);
  } finally {
    dev.close();
  }
}

function checkPlaced(img: string, before: Buffer, coreLba: number) {
  const after = fs.readFileSync(img);
  const s0 = after.subarray(0, 512);
  // boot.img code, except the BPB (0x03-0x59) which stays as it was.
  expect(s0.subarray(0, 3)).toEqual(Buffer.from(bootImg.subarray(0, 3)));
  expect(s0.subarray(0x03, 0x5a)).toEqual(before.subarray(0x03, 0x5a));
  expect(s0.subarray(0x5a, 0x5c)).toEqual(Buffer.from(bootImg.subarray(0x5a, 0x5c)));
  expect(u64(s0, 0x5c)).toBe(BigInt(coreLba));
  expect(s0[0x64]).toBe(0xff);
  expect([...s0.subarray(0x66, 0x68)]).toEqual([0x90, 0x90]);
  expect(s0.subarray(0x68, 0x1b8)).toEqual(Buffer.from(bootImg.subarray(0x68, 0x1b8)));
  // Disk signature, partition table and 0x55AA untouched.
  expect(s0.subarray(0x1b8, 0x200)).toEqual(before.subarray(0x1b8, 0x200));
  // core.img at coreLba: diskboot.img code, then the block list naming the rest.
  const c = after.subarray(coreLba * 512, coreLba * 512 + core.length);
  const sectors = Math.ceil(core.length / 512);
  expect(c.subarray(0, 0x1f4)).toEqual(Buffer.from(diskboot.subarray(0, 0x1f4)));
  expect(u64(c, 0x1f4)).toBe(BigInt(coreLba + 1));
  expect(u16(c, 0x1fc)).toBe(sectors - 1);
  expect(u16(c, 0x1fe)).toBe(0x0820);
  expect(c.subarray(512)).toEqual(Buffer.from(core.subarray(512)));
}

describe.skipIf(!ready)('grub BIOS boot code placement (sfdisk/sgdisk disks, grub i386-pc images)', () => {
  it('MBR: boot.img into sector 0, core.img into the gap at LBA 1; sfdisk -V clean, table unchanged', () => {
    const img = path.join(dir, 'mbr.img');
    sfdiskImage(img, 32 * MiB, 'label: dos\nlabel-id: 0x1234abcd\nstart=2048, type=83, bootable\n');
    // A BPB-like pattern that setup must keep.
    const fd = fs.openSync(img, 'r+');
    fs.writeSync(fd, Buffer.alloc(0x57, 0xa5), 0, 0x57, 0x03);
    fs.closeSync(fd);
    const dumpBefore = execFileSync('sfdisk', ['-d', img], { encoding: 'utf8' });
    const before = fs.readFileSync(img).subarray(0, 512);
    const loc = install(img);
    expect(loc.lba).toBe(1);
    checkPlaced(img, Buffer.from(before), 1);
    expect(execFileSync('sfdisk', ['-d', img], { encoding: 'utf8' })).toBe(dumpBefore);
    execFileSync('sfdisk', ['-V', img]);
  });

  it('GPT: core.img into the BIOS boot partition; sgdisk -v clean, table unchanged', () => {
    const img = path.join(dir, 'gpt.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 32 * MiB);
    execFileSync('sgdisk', ['-n', '1:2048:+1M', '-t', '1:EF02', '-n', '2:0:0', '-t', '2:8300', img], { stdio: 'ignore' });
    const before = fs.readFileSync(img).subarray(0, 512);
    const printBefore = execFileSync('sgdisk', ['-p', img], { encoding: 'utf8' });
    const loc = install(img);
    expect(loc.lba).toBe(2048);
    checkPlaced(img, Buffer.from(before), 2048);
    expect(execFileSync('sgdisk', ['-p', img], { encoding: 'utf8' })).toBe(printBefore);
    const v = execFileSync('sgdisk', ['-v', img], { encoding: 'utf8' });
    expect(v).toContain('No problems found');
  });

  it('refuses a gap too small for core.img with NoSpaceError, before writing anything', () => {
    const img = path.join(dir, 'small-gap.img');
    sfdiskImage(img, 8 * MiB, 'label: dos\nstart=63, type=83\n');
    const before = fs.readFileSync(img);
    expect(() => install(img)).toThrow(/core\.img needs \d+ sectors but the gap .* has 62/);
    expect(fs.readFileSync(img).equals(before)).toBe(true);
  });

  it('refuses a GPT disk without a BIOS boot partition', () => {
    const img = path.join(dir, 'gpt-nobbp.img');
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 8 * MiB);
    execFileSync('sgdisk', ['-n', '1:2048:0', '-t', '1:8300', img], { stdio: 'ignore' });
    expect(() => install(img)).toThrow(/BIOS boot partition \(type EF02\)/);
  });
});

describe('declared grub structs', () => {
  it('boot.img patch fields and the diskboot block list round-trip at sector size', () => {
    expectRoundTrip(BootImgPatch, 512);
    expectRoundTrip(DiskbootBlocklist, 512);
  });
});
