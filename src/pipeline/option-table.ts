/**
 * The options of `disk-image-create` and `ramdisk-image-create` as one table, with
 * diskimage-builder's names and meanings (diskimage_builder/lib/disk-image-create, getopt line
 * and usage text), the environment variable behind each, what a path option must name, and the
 * help text. The parser (options.ts), the help and the path checks all read this table.
 */
import type { PathRule } from './path-checks.js';

/** One option: its names, the value it takes (ARG, none for a flag), the variable behind it, its help. */
export interface OptSpec {
  long?: string;
  short?: string;
  /** The value's name in the help; a flag has none. */
  arg?: string;
  env?: string;
  /** For a path: what it must name, checked before work starts (path-checks.ts). */
  path?: PathRule;
  help: string;
}

export const OPTION_SPECS: OptSpec[] = [
  { short: 'o', arg: 'NAME', path: 'output-name', help: 'image file name without extension (default image); with one type, a trailing .TYPE is stripped (-o debian.qcow2 writes debian.qcow2)' },
  { short: 't', arg: 'TYPES', help: 'output types, comma separated, all written from one build: qcow2 (default), raw, vhd (dynamic), vmdk (streamOptimized), tar and tgz (of the root tree); each NAME.TYPE' },
  { short: 'a', arg: 'ARCH', env: 'ARCH', help: 'architecture: amd64 (x86_64); others are not supported yet' },
  { short: 'x', help: 'raise DIB_DEBUG_TRACE by one (hooks then trace themselves with set -x); repeatable' },
  { short: 'u', help: 'do not compress qcow2 clusters (by default they are deflate-compressed, as qemu-img convert -c)' },
  { short: 'c', help: 'clear the environment: hooks see only PATH, HOME, TERM and the build variables' },
  { short: 'n', help: "skip the default 'base' flavour" },
  { short: 'p', arg: 'PKGS', help: 'install these packages (comma separated, repeatable) in the chroot after install.d' },
  { long: 'checksum', env: 'DIB_CHECKSUM', help: 'write NAME.TYPE.md5 and NAME.TYPE.sha256 next to each output, computed while it is written (env value may be md5, sha256 or md5,sha256)' },
  { long: 'image-size', arg: 'SIZE', env: 'DIB_IMAGE_SIZE', help: 'image size: a plain number is GB as in DIB (GiB, may be fractional), or give a unit (2GiB, 512MiB, 4G); default: computed from the tree' },
  { long: 'image-extra-size', arg: 'MB', env: 'DIB_IMAGE_EXTRA_SIZE', help: 'size the root filesystem as its content plus MB MiB, instead of the default content / 0.6 (plus the journal in both cases); ignored with --image-size' },
  { long: 'image-cache', arg: 'DIR', env: 'DIB_IMAGE_CACHE', path: 'cache-dir', help: 'cache for downloaded/bootstrapped roots (default ~/.cache/image-create)' },
  { long: 'root-label', arg: 'LABEL', env: 'DIB_ROOT_LABEL', help: 'root filesystem label (default cloudimg-rootfs; ROOT_LABEL also read)' },
  { long: 'mkfs-options', arg: 'OPTS', env: 'MKFS_OPTS', help: 'extra mke2fs-style options for the root filesystem' },
  { long: 'mkfs-journal-size', arg: 'MB', env: 'DIB_JOURNAL_SIZE', help: 'ext4 journal size in MiB (default 64)' },
  { long: 'no-tmpfs', env: 'DIB_NO_TMPFS', help: 'accepted for DIB compatibility: the build folder is never on tmpfs here' },
  { long: 'offline', env: 'DIB_OFFLINE', help: 'flavours must use only cached data (DIB_OFFLINE=1 for hooks)' },
  { long: 'logfile', arg: 'FILE', path: 'log-file', help: 'also write the whole log (with timestamps) to FILE' },
  { long: 'root-dir', arg: 'DIR', path: 'read-dir', help: 'use DIR as the root tree (read, never modified) instead of an OS flavour' },
  { long: 'root-tar', arg: 'FILE|-', path: 'tar-input', help: 'use a tar archive (or - for stdin) as the root tree' },
  { long: 'block-device-config', arg: 'YAML', env: 'DIB_BLOCK_DEVICE_CONFIG', help: 'layout: inline YAML or file://PATH; wins over a block-device.d hook\'s printed layout, then a flavour\'s block-device-default.yaml, then DIB_BLOCK_DEVICE' },
  { long: 'dry-run', help: 'resolve flavours, list the hooks of every phase and the layout plan; runs no hook and writes no image (it does source the flavours\' environment.d files in bash, to learn the layout)' },
  { long: 'qemu-img-options', arg: 'K=V,...', env: 'QEMU_IMG_OPTIONS', help: "the container options DIB passes to qemu-img -o: compat=0.10|1.1, compression_type=zlib|zstd, cluster_size=SIZE (qcow2), subformat=dynamic|fixed (vhd)" },
  { long: 'keep-build-dir', help: 'keep the build folder (hooks, tree) after the build, for debugging' },
  { long: 'unprivileged', help: 'run the hooks in a user namespace with the subordinate ids mapped, as every user but root does; for testing that mode as root' },
  { short: 'h', long: 'help', help: 'show this help' },
  { long: 'version', help: 'show the version' },
];

/** Options only ramdisk-image-create has (on top of OPTION_SPECS). */
export const RAMDISK_OPTION_SPECS: OptSpec[] = [
  { long: 'ramdisk-element', arg: 'FLAVOUR', env: 'RAMDISK_ELEMENT', help: 'the flavour that builds the ramdisk tree, added first (default ramdisk)' },
  { long: 'compression', arg: 'ALG', env: 'DIB_RAMDISK_COMPRESSION', help: 'initramfs compression: zstd (default), gzip, xz or none; -u means none' },
  { long: 'compression-level', arg: 'N', env: 'DIB_RAMDISK_COMPRESSION_LEVEL', help: 'zstd 1-19 (default 3), gzip 1-9 (default 6), xz 0-9 (default 6)' },
  { long: 'early-dir', arg: 'DIR', path: 'read-dir', help: 'write DIR first as an uncompressed cpio archive (early microcode: kernel/x86/microcode/...)' },
];

export const ENV_ONLY: { name: string; help: string }[] = [
  { name: 'FLAVOURS_PATH', help: 'colon list of folders holding flavours; earlier entries override later ones and the built-ins' },
  { name: 'ELEMENTS_PATH', help: "DIB's name for FLAVOURS_PATH (both are read; FLAVOURS_PATH first)" },
  { name: 'OVERWRITE_OLD_IMAGE', help: '1: a successful build replaces an existing output file; otherwise the old file (and its .md5/.sha256) is renamed NAME-YYYY.MM.DD-HH.MM.SS.EXT, as DIB does. A failed build never touches it' },
  { name: 'DIB_RELEASE', help: "distribution release for OS flavours (debian-minimal: stable, i.e. trixie today; bookworm, testing or a codename)" },
  { name: 'DIB_DISTRIBUTION_MIRROR', help: "package mirror for OS flavours (default: the host's configured Debian mirror)" },
  { name: 'SOURCE_DATE_EPOCH', help: 'reproducible builds: disk GUIDs and filesystem UUIDs derive from it, and it is the time of everything the assembler invents (superblock, lost+found)' },
  { name: 'DIB_BLOCK_DEVICE', help: 'a built-in layout (bare, mbr, gpt, efi) used when no --block-device-config, block-device.d hook or flavour YAML gives one' },
  { name: 'DIB_GRUB_TIMEOUT', help: 'grub menu timeout in seconds (default 5)' },
  { name: 'TMPDIR', help: 'where the build folder dib_build.XXXXXX is made' },
];

export function specsFor(command: string): OptSpec[] {
  return command === 'ramdisk-image-create' ? [...OPTION_SPECS, ...RAMDISK_OPTION_SPECS] : OPTION_SPECS;
}

export function helpText(command: string, version: string): string {
  const ramdisk = command === 'ramdisk-image-create';
  const lines = [`Usage: ${command} [OPTION]... FLAVOUR...`, '',
    ramdisk
      ? `Builds a kernel and initramfs pair (diskimage-ts ${version}) from flavours (DIB elements), with DIB's options;\nwith --root-dir/--root-tar and no flavour, only the initramfs of that tree.`
      : `Builds a disk image (diskimage-ts ${version}) from flavours (DIB elements), with DIB's options.`, '', 'Options:'];
  for (const o of specsFor(command)) {
    const names = [o.short ? `-${o.short}` : '', o.long ? `--${o.long}` : ''].filter(Boolean).join(', ');
    const left = `  ${names}${o.arg ? ` ${o.arg}` : ''}`;
    lines.push(`${left.padEnd(34)} ${o.help}${o.env ? ` [env ${o.env}]` : ''}`);
  }
  lines.push('', 'Environment (command line wins over environment, environment over defaults):');
  for (const e of ENV_ONLY) lines.push(`  ${e.name.padEnd(32)} ${e.help}`);
  lines.push('', ramdisk
    ? 'Example: ramdisk-image-create -o deploy debian-minimal   (writes deploy.kernel and deploy.initramfs)'
    : 'Example: disk-image-create -o debian vm debian-minimal local-config   (writes debian.qcow2)', '');
  return lines.join('\n');
}

