/**
 * The cached Debian root tree (DEBIAN_RELEASE: trixie, Debian 13, the current stable, which
 * debian-minimal builds by default) that the slow tests (real-tree ext4, boot in QEMU,
 * pipeline) share. It is built once with mmdebstrap (minbase plus a kernel, systemd, grub's
 * BIOS and EFI modules, udev and initramfs-tools, and a unit that prints MARKER on the serial
 * console once the system is up), stored as a tarball OUTSIDE the repository under a name
 * keyed by every input, and extracted once next to it. Concurrent test processes serialise
 * on a flock. Tests must treat the extracted tree as read-only.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool } from './tools.js';

export const MARKER = 'DISKIMAGE-TS-TEST-BOOTED';
export const DEBIAN_RELEASE = 'trixie';
export const DEBIAN_MIRROR = process.env.DIB_DISTRIBUTION_MIRROR ?? 'http://deb.debian.org/debian';
export const DEBIAN_PACKAGES = [
  'linux-image-amd64',
  'systemd-sysv',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  'udev',
  'initramfs-tools',
];

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'make-debian-root.sh');

export function testCacheDir(): string {
  const dir = process.env.DIT_TEST_CACHE ?? '/var/cache/diskimage-ts-test';
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function cacheKey(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ DEBIAN_RELEASE, DEBIAN_MIRROR, DEBIAN_PACKAGES, MARKER }));
  h.update(fs.readFileSync(script));
  return h.digest('hex').slice(0, 16);
}

/** Why the Debian root cannot be built here, or undefined when it can. */
export function debianRootUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'building the Debian test root needs root (mmdebstrap)';
  for (const tool of ['mmdebstrap', 'flock', 'tar']) {
    if (!hasTool(tool)) return `${tool} is not installed (run scripts/setup-host.sh)`;
  }
  return undefined;
}

function locked(lock: string, cmd: string[]): void {
  execFileSync('flock', [lock, ...cmd], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** Path of the cached tarball, built on first use (1-2 minutes with network). */
export function debianRootTar(): string {
  const dir = testCacheDir();
  const tar = path.join(dir, `debian-root-${cacheKey()}.tar`);
  if (!fs.existsSync(tar)) {
    locked(path.join(dir, '.lock'), ['sh', '-c', `[ -e "$1" ] || "$2" "$1" "$3" "$4" "$5" "$6"`, 'sh',
      tar, script, DEBIAN_RELEASE, DEBIAN_MIRROR, DEBIAN_PACKAGES.join(','), MARKER]);
  }
  return tar;
}

/** Path of the extracted tree (owners, modes, xattrs and device nodes kept). Read-only by convention. */
export function debianRootDir(): string {
  const tar = debianRootTar();
  // GNU tar restores POSIX ACLs from mmdebstrap's SCHILY.xattr.system.posix_acl_* records
  // with --xattrs alone; --acls would make it look for SCHILY.acl.* records and drop them.
  // The '-x2' suffix names this extraction recipe, so a changed recipe extracts afresh.
  const dir = tar.replace(/\.tar$/, '-x2');
  const stamp = `${dir}.extracted`;
  if (!fs.existsSync(stamp)) {
    locked(path.join(path.dirname(tar), '.lock'), ['sh', '-c',
      `[ -e "$3" ] && exit 0; rm -rf "$2" && mkdir -p "$2" && tar -C "$2" --xattrs --xattrs-include='*' --numeric-owner -xpf "$1" && touch "$3"`,
      'sh', tar, dir, stamp]);
  }
  return dir;
}
