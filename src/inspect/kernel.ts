/**
 * Finding the kernel and initrd of an image as diskimage-builder's select_boot_kernel_initrd
 * (lib/img-functions) picks them, on the image's own files:
 * - DIB_BAREMETAL_KERNEL_PATTERN and DIB_BAREMETAL_INITRD_PATTERN (both set): the newest
 *   match of each shell pattern below /boot;
 * - Red Hat family (/etc/redhat-release): the newest vmlinuz* without "debug" (one with
 *   "PAE" preferred), and initramfs-VERSION.img;
 * - Debian/Ubuntu (/etc/debian_version): vmlinu*generic, else the newest vmlinu*; its
 *   initrd.img-VERSION (DIB itself takes initrd*generic, else the newest initrd*, which is the
 *   same file unless /boot holds initrds of kernels that are gone: then DIB's choice pairs the
 *   wrong ones, so the kernel's own one wins here and DIB's rule is the fallback); with a
 *   signed kernel version (/dib-signed-kernel-version or DIB_SIGNED_KERNEL_VERSION),
 *   vmlinu*generic.efi.signed;
 * - SUSE (/etc/SuSE-release, or ID/ID_LIKE "suse" in /etc/os-release): what the
 *   /boot/vmlinuz and /boot/initrd symlinks point to;
 * - Gentoo (/etc/gentoo-release): the newest kernel-*-openstack and initramfs-*-openstack;
 * - anything else (DIB stops there): the newest vmlinuz-VERSION (or vmlinux-) with an
 *   initrd.img-VERSION, initrd-VERSION(.img) or initramfs-VERSION(.img) next to it.
 * "Newest" is version order (version-order.ts), not name order.
 */
import { DiskImageError, InputError } from '../errors.js';
import type { FsStat } from '../fs/readable.js';
import type { ImageFs } from './image-fs.js';
import { compareVersions, newest } from './version-order.js';

export type Distro = 'redhat' | 'debian' | 'suse' | 'gentoo' | 'unknown';

export interface BootFile {
  /** Path in the image as found in /boot (may be a symlink). */
  path: string;
  /** The file the path resolves to. */
  realPath: string;
  size: number;
  version?: string;
  /** Which volume holds it ('1', '5', 'disk'). */
  volume: string;
}

export interface KernelChoice {
  distro: Distro;
  /** What decided it, for -x and --json. */
  rule: string;
  kernel: BootFile;
  initrd: BootFile;
}

export interface SelectOptions {
  kernelPattern?: string;
  initrdPattern?: string;
  signedKernelVersion?: string;
}

/** The directory kernels live in: /boot, or the top of a filesystem that is a /boot partition on its own. */
export function bootDir(fs: ImageFs): string {
  try {
    if (fs.stat('/boot').type === 'dir') return '/boot';
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
  return '/';
}

function join(dir: string, name: string): string {
  return dir === '/' ? '/' + name : `${dir}/${name}`;
}

export function detectDistro(fs: ImageFs): Distro {
  if (fs.exists('/etc/redhat-release')) return 'redhat';
  if (fs.exists('/etc/debian_version')) return 'debian';
  if (fs.exists('/etc/SuSE-release')) return 'suse';
  if (fs.exists('/etc/gentoo-release')) return 'gentoo';
  if (fs.exists('/etc/os-release')) {
    const text = Buffer.from(fs.readSmall('/etc/os-release', 64 << 10)).toString('utf8');
    const ids = [...text.matchAll(/^(?:ID|ID_LIKE)=["']?([^"'\n]*)/gm)].map((m) => m[1]!).join(' ');
    if (/\bsuse\b|opensuse|sles/.test(ids)) return 'suse';
  }
  return 'unknown';
}

/** Translates a shell glob (one path component: *, ?, [...]) into a RegExp. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += '[' + body.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Paths below `dir` matching a shell pattern of one or more components (a leading '.' must match literally). */
export function glob(fs: ImageFs, dir: string, pattern: string): string[] {
  let paths = [dir];
  for (const part of pattern.split('/').filter((p) => p !== '')) {
    const re = globToRegExp(part);
    const next: string[] = [];
    for (const p of paths) {
      let names: string[];
      try {
        if (fs.stat(p).type !== 'dir') continue;
        names = fs.readdir(p).map((e) => e.name);
      } catch (e) {
        if (e instanceof InputError) continue;
        throw e;
      }
      for (const n of names) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(join(p, n));
    }
    paths = next;
  }
  return paths;
}

function bootFile(fs: ImageFs, path: string, version?: string): BootFile {
  const s: FsStat & { realPath: string; mount: { volume: { name: string } } } = fs.stat(path);
  if (s.type !== 'file') throw new InputError(`${path} is a ${s.type}, not a regular file`);
  return { path, realPath: s.realPath, size: s.size, volume: s.mount.volume.name, ...(version !== undefined ? { version } : {}) };
}

/** The version a kernel or initrd name carries ('vmlinuz-6.1.0-13-amd64' -> '6.1.0-13-amd64'). */
export function versionOf(name: string): string | undefined {
  const m = /^(?:vmlinu[xz]|kernel|initrd\.img|initrd|initramfs)-(.+?)(?:\.img)?$/.exec(name);
  return m?.[1];
}

const KERNEL = /^(vmlinu[xz]|kernel-|bzImage)/;
const INITRD = /^(initrd|initramfs)/;

/** Every kernel and initrd in the boot directory, newest first (for --list). */
export function listBootFiles(fs: ImageFs): { kernels: BootFile[]; initrds: BootFile[]; dir: string } {
  const dir = bootDir(fs);
  const kernels: BootFile[] = [];
  const initrds: BootFile[] = [];
  for (const e of fs.readdir(dir)) {
    const isK = KERNEL.test(e.name);
    const isI = INITRD.test(e.name);
    if (!isK && !isI) continue;
    let f: BootFile;
    try {
      f = bootFile(fs, join(dir, e.name), versionOf(e.name));
    } catch (err) {
      if (err instanceof InputError) continue; // a dangling symlink, a directory named initrd.d
      throw err;
    }
    (isK ? kernels : initrds).push(f);
  }
  const byVersion = (a: BootFile, b: BootFile) => compareVersions(b.path, a.path);
  return { kernels: kernels.sort(byVersion), initrds: initrds.sort(byVersion), dir };
}

function noKernel(fs: ImageFs, dir: string, what: string): DiskImageError {
  let held: string;
  try {
    const names = fs.readdir(dir).map((e) => e.name);
    held = names.length ? names.join(', ') : 'nothing';
  } catch (e) {
    if (!(e instanceof DiskImageError)) throw e;
    held = `(unreadable: ${e.message})`;
  }
  return new InputError(`${what}; ${dir} holds: ${held}`,
    'set DIB_BAREMETAL_KERNEL_PATTERN and DIB_BAREMETAL_INITRD_PATTERN (shell patterns below /boot) to choose the files');
}

function newestName(fs: ImageFs, dir: string, re: RegExp, exclude?: RegExp): string | undefined {
  const names = fs.readdir(dir).map((e) => e.name).filter((n) => re.test(n) && !exclude?.test(n));
  return newest(names, (n) => n);
}

/** Picks the kernel and initrd as select_boot_kernel_initrd does. */
export function selectKernel(fs: ImageFs, opts: SelectOptions = {}): KernelChoice {
  const dir = bootDir(fs);
  const distro = detectDistro(fs);
  if (opts.kernelPattern && opts.initrdPattern) {
    const k = newest(glob(fs, dir, opts.kernelPattern), (p) => p);
    const i = newest(glob(fs, dir, opts.initrdPattern), (p) => p);
    if (!k) throw noKernel(fs, dir, `no file below ${dir} matches DIB_BAREMETAL_KERNEL_PATTERN '${opts.kernelPattern}'`);
    if (!i) throw noKernel(fs, dir, `no file below ${dir} matches DIB_BAREMETAL_INITRD_PATTERN '${opts.initrdPattern}'`);
    return { distro, rule: 'DIB_BAREMETAL_KERNEL_PATTERN and DIB_BAREMETAL_INITRD_PATTERN', kernel: bootFile(fs, k), initrd: bootFile(fs, i) };
  }
  const pick = (kernel: string | undefined, initrd: string | undefined, rule: string, what: string): KernelChoice => {
    if (!kernel) throw noKernel(fs, dir, `no kernel found (${what})`);
    if (!initrd) throw noKernel(fs, dir, `no initrd found for kernel ${kernel} (${what})`);
    return { distro, rule, kernel: bootFile(fs, join(dir, kernel), versionOf(kernel)), initrd: bootFile(fs, join(dir, initrd), versionOf(initrd)) };
  };
  const existing = (name: string) => (fs.exists(join(dir, name)) ? name : undefined);
  switch (distro) {
    case 'redhat': {
      const k = newestName(fs, dir, /^vmlinuz.*PAE/, /debug/) ?? newestName(fs, dir, /^vmlinuz/, /debug/);
      const v = k?.replace(/^vmlinuz-/, '');
      return pick(k, v === undefined ? undefined : existing(`initramfs-${v}.img`), 'Red Hat: newest vmlinuz* without debug, initramfs-VERSION.img',
        'vmlinuz* without "debug"');
    }
    case 'debian': {
      let signed = opts.signedKernelVersion;
      if (signed === undefined && fs.exists('/dib-signed-kernel-version')) {
        const m = /DIB_SIGNED_KERNEL_VERSION=["']?([^"'\s]*)/.exec(Buffer.from(fs.readSmall('/dib-signed-kernel-version', 4096)).toString('utf8'));
        if (m?.[1]) signed = m[1];
      }
      let k = newestName(fs, dir, /^vmlinu.*generic$/) ?? newestName(fs, dir, /^vmlinu/);
      if (signed) k = newestName(fs, dir, /^vmlinu.*generic\.efi\.signed$/);
      const v = k === undefined ? undefined : versionOf(k.replace(/\.efi\.signed$/, ''));
      const i = (v !== undefined ? existing(`initrd.img-${v}`) : undefined)
        ?? newestName(fs, dir, /^initrd.*generic$/) ?? newestName(fs, dir, /^initrd/);
      return pick(k, i, signed ? 'Debian: signed vmlinu*generic.efi.signed' : 'Debian: vmlinu*generic, else the newest vmlinu*; initrd.img-VERSION',
        signed ? 'vmlinu*generic.efi.signed' : 'vmlinu*');
    }
    case 'suse': {
      const k = fs.exists(join(dir, 'vmlinuz')) ? fs.stat(join(dir, 'vmlinuz')).realPath : undefined;
      const i = fs.exists(join(dir, 'initrd')) ? fs.stat(join(dir, 'initrd')).realPath : undefined;
      if (!k) throw noKernel(fs, dir, `no kernel found (SUSE: ${join(dir, 'vmlinuz')} is missing)`);
      if (!i) throw noKernel(fs, dir, `no initrd found (SUSE: ${join(dir, 'initrd')} is missing)`);
      return { distro, rule: 'SUSE: the vmlinuz and initrd symlinks', kernel: bootFile(fs, k), initrd: bootFile(fs, i) };
    }
    case 'gentoo':
      return pick(newestName(fs, dir, /^kernel-.*-openstack$/), newestName(fs, dir, /^initramfs-.*-openstack$/),
        'Gentoo: newest kernel-*-openstack and initramfs-*-openstack', 'kernel-*-openstack');
    default: {
      const names = fs.readdir(dir).map((e) => e.name);
      const kernels = names.filter((n) => /^vmlinu[xz]-/.test(n)).sort((a, b) => compareVersions(b, a));
      for (const k of kernels) {
        const v = versionOf(k)!;
        const i = [`initrd.img-${v}`, `initrd-${v}.img`, `initrd-${v}`, `initramfs-${v}.img`, `initramfs-${v}`].find((n) => names.includes(n));
        if (i) return pick(k, i, 'no known distribution: newest vmlinuz-VERSION with an initrd of the same version', 'vmlinuz-VERSION');
      }
      return pick(kernels[0], undefined, 'no known distribution', 'vmlinuz-VERSION with a matching initrd');
    }
  }
}
