/**
 * Which filesystem is the root and what is mounted below it: the root is the ext2/3/4 volume
 * that holds /etc/fstab or /etc/os-release (of several, the one whose own fstab mounts it on
 * /, else the first in partition order); the volumes
 * its /etc/fstab names (UUID=, LABEL=, PARTUUID=, PARTLABEL=, /dev/disk/by-*) are mounted where
 * it says (fstab(5)), ext2/3/4 and FAT alike (the EFI system partition on /boot/efi). When /boot is not in the fstab and the root's /boot holds no kernel,
 * every other ext volume that holds one at its top is taken as /boot (a separate /boot
 * partition whose fstab line was lost, or an image without one).
 */
import { DiskImageError, InputError } from '../errors.js';
import { type ReadableFs, resolvePath } from '../fs/readable.js';
import { ImageFs, type Mount, mountOf } from './image-fs.js';
import { type DiskLayout, describeVolumes, type Volume } from './volumes.js';

export interface FstabEntry { spec: string; file: string; type: string; options: string }

/** fstab(5): whitespace-separated fields, '#' comments, octal escapes (\040) in the first two. */
export function parseFstab(text: string): FstabEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  const out: FstabEntry[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = t.split(/\s+/);
    if (f.length < 2) continue;
    out.push({ spec: unescape(f[0]!), file: unescape(f[1]!), type: f[2] ?? 'auto', options: f[3] ?? 'defaults' });
  }
  return out;
}

/** The volume an fstab spec names, or undefined. */
export function volumeForSpec(spec: string, volumes: Volume[]): Volume | undefined {
  const m = /^(UUID|LABEL|PARTUUID|PARTLABEL)=(.*)$/.exec(spec)
    ?? /^\/dev\/disk\/by-(uuid|label|partuuid|partlabel)\/(.*)$/.exec(spec);
  if (!m) return undefined;
  const kind = m[1]!.toUpperCase();
  const value = m[2]!.replace(/^"(.*)"$/, '$1');
  const lower = value.toLowerCase();
  return volumes.find((v) => {
    switch (kind) {
      case 'UUID': return v.uuid?.toLowerCase() === lower;
      case 'LABEL': return v.label === value;
      case 'PARTUUID': return v.partUuid === lower;
      default: return v.partLabel === value;
    }
  });
}

function has(fs: ReadableFs, path: string): boolean {
  try {
    resolvePath([{ point: '/', fs }], path, false, 'in the volume');
    return true;
  } catch (e) {
    if (e instanceof InputError) return false;
    throw e;
  }
}

const KERNEL_NAME = /^(vmlinu[xz]|kernel-|bzImage)/;

function holdsKernel(fs: ReadableFs, dir: string): boolean {
  try {
    const d = resolvePath([{ point: '/', fs }], dir, true, 'in the volume');
    return d.type === 'dir' && fs.list(d.ino).some((e) => KERNEL_NAME.test(e.name));
  } catch (e) {
    if (e instanceof DiskImageError) return false;
    throw e;
  }
}

export interface Assembled {
  fs: ImageFs;
  root: Volume;
  /** How each mount was found, for -x traces and --list. */
  notes: string[];
  fstab: FstabEntry[];
}

/** The entries of a volume's /etc/fstab; none when it has none or it cannot be read (said in `notes`). */
function readFstab(v: Volume, notes?: string[]): FstabEntry[] {
  if (!has(v.ext!, '/etc/fstab')) return [];
  try {
    return parseFstab(Buffer.from(v.ext!.readFile('/etc/fstab', { maxBytes: 1 << 20 })).toString('utf8'));
  } catch (e) {
    if (!(e instanceof DiskImageError)) throw e;
    notes?.push(`/etc/fstab could not be read: ${e.message}`);
    return [];
  }
}

function mount(point: string, volume: Volume): Mount {
  return mountOf(point, volume, volume.fs!);
}

/** Puts the image's filesystems together as the guest mounts them. */
export function assemble(layout: DiskLayout): Assembled {
  const exts = layout.volumes.filter((v) => v.ext);
  if (exts.length === 0) {
    const broken = layout.volumes.find((v) => v.error && (v.fsType.startsWith('ext') || v.fsType === 'unknown'));
    if (broken?.error && broken.fsType.startsWith('ext')) throw broken.error;
    throw new InputError(`no ext2/3/4 filesystem found in the image: ${describeVolumes(layout)}`,
      'this command reads ext2, ext3 and ext4; for other filesystems mount the image (losetup -P) and read it there');
  }
  const notes: string[] = [];
  const candidates = exts.filter((v) => has(v.ext!, '/etc/fstab') || has(v.ext!, '/etc/os-release'));
  // Of several systems (a rescue partition, a second OS), the one whose own fstab mounts it on / wins.
  const root = candidates.find((v) => readFstab(v).some((e) => e.file === '/' && volumeForSpec(e.spec, layout.volumes) === v))
    ?? candidates[0] ?? exts[0]!;
  notes.push(`root: ${root.name === 'disk' ? 'the whole disk' : `partition ${root.name}`} (${root.fsType}${root.label ? ` '${root.label}'` : ''})`);
  const mounts: Mount[] = [mount('/', root)];
  const fstab = readFstab(root, notes);
  for (const e of fstab) {
    if (!e.file.startsWith('/') || e.file === '/' || /(^|,)bind(,|$)/.test(e.options)) continue;
    const v = volumeForSpec(e.spec, layout.volumes);
    const point = '/' + e.file.split('/').filter(Boolean).join('/');
    if (!v) {
      if (point === '/boot') notes.push(`fstab mounts ${e.spec} on /boot but no volume in the image matches it`);
      continue;
    }
    if (!v.fs || v === root || mounts.some((m) => m.point === point)) continue;
    mounts.push(mount(point, v));
    notes.push(`${point}: partition ${v.name} (fstab: ${e.spec})`);
  }
  if (!mounts.some((m) => m.point === '/boot') && !holdsKernel(root.ext!, '/boot')) {
    const boot = exts.find((v) => v !== root && holdsKernel(v.ext!, '/'));
    if (boot) {
      mounts.push(mount('/boot', boot));
      notes.push(`/boot: partition ${boot.name} (not in the fstab; it holds kernels at its top)`);
    }
  }
  return { fs: new ImageFs(mounts), root, notes, fstab };
}
