// VHD (fixed, dynamic) and streamOptimized VMDK writers, checked by qemu-img: check (where the
// driver has one), compare identical to the raw image, info --output=json (format, subformat).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressorPool, type ClusterCompressor } from '../../src/container/compress.js';
import { vhdChecksum, vhdGeometry, VhdFooter } from '../../src/container/vhd/struct.js';
import { writeVhd } from '../../src/container/vhd/writer.js';
import { writeVmdk } from '../../src/container/vmdk/writer.js';
import { hasTool } from '../helpers/tools.js';
import { expectCleanAndIdentical, patternImage, qemuCheck, qemuCompare, qemuInfo, toFile } from './images.js';

const noQemu = !hasTool('qemu-img');
let dir: string;
let zlibPool: ClusterCompressor;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vhd-vmdk-'));
  zlibPool = compressorPool('zlib', 2);
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await zlibPool.close();
});

const ID = new Uint8Array(16).fill(0xab);
const SIZE = 5 * 1024 * 1024 + 7 * 512; // not a whole VHD block (2 MiB) nor a whole grain (64 KiB)

describe('VHD structures', () => {
  it('CHS geometry follows the spec appendix', () => {
    expect(vhdGeometry(64 << 20)).toEqual({ cylinders: 963, heads: 8, sectors: 17 });
    expect(vhdGeometry(2 ** 40)).toEqual({ cylinders: 65535, heads: 16, sectors: 255 });
    expect(vhdGeometry(1 << 30)).toEqual({ cylinders: 2080, heads: 16, sectors: 63 });
  });
  it('the footer checksum is the complement of the byte sum', () => {
    const f = VhdFooter.encode({ ...VhdFooter.decode(new Uint8Array(512)), Cookie: 'conectix' });
    expect(vhdChecksum(f, 0x40)).toBe(~[...'conectix'].reduce((s, c) => s + c.charCodeAt(0), 0) >>> 0);
  });
});

describe.skipIf(noQemu)('VHD and VMDK, checked by qemu-img (needs qemu-img: apt-get install qemu-utils)', () => {
  for (const type of ['fixed', 'dynamic'] as const) {
    // qemu-img has no check for its vpc driver ("does not support checks"): the footer
    // checksum test above and qemu-img compare are what vouch for a VHD.
    it(`VHD ${type}: compare identical, info vpc of the right size`, async () => {
      const raw = path.join(dir, `${type}.raw`);
      const src = patternImage(raw, SIZE);
      const file = path.join(dir, `${type}.vhd`);
      await toFile(file, (s) => writeVhd(src, s, { type, uniqueId: ID, time: 1700000000 }));
      const info = qemuInfo(file, 'vpc');
      expect(info.format).toBe('vpc');
      if (type === 'dynamic') expect(qemuInfo(file).format).toBe('vpc'); // probed by its leading footer copy
      expect(info['virtual-size']).toBe(SIZE);
      expect(qemuCompare(raw, file, 'vpc')).toBe('Images are identical.');
      if (type === 'dynamic') {
        expect(fs.statSync(file).size).toBeLessThan(SIZE); // the all-zero 2 MiB block is not stored
      }
    });
  }

  it('VMDK streamOptimized: check clean, compare identical, info subformat', async () => {
    const raw = path.join(dir, 'so.raw');
    const src = patternImage(raw, SIZE);
    const file = path.join(dir, 'so.vmdk');
    await toFile(file, (s) => writeVmdk(src, s, { compressor: zlibPool, extentName: 'so.vmdk', cid: 0x12345678 }));
    expectCleanAndIdentical(raw, file, 'vmdk');
    const info = qemuInfo(file);
    expect(info.format).toBe('vmdk');
    expect(info['virtual-size']).toBe(SIZE);
    expect(info['format-specific'].data['create-type']).toBe('streamOptimized');
    expect(info['format-specific'].data.extents[0].compressed).toBe(true);
    expect(fs.statSync(file).size).toBeLessThan(SIZE / 2);
  });

  it('VMDK of an empty disk', async () => {
    const raw = path.join(dir, 'empty.raw');
    fs.writeFileSync(raw, new Uint8Array(1 << 20));
    const file = path.join(dir, 'empty.vmdk');
    await toFile(file, (s) => writeVmdk({ size: 1 << 20, readAt: (_o, n) => new Uint8Array(n) }, s, { compressor: zlibPool, extentName: 'empty.vmdk', cid: 1 }));
    expect(qemuCheck(file, 'vmdk').status).toBe(0);
    expect(qemuCompare(raw, file, 'vmdk')).toBe('Images are identical.');
  });
});
