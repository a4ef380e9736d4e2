/**
 * `disk-image-get-kernel`, `disk-image-ls` and `disk-image-cat` as a user runs them, on the
 * reference-made images of fixtures/inspect/make.sh: extracted files byte-identical to the
 * source, `ls -R --json` equal to the source tree, `cat` of every regular file equal to its
 * sha256, DIB's pattern variables, and errors that name what is wrong without leaving files.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSX } from '../helpers/cli-run.js';
import { assembleImage } from '../../src/assemble/assemble.js';
import { memoryTree } from '../../src/boot/memory-tree.js';
import { loadLayout } from '../../src/layout/plan.js';
import { hasTool, mustRun } from '../helpers/tools.js';
import { expected, fixturesUnavailable, inspectFixtures, sourceView } from '../inspect/fixtures.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-inspect-cli-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function cli(cmd: 'disk-image-get-kernel' | 'disk-image-ls' | 'disk-image-cat', args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, `src/cli/${cmd}.ts`), ...args],
    { cwd: work, env: { ...process.env, ...env }, maxBuffer: 256 << 20 });
  return { status: r.status, stdout: r.stdout, text: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('help', () => {
  for (const cmd of ['disk-image-get-kernel', 'disk-image-ls', 'disk-image-cat'] as const) {
    it(`${cmd} -h prints its usage`, () => {
      const r = cli(cmd, ['-h']);
      expect(r.status).toBe(0);
      expect(r.text).toMatch(new RegExp(`^Usage: ${cmd} `));
      // docs/inspect.md (the page of these commands) documents every option and variable the help names.
      const readme = fs.readFileSync(path.join(ROOT, 'docs/inspect.md'), 'utf8');
      const names = [...r.text.matchAll(/^ {2}(?:(-[a-zA-Z])\b)?(?:,? ?(--[a-z-]+))?|^ {2}(DIB_[A-Z_]+)/gm)].flatMap((m) => [m[1], m[2], m[3]])
        .filter((n): n is string => n !== undefined && n !== '-h' && n !== '--help');
      if (cmd !== 'disk-image-cat') expect(names.length).toBeGreaterThan(2); // cat has only -h
      const documented = (n: string) => (n.startsWith('--') || n.startsWith('DIB_') ? readme.includes(n) : [' ', ']', '`'].some((c) => readme.includes(`${n}${c}`)));
      expect(names.filter((n) => !documented(n))).toEqual([]);
    });
  }
});

const why = fixturesUnavailable();

describe.skipIf(why !== undefined)(`on reference-made images (${why ?? 'sfdisk, sgdisk, mke2fs'})`, () => {
  let dir: string;
  beforeAll(() => {
    dir = inspectFixtures();
  }, 120_000);

  it('get-kernel writes DIR/PREFIX-vmlinuz and -initrd byte-identical to the sources (GPT, separate /boot by PARTUUID)', () => {
    const out = path.join(work, 'gk');
    fs.mkdirSync(out);
    const r = cli('disk-image-get-kernel', ['-i', path.join(dir, 'gpt-boot.img'), '-d', out, '-o', 'node1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const want = expected(dir, 'gpt-boot');
    const view = sourceView(dir, 'gpt-boot');
    expect(sha(fs.readFileSync(path.join(out, 'node1-vmlinuz')))).toBe(sha(fs.readFileSync(view.get(want.kernel)!)));
    expect(sha(fs.readFileSync(path.join(out, 'node1-initrd')))).toBe(sha(fs.readFileSync(view.get(want.initrd)!)));
    expect(fs.readdirSync(out).sort()).toEqual(['node1-initrd', 'node1-vmlinuz']);
    const j = JSON.parse(r.text) as { distro: string; kernel: { path: string; volume: string } };
    expect([j.distro, j.kernel.path, j.kernel.volume]).toEqual(['redhat', want.kernel, '2']);
  });

  it('get-kernel honours DIB_BAREMETAL_KERNEL_PATTERN and DIB_BAREMETAL_INITRD_PATTERN (MBR, logical root)', () => {
    const out = path.join(work, 'pattern');
    fs.mkdirSync(out);
    const r = cli('disk-image-get-kernel', ['-i', path.join(dir, 'mbr-logical.img'), '-d', out, '-x'],
      { DIB_BAREMETAL_KERNEL_PATTERN: 'vmlinuz-6.1.0-9*', DIB_BAREMETAL_INITRD_PATTERN: 'initrd.img-6.1.0-9-*' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rule: DIB_BAREMETAL_KERNEL_PATTERN/);
    const view = sourceView(dir, 'mbr-logical');
    expect(sha(fs.readFileSync(path.join(out, 'baremetal-vmlinuz')))).toBe(sha(fs.readFileSync(view.get('/boot/vmlinuz-6.1.0-9-amd64')!)));
    expect(sha(fs.readFileSync(path.join(out, 'baremetal-initrd')))).toBe(sha(fs.readFileSync(view.get('/boot/initrd.img-6.1.0-9-amd64')!)));
  });

  it('get-kernel --list --json names every kernel and initrd with version, size and partition', () => {
    const r = cli('disk-image-get-kernel', ['-i', path.join(dir, 'mbr-label.img'), '--list', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.text) as { kernels: Array<{ path: string; version?: string; size: number; volume: string }> };
    const view = sourceView(dir, 'mbr-label');
    const want = [...view.keys()].filter((p) => p.startsWith('/boot/vmlinuz')).sort();
    expect(j.kernels.map((k) => k.path).sort()).toEqual(want);
    for (const k of j.kernels) {
      expect(k.size).toBe(fs.statSync(view.get(k.path)!).size);
      expect(k.volume).toBe('2');
    }
    expect(j.kernels[0]!.version).toBe('5.14.21-150500.55.39-default'); // version order: 55.39 is newer than 55.7
  });

  it('ls -R --json lists the source tree: types, modes, owners, sizes, targets (ext2 /boot by UUID=, ext4 root)', () => {
    const r = cli('disk-image-ls', [path.join(dir, 'mbr-logical.img'), '-R', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.text) as { table: string; volumes: Array<{ name: string; mountedOn?: string }>; entries: Array<Record<string, unknown>> };
    expect(j.table).toBe('mbr');
    expect(j.volumes.map((v) => [v.name, v.mountedOn ?? null])).toEqual([['1', '/boot'], ['2', null], ['3', null], ['5', '/']]);
    const view = sourceView(dir, 'mbr-logical');
    const got = new Map(j.entries.map((e) => [e.path as string, e]));
    const missing = [...view.keys()].filter((p) => p !== '/' && !got.has(p));
    expect(missing).toEqual([]);
    for (const [p, e] of got) {
      const host = view.get(p);
      if (!host) {
        expect(p).toMatch(/lost\+found$/);
        continue;
      }
      const st = fs.lstatSync(host);
      expect([e.mode, e.uid, e.gid, e.size, e.target], p).toEqual([st.mode & 0o7777, st.uid, st.gid,
        st.isFile() || st.isSymbolicLink() ? st.size : 0, st.isSymbolicLink() ? fs.readlinkSync(host) : undefined]);
      expect(e.type, p).toBe(st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file');
      if (st.uid === 1000) expect([e.user, e.group], p).toEqual(['user', 'user']);
    }
  });

  it('ls prints the partition table, then ls -l rows', () => {
    const r = cli('disk-image-ls', [path.join(dir, 'gpt-boot.img'), '/boot']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.text).toMatch(/^GPT partition table\nPART +START +SIZE +TYPE +FS/);
    expect(r.text).toMatch(/^2 +2097152 +12MiB +linux +ext3 +boot +22222222-2222-3333-4444-555555555555 +\/boot$/m);
    expect(r.text).toMatch(/^-rw-r--r-- 1 root root 700000 2020-09-13 12:26 vmlinuz-5\.14\.0-362\.8\.1\.el9_3\.x86_64$/m);
  });

  it('cat of every regular file matches its sha256 (SUSE symlinks followed inside the image)', () => {
    const view = sourceView(dir, 'mbr-label');
    let n = 0;
    for (const [p, host] of view) {
      if (!fs.lstatSync(host).isFile()) continue;
      const r = cli('disk-image-cat', [path.join(dir, 'mbr-label.img'), p]);
      expect(r.status, r.stderr).toBe(0);
      expect(sha(r.stdout), p).toBe(sha(fs.readFileSync(host)));
      n++;
    }
    expect(n).toBeGreaterThan(8);
    const link = cli('disk-image-cat', [path.join(dir, 'mbr-label.img'), '/boot/initrd']);
    expect(sha(link.stdout)).toBe(sha(fs.readFileSync(view.get('/boot/initrd-5.14.21-150500.55.7-default')!)));
  });

  it('a missing path is named, with the directory it is not in', () => {
    const r = cli('disk-image-cat', [path.join(dir, 'bare.img'), '/etc/nope']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/'\/etc\/nope' does not exist in the image \('nope' is not in '\/etc'\)/);
  });
});

describe('errors', () => {
  it('a file that is no disk image: the formats read and the first bytes', () => {
    const f = path.join(work, 'text.img');
    fs.writeFileSync(f, 'hello, this is not a disk image\n'.repeat(200));
    const r = cli('disk-image-get-kernel', ['-i', f, '-d', work]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a disk image this command can read: .*first bytes: 68 65 6c 6c 6f/);
    expect(r.stderr).toMatch(/hint: it reads raw and qcow2 images/);
  });

  it('a container we do not read is named', () => {
    const f = path.join(work, 'x.vmdk');
    fs.writeFileSync(f, Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(4096)]));
    const r = cli('disk-image-ls', [f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/x\.vmdk is VMDK \(sparse\); this command reads raw and qcow2 images/);
  });

  it.skipIf(!hasTool('qemu-img'))('a qcow2 image is read through its header, whatever its name: an empty one has no table', () => {
    const f = path.join(work, 'q.img');
    mustRun('qemu-img', ['create', '-q', '-f', 'qcow2', f, '16M']);
    const r = cli('disk-image-ls', [f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a disk image this command can read: .*the first 4 KiB are zeros/);
  });

  it.skipIf(!hasTool('sfdisk') || !hasTool('mkfs.vfat'))('no Linux filesystem: the partitions and their types are listed', () => {
    const f = path.join(work, 'fat.img');
    fs.writeFileSync(f, Buffer.alloc(0));
    fs.truncateSync(f, 20 << 20);
    mustRun('sfdisk', ['-q', f], { input: 'label: dos\nstart=2048, type=ef\n' });
    const part = path.join(work, 'fat.part');
    fs.rmSync(part, { force: true });
    mustRun('mkfs.vfat', ['-C', '-n', 'ESP', part, String((20 << 10) - 1024)]);
    mustRun('dd', [`if=${part}`, `of=${f}`, 'bs=512', 'seek=2048', 'conv=notrunc,sparse', 'status=none']);
    const r = cli('disk-image-get-kernel', ['-i', f, '-d', work]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no ext2\/3\/4 filesystem found in the image: partition 1 \(type 0xef\): vfat 'ESP'/);
  });

  it.skipIf(!hasTool('mke2fs'))('no kernel: what /boot holds is listed and no output file appears', () => {
    const src = path.join(work, 'nokernel');
    fs.mkdirSync(path.join(src, 'boot/grub'), { recursive: true });
    fs.mkdirSync(path.join(src, 'etc'));
    fs.writeFileSync(path.join(src, 'etc/debian_version'), '12\n');
    fs.writeFileSync(path.join(src, 'boot/config-6.1'), 'x\n');
    const f = path.join(work, 'nokernel.img');
    mustRun('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', src, f, '4M']);
    const out = path.join(work, 'nokernel-out');
    fs.mkdirSync(out);
    const r = cli('disk-image-get-kernel', ['-i', f, '-d', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no kernel found \(vmlinu\*\); \/boot holds: config-6\.1, grub/);
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('usage errors exit 2 and name the problem', () => {
    expect(cli('disk-image-get-kernel', []).stderr).toMatch(/-i IMAGE is missing/);
    const r = cli('disk-image-cat', ['only-one']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/IMAGE and PATH expected but got 1 argument/);
    expect(cli('disk-image-ls', [path.join(work, 'missing.img')]).stderr).toMatch(/ENOENT/);
  });
});

describe('the EFI system partition of an image our writer made (layout efi)', () => {
  let img: string;
  const bootx64 = Buffer.alloc(300_000, 0x4d);
  beforeAll(async () => {
    img = path.join(work, 'efi.raw');
    const tree = memoryTree([
      { path: '/etc/os-release', data: 'ID=test\n' },
      { path: '/etc/fstab', data: 'LABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=MKFS_ESP /boot/efi vfat defaults 0 2\n' },
      { path: '/boot/efi/EFI/BOOT/BOOTX64.EFI', data: bootx64 },
      { path: '/boot/efi/EFI/debian/A Long Name.cfg', data: 'set root\n' },
    ], { sec: 1_700_000_000, nsec: 0 });
    await assembleImage({ tree, output: img, layout: loadLayout('efi'), bootloader: false, seed: '1700000000', format: 'raw' });
  }, 120_000);

  it('ls --partition 1 lists the FAT filesystem; mdir agrees', () => {
    const r = cli('disk-image-ls', [img, '--partition', '1', '-R', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.text) as { volumes: Array<{ name: string; fs: string }>; entries: Array<{ path: string; type: string; size: number }> };
    expect(j.volumes.find((v) => v.name === '1')?.fs).toBe('vfat');
    expect(j.entries.map((e) => [e.path, e.type, e.size]).sort()).toEqual([
      ['/EFI', 'dir', 0], ['/EFI/BOOT', 'dir', 0], ['/EFI/BOOT/BOOTX64.EFI', 'file', bootx64.length],
      ['/EFI/debian', 'dir', 0], ['/EFI/debian/A Long Name.cfg', 'file', 9],
    ]);
    if (hasTool('mdir')) {
      const start = (j.volumes.find((v) => v.name === '1') as unknown as { start: number }).start;
      const m = spawnSync('mdir', ['-i', `${img}@@${start}`, '-/', '-b', '::/EFI'], { encoding: 'utf8' });
      expect(m.stdout.split('\n').filter(Boolean).sort()).toEqual(['::/EFI/BOOT/', '::/EFI/BOOT/BOOTX64.EFI', '::/EFI/debian/', '::/EFI/debian/A Long Name.cfg']);
    }
  });

  it('cat reads a file of the ESP, by --partition and through /boot/efi as the fstab mounts it', () => {
    const a = cli('disk-image-cat', [img, '/EFI/BOOT/BOOTX64.EFI', '--partition', '1']);
    expect(a.status, a.stderr).toBe(0);
    expect(sha(a.stdout)).toBe(sha(bootx64));
    const b = cli('disk-image-cat', [img, '/boot/efi/efi/debian/a long name.cfg']);
    expect(b.status, b.stderr).toBe(0);
    expect(b.text).toBe('set root\n');
  });

  it('a path through a file is not a directory; a partition without a filesystem is named', () => {
    const r = cli('disk-image-cat', [img, '/etc/os-release/']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/'\/etc\/os-release\/': '\/etc\/os-release' is not a directory/);
    const p = cli('disk-image-cat', [img, '/x', '--partition', '9']);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/the image has no partition 9: partition 1 \(type esp\): vfat 'MKFS_ESP'/);
  });
});
