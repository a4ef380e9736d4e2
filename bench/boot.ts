/**
 * Benchmark: from the same ready Debian root tree to a bootable raw MBR image.
 *   ours:    assembleImage (table, ext4, grub boot code written in-process)
 *   classic: sfdisk; mke2fs -t ext4 -d into a file; debugfs -w for fstab, grub.cfg and grub's
 *            modules (the tree itself must stay untouched); dd into the image; grub-mkimage;
 *            dd boot.img (440 bytes) and core.img (its default block list fits the MBR gap).
 * Both run in the same process, alternating, RUNS times each; the medians are compared.
 * Usage: node --import tsx bench/boot.ts [RUNS]   (root: the Debian root is built with mmdebstrap)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assembleImage } from '../src/assemble/assemble.js';
import { earlyConfig } from '../src/boot/grub-cfg.js';
import { loadLayout } from '../src/layout/plan.js';
import { dirTree } from '../src/tree/dir-source.js';
import { debianRootDir } from '../test/helpers/debian-root.js';

const RUNS = Number(process.argv[2] ?? 3);
const MiB = 1024 * 1024;
const root = debianRootDir();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-boot-'));

async function ours(i: number): Promise<{ seconds: number; size: number }> {
  const out = path.join(work, `ours-${i}.raw`);
  const t0 = performance.now();
  const tree = dirTree(root);
  const r = await assembleImage({ tree, output: out, layout: loadLayout('mbr'), bootloader: true, seed: '1700000000', format: 'raw' });
  tree.close();
  const seconds = (performance.now() - t0) / 1000;
  fs.rmSync(out);
  return { seconds, size: r.size };
}

function classic(i: number, diskSize: number): number {
  const img = path.join(work, `classic-${i}.raw`);
  const rootImg = path.join(work, `classic-root-${i}.ext4`);
  const t0 = performance.now();
  const uuid = '0b5c3f5e-1d0a-4a52-9a43-6f7c6f4c2a11';
  fs.writeFileSync(img, '');
  fs.truncateSync(img, diskSize);
  execFileSync('sfdisk', ['-q', img], { input: 'label: dos\nstart=2048, type=83, bootable\n' });
  const rootSize = diskSize - MiB;
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-L', 'cloudimg-rootfs', '-U', uuid, '-d', root, rootImg, `${rootSize / 1024}k`]);
  // What the bootloader adds, without touching the tree: written into the new filesystem.
  const cfg = path.join(work, `grub-${i}.cfg`);
  const version = fs.readdirSync(path.join(root, 'boot')).filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice(8)).sort().at(-1)!;
  fs.writeFileSync(cfg, `serial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\nset timeout=5\n` +
    `search --no-floppy --fs-uuid --set=root ${uuid}\nmenuentry Linux {\n  linux /boot/vmlinuz-${version} root=LABEL=cloudimg-rootfs ro console=ttyS0,115200\n  initrd /boot/initrd.img-${version}\n}\n`);
  const fstab = path.join(work, `fstab-${i}`);
  fs.writeFileSync(fstab, 'LABEL=cloudimg-rootfs / ext4 defaults 0 1\n');
  const mods = '/usr/lib/grub/i386-pc';
  const cmds = ['cd /etc', 'rm fstab', `write ${fstab} fstab`, 'mkdir /boot/grub', 'mkdir /boot/grub/i386-pc', 'cd /boot/grub', `write ${cfg} grub.cfg`, 'cd /boot/grub/i386-pc'];
  for (const n of fs.readdirSync(path.join(root, mods))) if (/\.(mod|lst)$/.test(n)) cmds.push(`write ${path.join(root, mods, n)} ${n}`);
  const script = path.join(work, `debugfs-${i}`);
  fs.writeFileSync(script, cmds.join('\n') + '\n');
  execFileSync('debugfs', ['-w', '-f', script, rootImg], { stdio: 'ignore' });
  execFileSync('dd', [`if=${rootImg}`, `of=${img}`, 'bs=4M', `seek=${MiB}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  const early = path.join(work, `early-${i}.cfg`);
  fs.writeFileSync(early, earlyConfig(uuid));
  const core = path.join(work, `core-${i}.img`);
  execFileSync('grub-mkimage', ['-d', path.join(root, mods), '-O', 'i386-pc', '-c', early, '-p', '/boot/grub', '-o', core,
    'biosdisk', 'part_msdos', 'part_gpt', 'ext2', 'search', 'search_fs_uuid', 'normal', 'configfile', 'linux', 'echo', 'serial', 'terminal', 'test', 'gzio']);
  execFileSync('dd', [`if=${path.join(root, mods, 'boot.img')}`, `of=${img}`, 'bs=440', 'count=1', 'conv=notrunc', 'status=none']);
  execFileSync('dd', [`if=${core}`, `of=${img}`, 'bs=512', 'seek=1', 'conv=notrunc', 'status=none']);
  const seconds = (performance.now() - t0) / 1000;
  for (const f of [img, rootImg, cfg, fstab, script, early, core]) fs.rmSync(f, { force: true });
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  const a: number[] = [];
  const b: number[] = [];
  let size = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await ours(i);
    size = r.size;
    a.push(r.seconds);
    b.push(classic(i, size));
    console.log(`run ${i + 1}: assembleImage ${a.at(-1)!.toFixed(2)} s, classic ${b.at(-1)!.toFixed(2)} s`);
  }
  console.log(`image ${(size / MiB).toFixed(0)} MiB; median assembleImage ${median(a).toFixed(2)} s, classic ${median(b).toFixed(2)} s, ` +
    `ratio ${(median(b) / median(a)).toFixed(2)}x`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
