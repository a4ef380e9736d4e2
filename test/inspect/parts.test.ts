/**
 * The pieces of src/inspect on their own: version order against GNU `sort -V` (the same
 * filevercmp `ls -v` uses), fstab parsing and spec matching, container detection, and the
 * ext4 reader refusing features by name (mke2fs-made filesystems with bigalloc and encrypt,
 * and a descriptor size it does not know).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../src/binary/block-device.js';
import { DiskImageError } from '../../src/errors.js';
import { Superblock } from '../../src/fs/ext4/superblock.js';
import { openExt4 } from '../../src/fs/ext4/reader.js';
import { detectFormat } from '../../src/inspect/open-image.js';
import { parseFstab, volumeForSpec } from '../../src/inspect/mounts.js';
import { compareVersions } from '../../src/inspect/version-order.js';
import type { Volume } from '../../src/inspect/volumes.js';
import { hasTool, mustRun } from '../helpers/tools.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-inspect-parts-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('version order', () => {
  const names = [
    'vmlinuz-6.1.0-9-amd64', 'vmlinuz-6.1.0-10-amd64', 'vmlinuz-6.1.0-10-amd64.old', 'vmlinuz', 'vmlinuz.old',
    'vmlinuz-5.14.0-362.8.1.el9_3.x86_64', 'vmlinuz-5.14.0-70.13.1.el9_0.x86_64', 'vmlinuz-5.14.0-362.8.1.el9_3.x86_64+debug',
    'vmlinuz-0-rescue-0123456789abcdef', 'initrd.img-6.1.0-9-amd64', 'initrd.img-6.1.0-10-amd64', 'initramfs-5.14.0-70.img',
    'vmlinuz-5.14.21-150500.55.39-default', 'vmlinuz-5.14.21-150500.55.7-default', 'kernel-1.0~rc1', 'kernel-1.0', 'kernel-1.0a',
    'vmlinuz-4.19.0-100', 'vmlinuz-4.19.0-99', 'vmlinuz-4.19.0-099', 'a.tar.gz', 'a-1.tar.gz', 'file~', 'file', '.hidden', '..', '.',
  ];
  it.skipIf(!hasTool('sort'))('sorts as GNU sort -V', () => {
    const gnu = mustRun('sort', ['-V'], { input: names.join('\n') + '\n', env: { ...process.env, LC_ALL: 'C' } }).trim().split('\n');
    expect([...names].sort(compareVersions)).toEqual(gnu);
  });
});

describe('fstab', () => {
  it('parses fields, comments and octal escapes', () => {
    expect(parseFstab('# c\nUUID=ab /  ext4 defaults 0 1\n\nLABEL=my\\040boot /boot ext2 ro\n/dev/sda3 none swap sw\n')).toEqual([
      { spec: 'UUID=ab', file: '/', type: 'ext4', options: 'defaults' },
      { spec: 'LABEL=my boot', file: '/boot', type: 'ext2', options: 'ro' },
      { spec: '/dev/sda3', file: 'none', type: 'swap', options: 'sw' },
    ]);
  });
  it('matches UUID=, LABEL=, PARTUUID=, PARTLABEL= and /dev/disk/by-*', () => {
    const v = (name: string, o: Partial<Volume>): Volume => ({ name, start: 0, size: 1, fsType: 'ext4', ...o });
    const vols = [v('1', { uuid: 'aaaa-bb', label: 'boot', partUuid: '1234abcd-01', partLabel: 'BOOT' }), v('2', { uuid: 'cccc', label: 'root', partUuid: '1234abcd-02' })];
    expect(volumeForSpec('UUID=AAAA-BB', vols)?.name).toBe('1');
    expect(volumeForSpec('LABEL="root"', vols)?.name).toBe('2');
    expect(volumeForSpec('PARTUUID=1234ABCD-02', vols)?.name).toBe('2');
    expect(volumeForSpec('PARTLABEL=BOOT', vols)?.name).toBe('1');
    expect(volumeForSpec('/dev/disk/by-uuid/cccc', vols)?.name).toBe('2');
    expect(volumeForSpec('/dev/sda1', vols)).toBeUndefined();
    expect(volumeForSpec('LABEL=Boot', vols)).toBeUndefined();
  });
});

describe('container detection', () => {
  it('reads raw and qcow2 magic, names the rest', () => {
    expect(detectFormat(new Uint8Array(512))).toBe('raw');
    expect(detectFormat(new Uint8Array([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]))).toBe('qcow2');
    expect(() => detectFormat(new Uint8Array([0x1f, 0x8b, 8, 0]))).toThrow(/gzip-compressed data.*first bytes: 1f 8b 08 00/);
    expect(() => detectFormat(new Uint8Array(Buffer.from('conectix\0\0')))).toThrow(/VHD/);
  });
});

describe.skipIf(!hasTool('mke2fs'))('features the reader refuses by name', () => {
  const make = (name: string, args: string[]): Uint8Array => {
    const f = path.join(work, `${name}.img`);
    mustRun('mke2fs', ['-q', '-F', ...args, f, '32M']);
    return new Uint8Array(fs.readFileSync(f));
  };
  const refusal = (bytes: Uint8Array): DiskImageError => {
    try {
      openExt4(new MemoryBlockDevice(bytes)).walk();
    } catch (e) {
      if (e instanceof DiskImageError) return e;
      throw e;
    }
    throw new Error('not refused');
  };
  it('bigalloc', () => {
    const e = refusal(make('bigalloc', ['-t', 'ext4', '-O', 'bigalloc', '-C', '16384']));
    expect([e.code, e.message]).toEqual(['UNSUPPORTED', expect.stringMatching(/'bigalloc' feature/)]);
  });
  it('encrypt', () => {
    const e = refusal(make('encrypt', ['-t', 'ext4', '-O', 'encrypt']));
    expect([e.code, e.message]).toEqual(['UNSUPPORTED', expect.stringMatching(/'encrypt' feature/)]);
  });
  it('a descriptor size other than 32 or 64', () => {
    const e = refusal(make('desc128', ['-t', 'ext4', '-O', '64bit', '-E', 'desc_size=128']));
    expect([e.code, e.message]).toEqual(['UNSUPPORTED', expect.stringMatching(/group descriptors of 128 bytes/)]);
  });
  it('a damaged s_blocks_per_group, by field name and offset', () => {
    const bytes = make('plain', ['-t', 'ext4', '-b', '4096']);
    new DataView(bytes.buffer).setUint32(1024 + Superblock.offsetOf('s_blocks_per_group'), 0, true);
    const e = refusal(bytes);
    expect(e.message).toMatch(/ext4 superblock s_blocks_per_group at offset 1056 \(0x420\): expected a multiple of 8 up to 32768 but it was 0/);
  });
  it('a directory whose extent points at its own parent block (a loop) is caught', () => {
    const bytes = make('loop', ['-t', 'ext4']);
    const r = openExt4(new MemoryBlockDevice(bytes));
    const lf = r.inodeOffset(r.lookup('/lost+found'));
    // /lost+found's extent -> the root directory's block: '..' and '.' of root, and lost+found again.
    const rootRun = r.blockRuns('/')[0]!;
    new DataView(bytes.buffer).setUint32(lf + 0x28 + 12 + 8, rootRun.physical, true);
    const e = refusal(bytes);
    expect(e.message).toMatch(/directory loop|each directory reached once/);
  });
});
