// grub.cfg generation, kernel choice by version sort (checked against `sort -V`), and the
// bootloader additions layered over a tree without changing it.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compareVersions, DIB_DEFAULT_CMDLINE, earlyConfig, grubConfig, newestKernel } from '../../src/boot/grub-cfg.js';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { additionsTree, layerTree } from '../../src/assemble/tree.js';

describe('kernel choice', () => {
  it('orders versions as sort -V does', () => {
    const v = ['6.1.0-9-amd64', '6.1.0-10-amd64', '5.10.0-28-amd64', '6.1.0-10-cloud-amd64', '6.10.2-1', '6.2.0'];
    const want = execFileSync('sort', ['-V'], { input: v.join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
    expect([...v].sort(compareVersions)).toEqual(want);
  });
  it('picks the newest vmlinuz and its initrd; no kernel is an InputError', () => {
    const t = memoryTree([{ path: '/boot/vmlinuz-6.1.0-9-amd64', data: 'a' }, { path: '/boot/vmlinuz-6.1.0-10-amd64', data: 'b' },
      { path: '/boot/initrd.img-6.1.0-10-amd64', data: 'c' }]);
    expect(newestKernel(t)).toEqual({ version: '6.1.0-10-amd64', kernel: '/boot/vmlinuz-6.1.0-10-amd64', initrd: '/boot/initrd.img-6.1.0-10-amd64' });
    expect(() => newestKernel(memoryTree([]))).toThrow(/no kernel/);
  });
});

describe('grub.cfg', () => {
  it('has the serial terminal, timeout, search by UUID and DIB command line', () => {
    const cfg = grubConfig({ kernel: { version: '6.1', kernel: '/boot/vmlinuz-6.1', initrd: '/boot/initrd.img-6.1' },
      rootFsUuid: '11111111-2222-3333-4444-555555555555', rootArg: 'LABEL=cloudimg-rootfs', timeout: 7 });
    expect(cfg).toContain('serial --unit=0 --speed=115200');
    expect(cfg).toContain('terminal_output serial console');
    expect(cfg).toContain('set timeout=7');
    expect(cfg).toContain(`linux /boot/vmlinuz-6.1 root=LABEL=cloudimg-rootfs ro ${DIB_DEFAULT_CMDLINE}\n`);
    expect(cfg).toContain('initrd /boot/initrd.img-6.1\n');
    expect(earlyConfig('11111111-2222-3333-4444-555555555555')).toBe(
      'search --no-floppy --fs-uuid --set=root 11111111-2222-3333-4444-555555555555\nset prefix=($root)/boot/grub\n');
  });
});

describe('layerTree', () => {
  it('adds and replaces files, keeps existing directories, leaves the base as it was', () => {
    const T = { sec: 5, nsec: 0 };
    const base = memoryTree([{ path: '/etc/fstab', data: 'old' }, { path: '/etc/passwd', data: 'root' }, { path: '/boot', mode: 0o700 }], T);
    const before = base.entries.map((e) => `${e.path}:${e.size}:${e.mode.toString(8)}`);
    const layered = layerTree(base, additionsTree({ fstab: 'new\n', mountPoints: ['/boot/efi'], grubCfg: 'cfg', modules: [], time: { sec: 9, nsec: 0 } }));
    expect(layered.entries.map((e) => e.path)).toEqual(['/', '/boot', '/boot/efi', '/boot/grub', '/boot/grub/grub.cfg', '/etc', '/etc/fstab', '/etc/passwd']);
    expect(Buffer.from(layered.get('/etc/fstab')!.content!.read(0, 4)).toString()).toBe('new\n');
    expect(layered.get('/boot')!.mode).toBe(0o700);
    expect(layered.get('/boot')!.mtime).toEqual(T);
    expect(base.entries.map((e) => `${e.path}:${e.size}:${e.mode.toString(8)}`)).toEqual(before);
    expect(Buffer.from(base.get('/etc/fstab')!.content!.read(0, 3)).toString()).toBe('old');
  });
  it('refuses a file where a directory must go', () => {
    const base = memoryTree([{ path: '/boot/grub', data: 'not a dir' }]);
    expect(() => layerTree(base, additionsTree({ grubCfg: 'x', mountPoints: [], modules: [], time: { sec: 0, nsec: 0 } })))
      .toThrow(/has a file at \/boot\/grub where the bootloader needs a directory/);
  });
});
