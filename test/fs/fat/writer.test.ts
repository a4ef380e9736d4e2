// FAT writer checked by the reference tools: fsck.fat -n (dosfstools), mdir/mcopy (mtools),
// blkid, the type choice against mkfs.fat, and the kernel's vfat driver via a loop mount.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../../src/binary/file-device.js';
import { memoryTree, type MemoryFile } from '../../../src/boot/memory-tree.js';
import { planGeometry, writeFat, formatFatVolumeId } from '../../../src/fs/fat/index.js';
import { withMountedImage } from '../../helpers/mount.js';
import { hasTool } from '../../helpers/tools.js';

const env = { ...process.env, LC_ALL: 'C.UTF-8', MTOOLS_SKIP_CHECK: '1' };
const MiB = 1024 * 1024;
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fat-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sampleFiles(): MemoryFile[] {
  const files: MemoryFile[] = [
    { path: '/EFI/BOOT/BOOTX64.EFI', data: randomBytes(3 * MiB + 123) },
    { path: '/EFI/debian/grub.cfg', data: 'search --fs-uuid x\n' },
    { path: '/README.TXT', data: 'upper case 8.3\n' },
    { path: '/Long File Name 1.txt', data: 'one' },
    { path: '/Long File Name 2.txt', data: 'two' },
    { path: '/ünïcode-naïve.txt', data: 'unicode' },
    { path: '/a.b.c.d', data: 'dots' },
    { path: '/empty', data: new Uint8Array(0) },
    { path: '/emptydir' },
    { path: '/deep/er/and/deeper/file.with.a.very.long.extension', data: randomBytes(5000) },
  ];
  for (let i = 0; i < 150; i++) files.push({ path: `/many/file-number-${i}.dat`, data: randomBytes(i * 37) });
  return files;
}

function listFiles(root: string): Map<string, Buffer | 'dir'> {
  const out = new Map<string, Buffer | 'dir'>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = `${rel}/${name}`;
      const st = fs.statSync(path.join(root, r));
      if (st.isDirectory()) {
        out.set(r, 'dir');
        walk(r);
      } else out.set(r, fs.readFileSync(path.join(root, r)));
    }
  };
  walk('');
  return out;
}

function expected(files: MemoryFile[]): Map<string, Buffer | 'dir'> {
  const tree = memoryTree(files);
  const out = new Map<string, Buffer | 'dir'>();
  for (const e of tree.entries) {
    if (e.path === '/') continue;
    out.set(e.path, e.type === 'dir' ? 'dir' : Buffer.from(e.content!.read(0, e.size)));
  }
  return out;
}

function makeImage(name: string, size: number, files: MemoryFile[], label = 'ESP', volumeId = 0x1234abcd) {
  const img = path.join(dir, name);
  const dev = FileBlockDevice.create(img, size);
  try {
    const plan = writeFat(dev, memoryTree(files, { sec: 1_700_000_000, nsec: 0 }), { label, volumeId });
    return { img, plan };
  } finally {
    dev.close();
  }
}

describe.skipIf(!hasTool('fsck.fat') || !hasTool('mcopy'))('FAT writer against dosfstools and mtools', () => {
  for (const [name, size, bits] of [['fat32', 550 * MiB, 32], ['fat16', 64 * MiB, 16]] as const) {
    it(`${name}: fsck.fat -n is clean and mcopy reads every file back byte-equal`, () => {
      const files = sampleFiles();
      const { img, plan } = makeImage(`${name}.img`, size, files);
      expect(plan.geometry.fatType).toBe(bits);
      const fsck = spawnSync('fsck.fat', ['-n', '-v', img], { encoding: 'utf8' });
      expect(fsck.stdout + fsck.stderr).toContain(`${bits} bit entries`);
      expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
      expect(fsck.stdout).not.toMatch(/differ|wrong|Orphan|lost|Reclaim|bad/i);
      const out = path.join(dir, `${name}-out`);
      fs.mkdirSync(out);
      execFileSync('mcopy', ['-s', '-n', '-i', img, '::/*', out + '/'], { env });
      const got = listFiles(out);
      const want = expected(files);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [p, v] of want) expect(got.get(p), p).toEqual(v);
      const blkid = execFileSync('blkid', ['-p', '-o', 'export', img], { encoding: 'utf8' });
      expect(blkid).toContain('LABEL=ESP');
      expect(blkid).toContain(`UUID=${formatFatVolumeId(0x1234abcd)}`);
      expect(blkid).toContain(`VERSION=FAT${bits}`);
      // mdir shows the short names with ~N tails next to the long ones.
      const mdir = execFileSync('mdir', ['-i', img, '::/'], { encoding: 'utf8', env });
      expect(mdir).toMatch(/LONGFI~1 TXT .* Long File Name 1\.txt/);
      expect(mdir).toMatch(/LONGFI~2 TXT .* Long File Name 2\.txt/);
      expect(mdir).toMatch(/README\s+TXT/);
    });
  }

  it('picks FAT16 or FAT32 as mkfs.fat does for the same size', () => {
    for (const mib of [16, 100, 300, 511, 512, 550, 1024]) {
      const img = path.join(dir, `mkfs-${mib}.img`);
      fs.writeFileSync(img, '');
      fs.truncateSync(img, mib * MiB);
      execFileSync('mkfs.fat', [img], { stdio: 'ignore' });
      const v = execFileSync('fsck.fat', ['-n', '-v', img], { encoding: 'utf8' });
      const bits = /(\d+) bit entries/.exec(v)![1];
      expect(planGeometry(mib * MiB).fatType, `${mib} MiB`).toBe(Number(bits));
      fs.rmSync(img);
    }
  });

  it('fails with NoSpaceError when the files do not fit', () => {
    expect(() => makeImage('small.img', 8 * MiB, [{ path: '/big', data: new Uint8Array(9 * MiB) }]))
      .toThrow(/need .* clusters/);
  });
});

// This host's kernel may lack the vfat driver (it has no module loader, and a test cannot add
// one): that one reason skips, and test/helpers/allowed-skips.ts allows it on CI. Not being
// root or missing losetup is no reason to skip: then the test runs and fails.
const vfatInKernel = fs.existsSync('/proc/filesystems') && /\bvfat\b/.test(fs.readFileSync('/proc/filesystems', 'utf8'));
describe.skipIf(!vfatInKernel)(`FAT writer against the kernel vfat driver${vfatInKernel ? '' : ' (skipped: the kernel has no vfat driver)'}`, () => {
  it('mounts read-only and every file compares equal', async () => {
    const files = sampleFiles();
    const { img } = makeImage('mount.img', 550 * MiB, files);
    await withMountedImage(img, { fstype: 'vfat', options: ['utf8'] }, (mnt) => {
      const got = listFiles(mnt);
      const want = expected(files);
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [p, v] of want) expect(got.get(p), p).toEqual(v);
    });
  });
});
