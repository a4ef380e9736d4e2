// FAT planning refusals: what FAT cannot hold is an error naming the path, before any write;
// and a file that shrinks while it is written is an InputError, not a bug.
import { describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../../src/binary/block-device.js';
import { DiskImageError, InputError } from '../../../src/errors.js';
import { formatError } from '../../../src/cli/run.js';
import { memoryTree } from '../../../src/boot/memory-tree.js';
import { makeShortName, planFat, writeFat } from '../../../src/fs/fat/index.js';

const MiB = 1024 * 1024;

describe('FAT planning errors', () => {
  it('a FAT16 root directory holds 512 entries', () => {
    const files = Array.from({ length: 300 }, (_, i) => ({ path: `/long-name-${i}.txt`, data: 'x' }));
    expect(() => planFat(memoryTree(files), { size: 64 * MiB, volumeId: 1 })).toThrow(/root directory needs \d+ entries but holds 512/);
  });
  it('names FAT cannot store, and non-regular files, are refused with the path', () => {
    expect(() => planFat(memoryTree([{ path: '/a:b', data: 'x' }]), { size: 64 * MiB, volumeId: 1 })).toThrow(/'\/a:b' contains ":"/);
    const base = memoryTree([{ path: '/d' }]);
    const entries = [...base.entries, { ...base.get('/d')!, path: '/d/link', type: 'symlink' as const, linkTarget: 'x' }];
    const t = { entries, get: (p: string) => entries.find((e) => e.path === p), close() {} };
    expect(() => planFat(t, { size: 64 * MiB, volumeId: 1 })).toThrow(/'\/d\/link' is a symlink/);
  });
  it('a volume too small for FAT16 says how much it needs', () => {
    const dev = new MemoryBlockDevice(2 * MiB);
    expect(() => writeFat(dev, memoryTree([]), { volumeId: 1 })).toThrow(/FAT16 needs 4085 to 65524/);
  });
  it('short names: ~N tails on collision and lossy names', () => {
    const taken = new Set<string>();
    const s = (n: string) => Buffer.from(makeShortName(n, taken).bytes).toString('latin1');
    expect(s('README.TXT')).toBe('README  TXT');
    expect(s('readme.txt')).toBe('README~1TXT');
    expect(s('Long File Name.text')).toBe('LONGFI~1TEX');
    expect(s('Long File Name.texture')).toBe('LONGFI~2TEX');
    expect(s('.bashrc')).toBe('BASHRC~1   ');
    // (The LFN checksum is checked by mtools and the kernel reading the long names back: writer.test.ts.)
  });
});

describe('FAT writing errors', () => {
  it('a short read (the file shrank) is an InputError naming the file, printed as an error, not a bug', () => {
    const shrinking = { size: 10_000, read: (_off: number, n: number) => new Uint8Array(Math.min(n, 100)) };
    const dev = new MemoryBlockDevice(64 * MiB);
    let err: unknown;
    try {
      writeFat(dev, memoryTree([{ path: '/EFI/BOOT/BOOTX64.EFI', content: shrinking }]), { volumeId: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as DiskImageError).message).toMatch(/BOOTX64\.EFI: expected 10000 bytes at offset 0 but the source gave 100/);
    const printed = formatError('disk-image-create', err);
    expect(printed.exitCode).toBe(1);
    expect(printed.text).not.toContain('internal error');
  });
});
