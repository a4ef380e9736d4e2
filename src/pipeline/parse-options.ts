/**
 * The options of `disk-image-create`, with diskimage-builder's names and meanings
 * (diskimage_builder/lib/disk-image-create, getopt line and usage text), the environment
 * variables behind them, and our additions. The command line wins over the environment,
 * which wins over the built-in defaults. Parsing is getopt-like: options anywhere, `--`
 * ends them, `--opt=value` or `--opt value`, clustered short flags (`-xn`), `-oNAME`.
 * The build's layer, not the command's: the library offers parseOptions as parseBuildOptions
 * (src/index.ts), and src/cli/ uses it and helpText.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, UsageError } from '../errors.js';
import { nearest } from './flavours.js';
import { IMAGE_TYPES, type BuildOptions, type ImageType } from './options.js';
import type { ContainerSettings } from '../assemble/containers.js';
import { parseAbsoluteSize } from '../layout/size.js';
import { controlCharacter } from '../layout/text-fields.js';
import type { RamdiskOptions } from './ramdisk.js';
import { checkCompression, type Compression } from '../assemble/initramfs.js';
import { type OptSpec, specsFor } from './option-table.js';
import { checkPath, readLayoutFile } from './path-checks.js';

export { ENV_ONLY, helpText, OPTION_SPECS, RAMDISK_OPTION_SPECS } from './option-table.js';

export type { BuildOptions } from './options.js';

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
  return readLayoutFile(v.slice('file://'.length), where, 'give an existing YAML file after file://');
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

/** The values of the options given on the command line, by long name (or short, without one). */
interface Scanned { raw: Map<string, string[]>; positionals: string[] }

/** One `--name[=value]` argument at argv[i]; returns the index of the last argument used. */
function scanLong(argv: string[], i: number, byLong: Map<string, OptSpec>, add: (o: OptSpec, v: string) => void): number {
  const a = argv[i]!;
  const eq = a.indexOf('=');
  const name = a.slice(2, eq < 0 ? undefined : eq);
  const o = byLong.get(name);
  if (!o) {
    const near = nearest(name, byLong.keys());
    throw new UsageError(`unknown option --${name}`, (near ? `did you mean --${near}? ` : '') + 'see disk-image-create --help');
  }
  if (!o.arg) {
    if (eq >= 0) throw new UsageError(`option --${name} takes no value`, `write --${name} alone`);
    add(o, '1');
    return i;
  }
  const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
  if (v === undefined) throw new UsageError(`option --${name} needs a value (${o.arg})`, 'see disk-image-create --help');
  add(o, v);
  return i;
}

/** Clustered short flags at argv[i] (`-xn`, `-oNAME`, `-o NAME`); returns the index of the last argument used. */
function scanShort(argv: string[], i: number, byShort: Map<string, OptSpec>, add: (o: OptSpec, v: string) => void): number {
  const a = argv[i]!;
  for (let j = 1; j < a.length; j++) {
    const c = a[j]!;
    const o = byShort.get(c);
    if (!o) throw new UsageError(`unknown option -${c}${a.length > 2 ? ` (in ${a})` : ''}`, 'see disk-image-create --help for the options');
    if (!o.arg) {
      add(o, '1');
      continue;
    }
    const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
    if (v === undefined) throw new UsageError(`option -${c} needs a value (${o.arg})`, 'see disk-image-create --help');
    add(o, v);
    break;
  }
  return i;
}

/** getopt-like: options anywhere, `--` ends them, `--opt=value` or `--opt value`, `-xn`, `-oNAME`. */
function scanArgv(argv: string[], specs: OptSpec[]): Scanned {
  const raw = new Map<string, string[]>();
  const positionals: string[] = [];
  const byShort = new Map(specs.filter((o) => o.short).map((o) => [o.short!, o]));
  const byLong = new Map(specs.filter((o) => o.long).map((o) => [o.long!, o]));
  const add = (o: OptSpec, v: string): void => { const k = specKey(o); raw.set(k, [...(raw.get(k) ?? []), v]); };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) i = scanLong(argv, i, byLong, add);
    else if (a.startsWith('-') && a.length > 1) i = scanShort(argv, i, byShort, add);
    else positionals.push(a);
  }
  return { raw, positionals };
}

function specKey(o: OptSpec): string {
  return o.long ?? o.short!;
}

/** How a parse step reads the scanned options: the last value of one, and whether it was given. */
interface Given { last(k: string): string | undefined; has(k: string): boolean; raw: Map<string, string[]> }

/** -o and -t: the image name (DIB drops a trailing .TYPE with one type) and the output types. */
function outputNames(g: Given): { imageName: string; types: ImageType[] } {
  const types = parseTypes(g.last('t') ?? 'qcow2');
  let imageName = g.last('o') ?? 'image';
  if (types.length === 1 && imageName.endsWith(`.${types[0]}`)) imageName = imageName.slice(0, -(types[0]!.length + 1));
  if (imageName === '') throw new UsageError('-o needs a non-empty name');
  return { imageName, types };
}

function checkArch(g: Given, env: NodeJS.ProcessEnv): void {
  const archIn = g.last('a') ?? env.ARCH ?? 'amd64';
  if (archIn === 'amd64' || archIn === 'x86_64') return;
  if (ARCHES_LATER.includes(archIn)) throw new UsageError(`architecture '${archIn}' is not supported yet`, 'use -a amd64');
  throw new UsageError(`unknown architecture '${archIn}'`, 'use -a amd64 (or x86_64)');
}

/** An option's value, else its environment variable's; with the name to report it under. */
function fromEither(g: Given, env: NodeJS.ProcessEnv, long: string, variable: string): { value: string | undefined; where: string } {
  const value = g.last(long) ?? env[variable];
  return { value: value === '' ? undefined : value, where: g.has(long) ? `--${long}` : variable };
}

/** --image-size, --image-extra-size and --mkfs-journal-size (or their variables). */
function sizeOptions(g: Given, env: NodeJS.ProcessEnv): Pick<BuildOptions, 'imageSize' | 'extraSize' | 'journalSizeMiB'> {
  const out: Pick<BuildOptions, 'imageSize' | 'extraSize' | 'journalSizeMiB'> = {};
  const size = fromEither(g, env, 'image-size', 'DIB_IMAGE_SIZE');
  // Raw images are rounded up to 64 KiB.
  if (size.value !== undefined) out.imageSize = Math.ceil(imageSizeBytes(size.value, size.where) / 65536) * 65536;
  const extra = fromEither(g, env, 'image-extra-size', 'DIB_IMAGE_EXTRA_SIZE');
  if (extra.value !== undefined) out.extraSize = Math.round(positiveNumber(extra.value, extra.where, 'MB') * 1024 * 1024);
  const journal = fromEither(g, env, 'mkfs-journal-size', 'DIB_JOURNAL_SIZE');
  if (journal.value !== undefined) {
    out.journalSizeMiB = positiveNumber(journal.value, journal.where, 'MiB');
    if (!Number.isInteger(out.journalSizeMiB)) throw new ConfigError('--mkfs-journal-size', `expected a whole number of MiB but it was ${out.journalSizeMiB}`);
  }
  return out;
}

/** The variables without an option: DIB_GRUB_TIMEOUT, SOURCE_DATE_EPOCH, DIB_RELEASE, DIB_DISTRIBUTION_MIRROR. */
function environmentOnly(env: NodeJS.ProcessEnv): Partial<BuildOptions> {
  const out: Partial<BuildOptions> = {};
  const grub = env.DIB_GRUB_TIMEOUT;
  if (grub !== undefined && grub !== '') {
    out.grubTimeout = Number(grub);
    if (!Number.isInteger(out.grubTimeout) || out.grubTimeout < 0) throw new ConfigError('DIB_GRUB_TIMEOUT', `expected whole seconds >= 0 but it was '${grub}'`);
  }
  const sde = env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && sde !== '') {
    if (!/^\d+$/.test(sde)) throw new ConfigError('SOURCE_DATE_EPOCH', `expected whole seconds since 1970 but it was '${sde}'`);
    out.seed = `SOURCE_DATE_EPOCH=${sde}`;
    out.sourceDateEpoch = Number(sde);
  }
  if (env.DIB_RELEASE) out.release = env.DIB_RELEASE;
  if (env.DIB_DISTRIBUTION_MIRROR) out.mirror = env.DIB_DISTRIBUTION_MIRROR;
  return out;
}

/** --root-dir, --root-tar, --logfile and --block-device-config: the paths a build reads or appends to. */
function inputOptions(g: Given, env: NodeJS.ProcessEnv): Partial<BuildOptions> {
  const out: Partial<BuildOptions> = {};
  const rootDir = g.last('root-dir');
  const rootTar = g.last('root-tar');
  if (rootDir !== undefined && rootTar !== undefined) throw new UsageError('--root-dir and --root-tar cannot be used together', 'give one root tree');
  const logfile = g.last('logfile');
  if (logfile === '') throw new ConfigError('--logfile', 'expected a file name but it is empty', 'give the file the log is appended to');
  if (logfile !== undefined) out.logfile = path.resolve(logfile);
  if (rootDir !== undefined) out.rootDir = path.resolve(rootDir);
  if (rootTar !== undefined) out.rootTar = rootTar === '-' ? '-' : path.resolve(rootTar);
  const bdc = fromEither(g, env, 'block-device-config', 'DIB_BLOCK_DEVICE_CONFIG');
  if (bdc.value !== undefined && bdc.value.trim() !== '') out.blockDeviceConfig = readBlockDeviceConfig(bdc.value, bdc.where);
  return out;
}

/** Parses argv and the environment into the options of one build (of `command`). */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv, command = 'disk-image-create'): BuildOptions {
  const { raw, positionals } = scanArgv(argv, specsFor(command));
  const g: Given = { raw, last: (k) => raw.get(k)?.at(-1), has: (k) => raw.has(k) };
  const { last, has } = g;
  checkArch(g, env);
  const qio = fromEither(g, env, 'qemu-img-options', 'QEMU_IMG_OPTIONS');
  const opts: BuildOptions = {
    flavours: positionals,
    ...outputNames(g),
    containerSettings: parseQemuImgOptions(qio.value ?? '', qio.where),
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
    ...sizeOptions(g, env),
    ...environmentOnly(env),
  };
  for (const p of opts.packages) {
    if (!/^[A-Za-z0-9][A-Za-z0-9+.:=~_-]*$/.test(p)) throw new ConfigError('-p', `'${p}' is not a package name`, 'give package names separated by commas, e.g. -p vim,curl');
  }
  const rootLabel = last('root-label') ?? env.DIB_ROOT_LABEL ?? env.ROOT_LABEL;
  if (rootLabel !== undefined && rootLabel !== '') opts.rootLabel = rootLabel;
  const bad = rootLabel === undefined ? undefined : controlCharacter(rootLabel);
  if (bad !== undefined) {
    throw new ConfigError(g.has('root-label') ? '--root-label' : 'DIB_ROOT_LABEL', `${JSON.stringify(rootLabel)} holds ${bad}: the label is written into /etc/fstab (one entry per line) and the kernel command line`,
      'give a label without control characters (a space is written as \\040 in fstab)');
  }
  Object.assign(opts, inputOptions(g, env));
  if (command === 'ramdisk-image-create') opts.ramdisk = ramdiskOptions(last, has, env);
  if (!opts.help && !opts.version && opts.flavours.length === 0 && !opts.rootDir && !opts.rootTar) {
    throw new UsageError('no flavours given', 'name at least an OS flavour, e.g.: disk-image-create -o image vm debian-minimal (see --help)');
  }
  return opts;
}

/**
 * Checks every path option given in `argv` against the rule its table entry states
 * (path-checks.ts), before the build creates anything. The last value of an option counts.
 */
export function checkPathOptions(argv: string[], command = 'disk-image-create'): void {
  const specs = specsFor(command);
  const { raw } = scanArgv(argv, specs);
  for (const o of specs) {
    const value = raw.get(specKey(o))?.at(-1);
    if (o.path && value !== undefined) checkPath(o.path, o.long ? `--${o.long}` : `-${o.short}`, value);
  }
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
    checkPath('read-dir', '--early-dir', early);
    out.earlyDir = path.resolve(early);
  }
  return out;
}
