/**
 * The FAT reader against the reference tools: volumes made by mkfs.fat (FAT12, FAT16, FAT32)
 * and filled by mcopy/mmd (long names, 8.3 names, lower-case 8.3 names, deep directories,
 * empty files, a file fragmented by deleting its neighbour first), checked clean by
 * fsck.fat -n; every listing must equal mdir's and every file's bytes mtype's. Then the
 * reader on a volume our own FAT writer made, and on damaged boot sectors.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../../src/binary/block-device.js';
import { memoryTree } from '../../../src/boot/memory-tree.js';
import { FormatError } from '../../../src/errors.js';
import { FatReader } from '../../../src/fs/fat/reader.js';
import { writeFat } from '../../../src/fs/fat/writer.js';
import { resolvePath } from '../../../src/fs/readable.js';
import { hasTool } from '../../helpers/tools.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-fat-reader-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const TOOLS = ['mkfs.fat', 'mcopy', 'mmd', 'mdel', 'mdir', 'mtype', 'fsck.fat'];
const why = TOOLS.find((t) => !hasTool(t));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function run(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every path mdir lists below `dir` (mdir -/ -b: bare names, recursive, '::/' prefixed; dirs end in '/'). */
function mdirPaths(img: string): string[] {
  return run('mdir', ['-i', img, '-/', '-b', '-a', '::/']).toString('utf8').split('\n').filter(Boolean)
    .map((l) => l.replace(/^::/, '').replace(/\/$/, '')).filter((p) => p !== '' && p !== '/').sort();
}

function readerPaths(r: FatReader): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (ino: number, dir: string) => {
    for (const e of r.list(ino)) {
      const p = `${dir}/${e.name}`;
      out.set(p, e.ino);
      if (e.type === 'dir') visit(e.ino, p);
    }
  };
  visit(r.rootIno, '');
  return out;
}

/** A volume of `sizeKiB` made by mkfs.fat -F `bits`, filled by mtools. */
function makeVolume(bits: 12 | 16 | 32, sizeKiB: number): { img: string; files: Map<string, Buffer> } {
  const img = path.join(work, `fat${bits}.img`);
  fs.rmSync(img, { force: true });
  run('mkfs.fat', ['-C', '-F', String(bits), '-n', `VOL${bits}`, '-i', '12345678', ...(bits === 32 ? ['-s', '1'] : []), img, String(sizeKiB)]);
  const files = new Map<string, Buffer>();
  const put = (p: string, data: Buffer) => {
    const host = path.join(work, 'host.bin');
    fs.writeFileSync(host, data);
    run('mcopy', ['-i', img, '-o', host, `::${p}`]);
    files.set(p, data);
  };
  run('mmd', ['-i', img, '::/EFI', '::/EFI/BOOT', '::/a', '::/a/Deep Directory Name', '::/a/Deep Directory Name/c']);
  put('/EFI/BOOT/BOOTX64.EFI', randomBytes(70_000));
  put('/a/Deep Directory Name/c/a file with a long name.txt', Buffer.from('long name\n'));
  put('/a/neighbour', randomBytes(9000));
  put('/a/grows', randomBytes(3000));
  run('mdel', ['-i', img, '::/a/neighbour']);
  put('/a/fragmented.bin', randomBytes(40_000)); // fills the hole first, then goes on after 'grows'
  put('/empty', Buffer.alloc(0));
  put('/README', Buffer.from('8.3 upper case\n'));
  put('/lower.txt', Buffer.from('8.3 lower case, kept by DIR_NTRes\n'));
  put('/Ünïcode ñame.txt', Buffer.from('UTF-16 long name\n'));
  files.delete('/a/neighbour');
  run('fsck.fat', ['-n', img]); // clean, or this throws
  return { img, files };
}

describe.skipIf(why !== undefined)(`FAT reader against mtools (${why ?? 'mkfs.fat, mtools, fsck.fat'})`, () => {
  for (const [bits, kib] of [[12, 2048], [16, 20_480], [32, 80_000]] as const) {
    describe(`FAT${bits}`, () => {
      let img: string;
      let files: Map<string, Buffer>;
      let r: FatReader;
      beforeAll(() => {
        ({ img, files } = makeVolume(bits, kib));
        r = new FatReader(new MemoryBlockDevice(new Uint8Array(fs.readFileSync(img))));
      });

      it('finds the FAT type, label and volume id mkfs.fat wrote', () => {
        expect(r.volume.fatType).toBe(bits);
        expect(r.volume.label).toBe(`VOL${bits}`);
        expect(r.volume.volumeId).toBe(0x12345678);
      });

      it('lists every path mdir lists, with the same names', () => {
        expect([...readerPaths(r).keys()].sort()).toEqual(mdirPaths(img));
      });

      it('reads every file byte-identical to mtype and to the bytes copied in', () => {
        const paths = readerPaths(r);
        for (const [p, data] of files) {
          const ino = paths.get(p)!;
          const c = r.contentOf(ino);
          expect(c.size, p).toBe(data.length);
          const got = c.read(0, c.size);
          expect(sha(got), p).toBe(sha(data));
          expect(sha(run('mtype', ['-i', img, `::${p}`])), p).toBe(sha(got));
        }
        const frag = r.contentOf(paths.get('/a/fragmented.bin')!);
        expect(sha(frag.read(5000, 20_000))).toBe(sha(files.get('/a/fragmented.bin')!.subarray(5000, 25_000)));
      });

      it('resolves paths regardless of case, as Linux vfat does, and refuses a file used as a directory', () => {
        const mounts = [{ point: '/', fs: r }];
        expect(resolvePath(mounts, '/efi/boot/bootx64.efi', true, 'here').path).toBe('/efi/boot/bootx64.efi');
        expect(() => resolvePath(mounts, '/README/x', true, 'here')).toThrow(/'\/README' is not a directory/);
        expect(() => resolvePath(mounts, '/nope', true, 'here')).toThrow(/'\/nope' does not exist here \('nope' is not in '\/'\)/);
      });
    });
  }
});

describe('FAT reader on our own writer\'s volume and on damage', () => {
  const tree = memoryTree([
    { path: '/EFI/BOOT/BOOTX64.EFI', data: 'x'.repeat(100_000) },
    { path: '/EFI/debian/grub.cfg', data: 'search --fs-uuid\n' },
    { path: '/a name that needs LFN entries.txt', data: 'lfn\n' },
  ], { sec: 1_700_000_000, nsec: 0 });

  it('reads back what writeFat wrote (FAT16), times included', () => {
    const dev = new MemoryBlockDevice(64 << 20);
    writeFat(dev, tree, { size: dev.size, label: 'ESP', volumeId: 0xcafe1234 });
    const r = new FatReader(dev);
    expect([r.volume.fatType, r.volume.label, r.volume.volumeId]).toEqual([16, 'ESP', 0xcafe1234]);
    expect([...readerPaths(r).keys()].sort()).toEqual(['/EFI', '/EFI/BOOT', '/EFI/BOOT/BOOTX64.EFI', '/EFI/debian', '/EFI/debian/grub.cfg', '/a name that needs LFN entries.txt']);
    const ino = readerPaths(r).get('/EFI/debian/grub.cfg')!;
    expect(Buffer.from(r.contentOf(ino).read(0, 100)).toString()).toBe('search --fs-uuid\n');
    expect(r.statIno(ino, '/EFI/debian/grub.cfg').mtime.sec).toBe(1_700_000_000);
  });

  it('names the field and offset of a damaged boot sector', () => {
    const dev = new MemoryBlockDevice(64 << 20);
    writeFat(dev, tree, { size: dev.size, volumeId: 1 });
    dev.writeAt(0x0d, new Uint8Array([3])); // BPB_SecPerClus
    expect(() => new FatReader(dev)).toThrow(FormatError);
    expect(() => new FatReader(dev)).toThrow(/BPB_SecPerClus at offset 13 \(0xd\): expected a power of 2 up to 128 but it was 3/);
    const blank = new MemoryBlockDevice(1 << 20);
    expect(() => new FatReader(blank)).toThrow(/Signature_word .*expected 0xaa55 but it was 0/);
  });

  it('stops at a chain shorter than the file says, naming DIR_FileSize', () => {
    const dev = new MemoryBlockDevice(64 << 20);
    writeFat(dev, tree, { size: dev.size, volumeId: 1 });
    const r0 = new FatReader(dev);
    const v = r0.volume;
    const ino = readerPaths(r0).get('/EFI/BOOT/BOOTX64.EFI')!;
    const first = (r0 as unknown as { nodes: Array<{ firstCluster: number }> }).nodes[ino]!.firstCluster;
    const eoc = new Uint8Array([0xff, 0xff]);
    dev.writeAt(v.fatStart + 2 * first, eoc); // FAT16: the chain ends after one cluster
    const r = new FatReader(dev);
    const again = readerPaths(r).get('/EFI/BOOT/BOOTX64.EFI')!;
    expect(() => r.contentOf(again).read(0, 10)).toThrow(/DIR_FileSize .*expected at most the \d+ bytes its cluster chain holds but it was 100000 bytes/);
  });
});
