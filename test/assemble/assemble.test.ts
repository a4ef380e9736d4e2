// assembleImage on small trees (a stand-in kernel file, grub modules from the host): every
// shipped layout checked by sfdisk/sgdisk, e2fsck, fsck.fat, debugfs and mtools; and the
// failures that must happen before any file exists.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleImage } from '../../src/assemble/assemble.js';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { loadLayout } from '../../src/layout/plan.js';
import { checkImage, debugfsCat } from '../boot/check.js';
import { hasTool } from '../helpers/tools.js';

const ready = hasTool('grub-mkimage') && fs.existsSync('/usr/lib/grub/i386-pc/boot.img') && fs.existsSync('/usr/lib/grub/x86_64-efi/kernel.img')
  && hasTool('e2fsck') && hasTool('sfdisk') && hasTool('sgdisk') && hasTool('fsck.fat') && hasTool('debugfs') && hasTool('mdir');
// GPT + BIOS with /boot on its own ext4 partition (also booted in QEMU by test/slow/boot.test.ts).
const SEPARATE_BOOT = fs.readFileSync(new URL('../../fixtures/layouts/gpt_separate_boot.yaml', import.meta.url), 'utf8');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assemble-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const T = { sec: 1_700_000_000, nsec: 0 };
function smallTree(withKernel = true) {
  return memoryTree([
    { path: '/etc/hostname', data: 'test\n' },
    { path: '/bin/sh', data: randomBytes(100_000), mode: 0o755 },
    ...(withKernel ? [
      { path: '/boot/vmlinuz-6.1.0-9-amd64', data: randomBytes(300_000) },
      { path: '/boot/vmlinuz-6.1.0-10-amd64', data: randomBytes(300_000) },
      { path: '/boot/initrd.img-6.1.0-10-amd64', data: randomBytes(200_000) },
    ] : []),
  ], T);
}
const freshDir = (name: string) => {
  const d = path.join(dir, name);
  fs.mkdirSync(d);
  return d;
};

describe.skipIf(!ready)('assembleImage', () => {
  for (const layout of ['mbr', 'gpt', 'efi'] as const) {
    it(`${layout}: a clean image with boot code, grub.cfg and fstab; the input tree untouched`, async () => {
      const tree = smallTree();
      const before = tree.entries.map((e) => e.path).join('\n');
      const out = path.join(freshDir(`ok-${layout}`), 'disk.raw');
      const stages: string[] = [];
      const r = await assembleImage({ tree, output: out, layout: loadLayout(layout), bootloader: true, grubTimeout: 3, seed: '1700000000',
        format: 'raw', progress: (ev) => stages.push(ev.stage) });
      expect(fs.readdirSync(path.dirname(out))).toEqual(['disk.raw']);
      expect(fs.statSync(out).size).toBe(r.size);
      expect(tree.entries.map((e) => e.path).join('\n')).toBe(before);
      expect(tree.get('/etc/fstab')).toBeUndefined();
      checkImage(out, r.plan, dir);
      const root = r.plan.filesystems.find((f) => f.mountPoint === '/')!;
      const cfg = debugfsCat(out, root.offset, '/boot/grub/grub.cfg');
      expect(cfg).toContain('linux /boot/vmlinuz-6.1.0-10-amd64 root=LABEL=cloudimg-rootfs ro console=tty0 console=ttyS0,115200 no_timer_check nofb nomodeset gfxpayload=text');
      expect(cfg).toContain('initrd /boot/initrd.img-6.1.0-10-amd64');
      expect(cfg).toContain(`search --no-floppy --fs-uuid --set=root ${root.uuid}`);
      expect(cfg).toContain('set timeout=3');
      expect(debugfsCat(out, root.offset, '/etc/fstab')).toBe(r.plan.fstab);
      expect(r.plan.fstab).toContain('LABEL=cloudimg-rootfs / ext4 defaults 0 1');
      expect(debugfsCat(out, root.offset, '/boot/grub/i386-pc/moddep.lst').length).toBeGreaterThan(100);
      // boot.img's pointer to core.img: LBA 1 (MBR gap) or the BIOS boot partition's first sector.
      const s0 = Buffer.alloc(512);
      const fd = fs.openSync(out, 'r');
      fs.readSync(fd, s0, 0, 512, 0);
      const coreLba = Number(s0.readBigUInt64LE(0x5c));
      const bsp = r.plan.partitions.find((p) => p.typeCode === 'EF02');
      expect(coreLba).toBe(bsp ? Number(bsp.firstLba) : 1);
      const c0 = Buffer.alloc(512);
      fs.readSync(fd, c0, 0, 512, coreLba * 512);
      fs.closeSync(fd);
      expect(c0.subarray(0, 0x1f4)).toEqual(fs.readFileSync('/usr/lib/grub/i386-pc/diskboot.img').subarray(0, 0x1f4));
      expect(Number(c0.readBigUInt64LE(0x1f4))).toBe(coreLba + 1);
      if (layout === 'efi') {
        const esp = r.plan.filesystems.find((f) => f.mountPoint === '/boot/efi')!;
        const mdir = execFileSync('mdir', ['-b', '-/', '-i', `${out}@@${esp.offset}`, '::/'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
        expect(mdir).toContain('::/EFI/BOOT/BOOTX64.EFI');
        expect(debugfsCat(out, root.offset, '/boot/grub/x86_64-efi/moddep.lst').length).toBeGreaterThan(100);
        expect(r.plan.fstab).toMatch(/^LABEL=\S+ \/boot\/efi vfat defaults 0 2$/m);
      }
      expect(stages).toContain('ext4');
    });
  }

  it('a separate /boot filesystem: grub.cfg, modules and kernel paths live on it', async () => {
    const out = path.join(freshDir('sepboot'), 'disk.raw');
    const tree = smallTree();
    const r = await assembleImage({ tree, output: out, layout: loadLayout(SEPARATE_BOOT), bootloader: true, seed: '7', format: 'raw' });
    checkImage(out, r.plan, dir);
    const boot = r.plan.filesystems.find((f) => f.mountPoint === '/boot')!;
    const root = r.plan.filesystems.find((f) => f.mountPoint === '/')!;
    const cfg = debugfsCat(out, boot.offset, '/grub/grub.cfg');
    expect(cfg).toContain(`search --no-floppy --fs-uuid --set=root ${boot.uuid}`);
    expect(cfg).toContain('linux /vmlinuz-6.1.0-10-amd64 root=LABEL=cloudimg-rootfs ro');
    expect(cfg).toContain('initrd /initrd.img-6.1.0-10-amd64');
    expect(debugfsCat(out, boot.offset, '/grub/i386-pc/normal.mod').length).toBeGreaterThan(1000);
    const kernel = execFileSync('debugfs', ['-R', 'cat /vmlinuz-6.1.0-10-amd64', `${out}?offset=${boot.offset}`], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
    expect(kernel.equals(Buffer.from(tree.get('/boot/vmlinuz-6.1.0-10-amd64')!.content!.read(0, 300_000)))).toBe(true);
    expect(debugfsCat(out, root.offset, '/etc/hostname')).toBe('test\n');
    // /boot on the root filesystem is only the (empty) mount point.
    const ls = execFileSync('debugfs', ['-R', 'ls -l /boot', `${out}?offset=${root.offset}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(ls).not.toContain('vmlinuz');
    expect(r.plan.fstab).toContain('LABEL=boot /boot ext4 defaults 0 2');
  });

  it('efi: files the tree has under /boot/efi go onto the ESP, next to BOOTX64.EFI', async () => {
    const base = smallTree();
    const extra = memoryTree([{ path: '/boot/efi/EFI/debian/grub.cfg', data: 'configfile x\n' }], T);
    const tree = { entries: [...base.entries, ...extra.entries.filter((e) => !base.get(e.path))].sort((a, b) => (a.path < b.path ? -1 : 1)),
      get: (p: string) => base.get(p) ?? extra.get(p), close() {} };
    const out = path.join(freshDir('esp-content'), 'disk.raw');
    const r = await assembleImage({ tree, output: out, layout: loadLayout('efi'), bootloader: true, seed: '3', format: 'raw' });
    checkImage(out, r.plan, dir);
    const esp = r.plan.filesystems.find((f) => f.mountPoint === '/boot/efi')!;
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    const mdir = execFileSync('mdir', ['-b', '-/', '-i', `${out}@@${esp.offset}`, '::/'], { encoding: 'utf8', env });
    expect(mdir).toContain('::/EFI/BOOT/BOOTX64.EFI');
    expect(mdir).toContain('::/EFI/debian/grub.cfg');
    expect(execFileSync('mtype', ['-i', `${out}@@${esp.offset}`, '::/EFI/debian/grub.cfg'], { encoding: 'utf8', env })).toBe('configfile x\n');
  });

  it('bare (no layout): the whole image is the root ext4 filesystem', async () => {
    const out = path.join(freshDir('bare'), 'root.ext4');
    const r = await assembleImage({ tree: smallTree(false), output: out, layout: null, bootloader: false, format: 'raw', seed: '1' });
    expect(r.plan.table).toBeNull();
    checkImage(out, r.plan, dir);
    expect(execFileSync('blkid', ['-p', '-o', 'value', '-s', 'LABEL', out], { encoding: 'utf8' }).trim()).toBe('cloudimg-rootfs');
  });

  it('a tree without a kernel fails before any file exists', async () => {
    const d = freshDir('nokernel');
    await expect(assembleImage({ tree: smallTree(false), output: path.join(d, 'x.raw'), layout: loadLayout('mbr'), bootloader: true, format: 'raw' }))
      .rejects.toThrow(/no kernel \(\/boot\/vmlinuz-\*\)/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('no grub modules in the tree or on the host fails before any file exists', async () => {
    const d = freshDir('nogrub');
    await expect(assembleImage({ tree: smallTree(), output: path.join(d, 'x.raw'), layout: loadLayout('gpt'), bootloader: true, format: 'raw',
      hostGrubDir: path.join(d, 'nowhere') })).rejects.toThrow(/i386-pc modules were found neither in the image tree .* nor on the host/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('an image size too small names the size needed, and leaves nothing behind', async () => {
    const d = freshDir('small');
    const err = await assembleImage({ tree: smallTree(), output: path.join(d, 'x.raw'), layout: loadLayout('efi'), bootloader: true, format: 'raw',
      imageSize: 100 * 1024 * 1024 }).catch((e) => e);
    expect(err.code).toBe('NO_SPACE');
    expect(err.message).toMatch(/needs \d+ bytes/);
    expect(err.needed).toBeGreaterThan(550 * 1024 * 1024);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('an error while writing removes OUTPUT.tmp-XXXX and creates no output', async () => {
    const d = freshDir('midway');
    const broken = memoryTree([
      { path: '/boot/vmlinuz-6.1.0-10-amd64', data: randomBytes(1000) },
      { path: '/var/broken', content: { size: 5000, read: () => { throw new Error('read error on purpose'); } } },
    ], T);
    const seen: string[] = [];
    await expect(assembleImage({ tree: broken, output: path.join(d, 'x.raw'), layout: loadLayout('mbr'), bootloader: true, format: 'raw',
      progress: (ev) => { if (ev.stage === 'ext4') seen.push(...fs.readdirSync(d)); } })).rejects.toThrow(/read error on purpose/);
    expect(seen.some((n) => /^x\.raw\.tmp-[0-9a-f]{8}$/.test(n))).toBe(true);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('never clobbers an existing output unless told to', async () => {
    const d = freshDir('exists');
    const out = path.join(d, 'x.raw');
    fs.writeFileSync(out, 'keep me');
    await expect(assembleImage({ tree: smallTree(), output: out, layout: loadLayout('mbr'), bootloader: true, format: 'raw' }))
      .rejects.toThrow(/already exists/);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    const r = await assembleImage({ tree: smallTree(), output: out, layout: loadLayout('mbr'), bootloader: true, format: 'raw', overwrite: true });
    expect(fs.statSync(out).size).toBe(r.size);
    expect(fs.readdirSync(d)).toEqual(['x.raw']);
  });
});
