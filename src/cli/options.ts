/**
 * The options of `disk-image-create`, with diskimage-builder's names and meanings
 * (diskimage_builder/lib/disk-image-create, getopt line and usage text), the environment
 * variables behind them, and our additions. The command line wins over the environment,
 * which wins over the built-in defaults. Parsing is getopt-like: options anywhere, `--`
 * ends them, `--opt=value` or `--opt value`, clustered short flags (`-xn`), `-oNAME`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { ConfigError, UsageError } from '../errors.js';
import { nearest } from '../pipeline/flavours.js';
import { IMAGE_TYPES, type BuildOptions, type ImageType } from '../pipeline/options.js';
import type { ContainerSettings } from '../assemble/containers.js';
import { parseAbsoluteSize } from '../layout/size.js';
import type { RamdiskOptions } from '../pipeline/ramdisk.js';
import { checkCompression, type Compression } from '../assemble/initramfs.js';

export type { BuildOptions } from '../pipeline/options.js';

interface OptSpec {
  long?: string;
  short?: string;
  arg?: string;
  env?: string;
  help: string;
}

export const OPTION_SPECS: OptSpec[] = [
  { short: 'o', arg: 'NAME', help: 'image file name without extension (default image); with one type, a trailing .TYPE is stripped (-o debian.qcow2 writes debian.qcow2)' },
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
  { long: 'image-cache', arg: 'DIR', env: 'DIB_IMAGE_CACHE', help: 'cache for downloaded/bootstrapped roots (default ~/.cache/image-create)' },
  { long: 'root-label', arg: 'LABEL', env: 'DIB_ROOT_LABEL', help: 'root filesystem label (default cloudimg-rootfs; ROOT_LABEL also read)' },
  { long: 'mkfs-options', arg: 'OPTS', env: 'MKFS_OPTS', help: 'extra mke2fs-style options for the root filesystem' },
  { long: 'mkfs-journal-size', arg: 'MB', env: 'DIB_JOURNAL_SIZE', help: 'ext4 journal size in MiB (default 64)' },
  { long: 'no-tmpfs', env: 'DIB_NO_TMPFS', help: 'accepted for DIB compatibility: the build folder is never on tmpfs here' },
  { long: 'offline', env: 'DIB_OFFLINE', help: 'flavours must use only cached data (DIB_OFFLINE=1 for hooks)' },
  { long: 'logfile', arg: 'FILE', help: 'also write the whole log (with timestamps) to FILE' },
  { long: 'root-dir', arg: 'DIR', help: 'use DIR as the root tree (read, never modified) instead of an OS flavour' },
  { long: 'root-tar', arg: 'FILE|-', help: 'use a tar archive (or - for stdin) as the root tree' },
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
  { long: 'early-dir', arg: 'DIR', help: 'write DIR first as an uncompressed cpio archive (early microcode: kernel/x86/microcode/...)' },
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

const TYPES_LATER = ['squashfs', 'docker', 'aci', 'vdi'];
const ARCHES_LATER = ['arm64', 'aarch64', 'armhf', 'i386', 'ppc64', 'ppc64el', 'ppc64le', 's390x', 'riscv64'];

/**
 * DIB's `--qemu-img-options k=v,k=v` (qemu-img's `-o`), for the options our writers have:
 * compat (0.10, 1.1), compression_type (zlib, zstd) and cluster_size (512 to 2M, a power of
 * two) for qcow2, subformat (dynamic, fixed) for vhd.
 */
function parseQemuImgOptions(spec: string, where: string): ContainerSettings {
  const out: ContainerSettings = {};
  for (const kv of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, v = ''] = kv.split('=', 2) as [string, string?];
    if (k === 'compat' && (v === '0.10' || v === '1.1')) out.qcow2Compat = v;
    else if (k === 'compat' && v === 'v3') out.qcow2Compat = '1.1';
    else if (k === 'compression_type' && (v === 'zlib' || v === 'zstd')) out.compressionType = v === 'zstd' ? 'zstd' : 'deflate';
    else if (k === 'subformat' && (v === 'dynamic' || v === 'fixed')) out.vhdType = v;
    else if (k === 'cluster_size' && /^\d+[kKmM]?$/.test(v)) {
      const n = Number.parseInt(v, 10) * (/[kK]$/.test(v) ? 1024 : /[mM]$/.test(v) ? 1 << 20 : 1);
      const bits = Math.log2(n);
      if (!Number.isInteger(bits) || bits < 9 || bits > 21) throw new ConfigError(where, `cluster_size ${v} is not a power of two from 512 to 2M`);
      out.clusterBits = bits;
    } else {
      throw new ConfigError(where, `'${kv}' is not an option the writers take`,
        'use compat=0.10|1.1, compression_type=zlib|zstd, cluster_size=SIZE (qcow2) or subformat=dynamic|fixed (vhd)');
    }
  }
  if (out.qcow2Compat === '0.10' && out.compressionType === 'zstd') throw new ConfigError(where, 'compat=0.10 cannot hold zstd-compressed clusters', 'use compat=1.1 with compression_type=zstd');
  return out;
}

/** `-t`: a comma list of known types, each once, in the order given. */
function parseTypes(spec: string): ImageType[] {
  const out: ImageType[] = [];
  for (const t of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    if ((IMAGE_TYPES as readonly string[]).includes(t)) {
      if (!out.includes(t as ImageType)) out.push(t as ImageType);
      continue;
    }
    if (TYPES_LATER.includes(t)) throw new UsageError(`output type '${t}' is not supported yet`, `use one of: ${IMAGE_TYPES.join(', ')}`);
    throw new UsageError(`unknown output type '${t}'`, `valid types: ${IMAGE_TYPES.join(', ')} (later: ${TYPES_LATER.join(', ')})`);
  }
  if (out.length === 0) throw new UsageError('-t needs at least one type', `valid types: ${IMAGE_TYPES.join(', ')}`);
  return out;
}

function specsFor(command: string): OptSpec[] {
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

function positiveNumber(value: string, where: string, unit: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new ConfigError(where, `expected a positive number of ${unit} but it was '${value}'`, `for example ${where} 2.5`);
  }
  return n;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false' && v.toLowerCase() !== 'no';
}

function parseChecksum(v: string, where: string): ('md5' | 'sha256')[] {
  if (v === '1' || v.toLowerCase() === 'true') return ['md5', 'sha256'];
  if (!truthy(v)) return [];
  const out: ('md5' | 'sha256')[] = [];
  for (const part of v.split(',').map((s) => s.trim())) {
    if (part !== 'md5' && part !== 'sha256') throw new ConfigError(where, `unknown checksum '${part}'`, 'use 1, md5, sha256 or md5,sha256');
    out.push(part);
  }
  return out;
}

function readBlockDeviceConfig(v: string, where: string): string {
  if (!v.startsWith('file://')) return v;
  const file = v.slice('file://'.length);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(where, `cannot read layout file ${file}: ${(e as Error).message}`, 'give an existing YAML file after file://');
  }
}

/**
 * --image-size / DIB_IMAGE_SIZE in bytes: a plain number is DIB's GB (GB * 1024 * 1024 KiB, cut
 * at the point); with a unit it is read as disk-image-layout --size reads sizes.
 */
function imageSizeBytes(text: string, where: string): number {
  if (/^\s*[-+]?[0-9]*\.?[0-9]+\s*$/.test(text)) return Math.floor(positiveNumber(text, where, 'GB') * 1024 * 1024) * 1024;
  let bytes: number;
  try {
    bytes = parseAbsoluteSize(text, where);
  } catch {
    throw new ConfigError(where, `expected a size but it was '${text}'`, "give a number of GB as DIB does (2, 1.5) or a size with a unit (2GiB, 512MiB, 4G)");
  }
  if (bytes <= 0) throw new ConfigError(where, `expected a positive size but it was '${text}'`, 'give a size above zero');
  return bytes;
}

/** Parses argv and the environment into the options of one build (of `command`). */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, command = 'disk-image-create'): BuildOptions {
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  const specs = specsFor(command);
  const byShort = new Map(specs.filter((o) => o.short).map((o) => [o.short!, o]));
  const byLong = new Map(specs.filter((o) => o.long).map((o) => [o.long!, o]));
  const key = (o: OptSpec): string => o.long ?? o.short!;
  const add = (o: OptSpec, v: string): void => { raw.set(key(o), [...(raw.get(key(o)) ?? []), v]); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const o = byLong.get(name);
      if (!o) {
        const near = nearest(name, byLong.keys());
        throw new UsageError(`unknown option --${name}`, (near ? `did you mean --${near}? ` : '') + 'see disk-image-create --help');
      }
      if (o.arg) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option --${name} needs a value (${o.arg})`, 'see disk-image-create --help');
        add(o, v);
      } else {
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`, `write --${name} alone`);
        add(o, '1');
      }
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const o = byShort.get(c);
        if (!o) {
          throw new UsageError(`unknown option -${c}${a.length > 2 ? ` (in ${a})` : ''}`, 'see disk-image-create --help for the options');
        }
        if (o.arg) {
          const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
          if (v === undefined) throw new UsageError(`option -${c} needs a value (${o.arg})`, 'see disk-image-create --help');
          add(o, v);
          break;
        }
        add(o, '1');
      }
    } else {
      positionals.push(a);
    }
  }
  const last = (k: string): string | undefined => raw.get(k)?.at(-1);
  const has = (k: string): boolean => raw.has(k);

  const types = parseTypes(last('t') ?? 'qcow2');
  let imageName = last('o') ?? 'image';
  // DIB: with a single type, a trailing .TYPE of the name is dropped (it is added back).
  if (types.length === 1 && imageName.endsWith(`.${types[0]}`)) imageName = imageName.slice(0, -(types[0]!.length + 1));
  if (imageName === '') throw new UsageError('-o needs a non-empty name');
  const qioSrc = last('qemu-img-options') ?? env.QEMU_IMG_OPTIONS ?? '';
  const containerSettings = parseQemuImgOptions(qioSrc, has('qemu-img-options') ? '--qemu-img-options' : 'QEMU_IMG_OPTIONS');

  const archIn = last('a') ?? env.ARCH ?? 'amd64';
  if (archIn !== 'amd64' && archIn !== 'x86_64') {
    if (ARCHES_LATER.includes(archIn)) throw new UsageError(`architecture '${archIn}' is not supported yet`, 'use -a amd64');
    throw new UsageError(`unknown architecture '${archIn}'`, 'use -a amd64 (or x86_64)');
  }

  const sizeSrc = last('image-size') ?? env.DIB_IMAGE_SIZE;
  const sizeWhere = has('image-size') ? '--image-size' : 'DIB_IMAGE_SIZE';
  let imageSize: number | undefined;
  if (sizeSrc !== undefined && sizeSrc !== '') {
    imageSize = Math.ceil(imageSizeBytes(sizeSrc, sizeWhere) / 65536) * 65536; // raw images are rounded up to 64 KiB
  }
  const extraSrc = last('image-extra-size') ?? env.DIB_IMAGE_EXTRA_SIZE;
  const extraSize = extraSrc !== undefined && extraSrc !== ''
    ? Math.round(positiveNumber(extraSrc, has('image-extra-size') ? '--image-extra-size' : 'DIB_IMAGE_EXTRA_SIZE', 'MB') * 1024 * 1024)
    : undefined;
  const journalSrc = last('mkfs-journal-size') ?? env.DIB_JOURNAL_SIZE;
  const journalSizeMiB = journalSrc !== undefined && journalSrc !== ''
    ? positiveNumber(journalSrc, has('mkfs-journal-size') ? '--mkfs-journal-size' : 'DIB_JOURNAL_SIZE', 'MiB')
    : undefined;
  if (journalSizeMiB !== undefined && !Number.isInteger(journalSizeMiB)) {
    throw new ConfigError('--mkfs-journal-size', `expected a whole number of MiB but it was ${journalSizeMiB}`);
  }

  const bdcSrc = last('block-device-config') ?? env.DIB_BLOCK_DEVICE_CONFIG;
  const bdcWhere = has('block-device-config') ? '--block-device-config' : 'DIB_BLOCK_DEVICE_CONFIG';
  const grubSrc = env.DIB_GRUB_TIMEOUT;
  let grubTimeout: number | undefined;
  if (grubSrc !== undefined && grubSrc !== '') {
    grubTimeout = Number(grubSrc);
    if (!Number.isInteger(grubTimeout) || grubTimeout < 0) throw new ConfigError('DIB_GRUB_TIMEOUT', `expected whole seconds >= 0 but it was '${grubSrc}'`);
  }
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '' && !/^\d+$/.test(sde)) {
    throw new ConfigError('SOURCE_DATE_EPOCH', `expected whole seconds since 1970 but it was '${sde}'`);
  }
  const rootDir = last('root-dir');
  const rootTar = last('root-tar');
  if (rootDir !== undefined && rootTar !== undefined) throw new UsageError('--root-dir and --root-tar cannot be used together', 'give one root tree');

  const opts: BuildOptions = {
    flavours: positionals,
    imageName,
    types,
    containerSettings,
    arch: 'amd64',
    trace: raw.get('x')?.length ?? (Number(env.DIB_DEBUG_TRACE) || 0),
    uncompressed: has('u'),
    clearEnv: has('c'),
    skipBase: has('n'),
    packages: (raw.get('p') ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean),
    checksum: has('checksum') ? ['md5', 'sha256'] : parseChecksum(env.DIB_CHECKSUM ?? '', 'DIB_CHECKSUM'),
    imageCache: path.resolve(last('image-cache') ?? env.DIB_IMAGE_CACHE ?? path.join(env.HOME ?? os.homedir(), '.cache/image-create')),
    mkfsOptions: (last('mkfs-options') ?? env.MKFS_OPTS ?? '').split(/\s+/).filter(Boolean),
    noTmpfs: has('no-tmpfs') || truthy(env.DIB_NO_TMPFS),
    offline: has('offline') || truthy(env.DIB_OFFLINE),
    dryRun: has('dry-run'),
    keepBuildDir: has('keep-build-dir'),
    unprivileged: has('unprivileged'),
    overwrite: truthy(env.OVERWRITE_OLD_IMAGE),
    help: has('help') || has('h'),
    version: has('version'),
  };
  for (const p of opts.packages) {
    if (!/^[A-Za-z0-9][A-Za-z0-9+.:=~_-]*$/.test(p)) throw new ConfigError('-p', `'${p}' is not a package name`, 'give package names separated by commas, e.g. -p vim,curl');
  }
  const rootLabel = last('root-label') ?? env.DIB_ROOT_LABEL ?? env.ROOT_LABEL;
  if (rootLabel !== undefined && rootLabel !== '') opts.rootLabel = rootLabel;
  if (imageSize !== undefined) opts.imageSize = imageSize;
  if (extraSize !== undefined) opts.extraSize = extraSize;
  if (journalSizeMiB !== undefined) opts.journalSizeMiB = journalSizeMiB;
  if (last('logfile') !== undefined) opts.logfile = path.resolve(last('logfile')!);
  if (rootDir !== undefined) opts.rootDir = path.resolve(rootDir);
  if (rootTar !== undefined) opts.rootTar = rootTar === '-' ? '-' : path.resolve(rootTar);
  if (bdcSrc !== undefined && bdcSrc.trim() !== '') opts.blockDeviceConfig = readBlockDeviceConfig(bdcSrc, bdcWhere);
  if (env.DIB_RELEASE) opts.release = env.DIB_RELEASE;
  if (env.DIB_DISTRIBUTION_MIRROR) opts.mirror = env.DIB_DISTRIBUTION_MIRROR;
  if (sde !== undefined && sde !== '') {
    opts.seed = `SOURCE_DATE_EPOCH=${sde}`;
    opts.sourceDateEpoch = Number(sde);
  }
  if (grubTimeout !== undefined) opts.grubTimeout = grubTimeout;
  if (command === 'ramdisk-image-create') opts.ramdisk = ramdiskOptions(last, has, env);
  if (!opts.help && !opts.version && opts.flavours.length === 0 && !opts.rootDir && !opts.rootTar) {
    throw new UsageError('no flavours given', 'name at least an OS flavour, e.g.: disk-image-create -o image vm debian-minimal (see --help)');
  }
  return opts;
}

/** The ramdisk-image-create additions; -u means no compression unless one is named. */
function ramdiskOptions(last: (k: string) => string | undefined, has: (k: string) => boolean, env: NodeJS.ProcessEnv): RamdiskOptions {
  const named = last('compression') ?? env.DIB_RAMDISK_COMPRESSION;
  const compression = named !== undefined && named !== '' ? named : has('u') ? 'none' : 'zstd';
  const compressionWhere = has('compression') ? '--compression' : 'DIB_RAMDISK_COMPRESSION';
  const levelSrc = last('compression-level') ?? env.DIB_RAMDISK_COMPRESSION_LEVEL;
  const levelWhere = has('compression-level') ? '--compression-level' : 'DIB_RAMDISK_COMPRESSION_LEVEL';
  let level: number | undefined;
  if (levelSrc !== undefined && levelSrc !== '') {
    level = Number(levelSrc);
    if (levelSrc.trim() === '' || !Number.isFinite(level)) throw new ConfigError(levelWhere, `expected a whole number but it was '${levelSrc}'`);
  }
  checkCompression(compression, level, level !== undefined ? levelWhere : compressionWhere);
  const element = last('ramdisk-element') ?? env.RAMDISK_ELEMENT ?? 'ramdisk';
  if (element === '') throw new UsageError('--ramdisk-element needs a flavour name');
  const out: RamdiskOptions = { element, compression: compression as Compression };
  if (level !== undefined) out.level = level;
  const early = last('early-dir');
  if (early !== undefined) {
    if (!fs.statSync(early, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError('--early-dir', `${early} is not a directory`, 'give the folder whose tree goes first, uncompressed');
    out.earlyDir = path.resolve(early);
  }
  return out;
}
