/**
 * The image assembler: a built root tree plus a block-device layout in, a bootable raw disk
 * image out, written by our own code (partition table, ext4, FAT, grub boot code) with no loop
 * devices, mkfs or grub-install. Order of work:
 *   1. validate and plan everything (kernel, grub modules, sizes, layout) - nothing is created;
 *   2. run grub-mkimage (scratch files only);
 *   3. write OUTPUT.tmp-XXXX: table, filesystems, boot code; rename (or link, when not
 *      overwriting) to OUTPUT at the end; the temp file is removed on any error.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileBlockDevice } from '../binary/file-device.js';
import { SliceBlockDevice } from '../binary/block-device.js';
import { installBiosBoot, BIOS_BOOT_PARTITION_GUID } from '../boot/bios.js';
import { espTree, EFI_BOOT_PATH } from '../boot/efi.js';
import { earlyConfig, grubConfig, newestKernel } from '../boot/grub-cfg.js';
import { memoryTree } from '../boot/memory-tree.js';
import { ConfigError, NoSpaceError, UsageError } from '../errors.js';
import { ext4SizeFor, parseMkfsOptions, writeExt4, type Ext4Options } from '../fs/ext4/index.js';
import { fatVolumeId, writeFat } from '../fs/fat/index.js';
import { writePartitionTable } from '../partition/index.js';
import { loadLayout, minimumDiskSize, planLayout, LayoutDoesNotFitError, type LayoutConfig, type LayoutPlan } from '../partition/plan.js';
import type { PlannedFilesystem } from '../partition/plan.js';
import type { FileTree, Timestamp } from '../tree/model.js';
import { additionsTree, layerTree } from './assemble-tree.js';
import { findGrubModules, grubMkimage, readModuleFile, checkGrubMkimage, type GrubModules } from './grub-mkimage.js';

export interface AssembleProgress {
  stage: string;
  done: number;
  total: number;
}

export interface AssembleOptions {
  tree: FileTree;
  /** Final path of the image. */
  output: string;
  /** null = a bare ext4 filesystem image (DIB without vm). */
  layout: LayoutConfig | null;
  /** Bytes; by default the smallest disk the layout and the tree fit. */
  imageSize?: number;
  /** Bytes added to the root filesystem's computed size. */
  extraSize?: number;
  rootLabel?: string;
  /** mkfs.ext4 options for the root filesystem (DIB_MKFS_OPTS style). */
  mkfsOptions?: string[];
  bootloader: boolean;
  grubTimeout?: number;
  /** Kernel command line after `root=... ro` (DIB_BOOTLOADER_DEFAULT_CMDLINE). */
  kernelCmdline?: string;
  /** Reproducible builds: every GUID, UUID and invented time derives from it (SOURCE_DATE_EPOCH). */
  seed?: string;
  format: 'raw';
  /** Replace an existing output; by default an existing output is an error. */
  overwrite?: boolean;
  progress?: (ev: AssembleProgress) => void;
  /** Where the host's grub platform directories are, used when the tree has none (default /usr/lib/grub). */
  hostGrubDir?: string;
}

export interface AssembleResult {
  path: string;
  size: number;
  plan: LayoutPlan;
}

const SUPPORTED_MOUNTS = new Set(['/', '/boot/efi']);
const EFI_SYSTEM_GUID = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';

interface Work {
  plan: LayoutPlan;
  imageTree: FileTree;
  ext4Opts: Ext4Options;
  rootFs: PlannedFilesystem;
  esp?: PlannedFilesystem;
  bios?: GrubModules;
  efi?: GrubModules;
  time: Timestamp;
}

function seedTime(seed: string | undefined): Timestamp {
  if (seed !== undefined && /^\d+$/.test(seed)) return { sec: Number(seed), nsec: 0 };
  return { sec: Math.floor(Date.now() / 1000), nsec: 0 };
}

function checkFilesystems(plan: LayoutPlan): { rootFs: PlannedFilesystem; esp?: PlannedFilesystem } {
  let rootFs: PlannedFilesystem | undefined;
  let esp: PlannedFilesystem | undefined;
  for (const f of plan.filesystems) {
    if (f.mountPoint !== undefined && !SUPPORTED_MOUNTS.has(f.mountPoint)) {
      throw new ConfigError(`layout node '${f.node}'`, `mount point ${f.mountPoint} is not supported by the assembler yet`,
        'put everything on the root filesystem; only / (ext4) and /boot/efi (vfat) are written');
    }
    if (f.mountPoint === '/') {
      if (f.type !== 'ext4') throw new ConfigError(`layout node '${f.node}'`, `the root filesystem type is ${f.type}; only ext4 is written`, "use 'type: ext4'");
      rootFs = f;
    } else if (f.type === 'vfat' || f.type === 'fat') {
      esp = f;
    } else {
      throw new ConfigError(`layout node '${f.node}'`, `filesystem type ${f.type} ${f.mountPoint ? `at ${f.mountPoint} ` : ''}is not supported`,
        'the assembler writes ext4 at / and vfat (for the EFI partition)');
    }
  }
  if (!rootFs) throw new ConfigError('layout', 'no filesystem is mounted at /', 'add a mkfs node with mount_point: /');
  return { rootFs, esp };
}

/** Everything that can be known before writing: sizes, plan, added files. Throws before any file exists. */
function prepare(o: AssembleOptions, seed: string): Work {
  const layout = o.layout ?? loadLayout('bare');
  const time = seedTime(o.seed);
  const planOpts = { seed, ...(o.rootLabel !== undefined ? { rootLabel: o.rootLabel } : {}) };
  // UUIDs, labels and fstab do not depend on the disk size: plan once on a roomy disk to learn them.
  const probe = planLayout(layout, { ...planOpts, diskSize: layout.image.size ?? 1024 ** 4 });
  const { rootFs: probeRoot, esp: probeEsp } = checkFilesystems(probe);
  let bios: GrubModules | undefined;
  let efi: GrubModules | undefined;
  let grubCfg: string | undefined;
  if (o.bootloader) {
    if (!probe.table) throw new ConfigError('layout', 'the bootloader needs a partitioned disk but the layout has no partitioning', 'use the vm flavour with a block-device flavour');
    const kernel = newestKernel(o.tree);
    const hasBbp = probe.table.partitions.some((p) => p.type === BIOS_BOOT_PARTITION_GUID);
    if (probe.table.label === 'mbr' || hasBbp) bios = findGrubModules(o.tree, 'i386-pc', `${o.hostGrubDir ?? '/usr/lib/grub'}/i386-pc`);
    const hasEsp = probeEsp !== undefined || probe.table.partitions.some((p) => p.type === EFI_SYSTEM_GUID);
    if (hasEsp) {
      if (!probeEsp) throw new ConfigError('layout', 'the EFI system partition has no vfat filesystem', "give the ESP 'mkfs: {type: vfat}'");
      efi = findGrubModules(o.tree, 'x86_64-efi', `${o.hostGrubDir ?? '/usr/lib/grub'}/x86_64-efi`);
    }
    checkGrubMkimage();
    grubCfg = grubConfig({ kernel, rootFsUuid: probeRoot.uuid, rootArg: `LABEL=${probeRoot.label}`, timeout: o.grubTimeout,
      ...(o.kernelCmdline !== undefined ? { cmdline: o.kernelCmdline } : {}) });
  }
  const additions = additionsTree({
    ...(probe.fstab ? { fstab: probe.fstab } : {}),
    mountPoints: probe.filesystems.map((f) => f.mountPoint).filter((m): m is string => m !== undefined && m !== '/' && m !== 'none'),
    ...(grubCfg !== undefined ? { grubCfg } : {}),
    modules: [bios, efi].filter((m): m is GrubModules => m !== undefined),
    time,
  });
  const imageTree = layerTree(o.tree, additions);
  const ext4Opts: Ext4Options = {
    ...(probeRoot.opts.length ? parseMkfsOptions(probeRoot.opts) : {}),
    ...(o.mkfsOptions?.length ? parseMkfsOptions(o.mkfsOptions) : {}),
    label: probeRoot.label,
    uuid: probeRoot.uuid,
    seed,
    timestamp: time.sec,
    ...(o.extraSize ? { extraSize: o.extraSize } : {}),
  };
  const rootNeed = ext4SizeFor(imageTree, ext4Opts);
  let diskSize: number;
  if (o.imageSize === undefined) {
    diskSize = o.layout === null ? Math.ceil(rootNeed / 4096) * 4096 : minimumDiskSize(layout, { [probeRoot.node]: rootNeed }, planOpts);
  } else {
    diskSize = o.imageSize;
  }
  let plan: LayoutPlan;
  try {
    plan = planLayout(layout, { ...planOpts, diskSize });
  } catch (e) {
    if (e instanceof LayoutDoesNotFitError && o.imageSize !== undefined) {
      const need = o.layout === null ? rootNeed : minimumDiskSize(layout, { [probeRoot.node]: rootNeed }, planOpts);
      throw new NoSpaceError(`the image size ${o.imageSize} bytes is too small for the layout: it needs ${need} bytes`, need, 'raise the image size or leave it unset');
    }
    throw e;
  }
  const { rootFs, esp } = checkFilesystems(plan);
  if (rootFs.size < rootNeed) {
    const need = o.layout === null ? rootNeed : minimumDiskSize(layout, { [probeRoot.node]: rootNeed }, planOpts);
    throw new NoSpaceError(`the image size ${diskSize} bytes leaves ${rootFs.size} bytes for the root filesystem but the tree needs ${rootNeed}; the image needs ${need} bytes`,
      need, 'raise the image size or leave it unset');
  }
  return { plan, imageTree, ext4Opts, rootFs, ...(esp ? { esp } : {}), ...(bios ? { bios } : {}), ...(efi ? { efi } : {}), time };
}

function tempName(output: string): string {
  return `${output}.tmp-${randomBytes(4).toString('hex')}`;
}

export async function assembleImage(o: AssembleOptions): Promise<AssembleResult> {
  if (o.format !== 'raw') throw new UsageError(`image format '${o.format}' is not written by the assembler`, "assemble 'raw', then convert");
  const output = path.resolve(o.output);
  if (!fs.existsSync(path.dirname(output))) throw new UsageError(`the output directory ${path.dirname(output)} does not exist`);
  if (fs.existsSync(output) && !o.overwrite) {
    throw new UsageError(`the output ${output} already exists`, 'remove it, choose another name, or allow overwriting');
  }
  const report = (stage: string, done: number, total: number) => o.progress?.({ stage, done, total });
  const seed = o.seed ?? randomBytes(16).toString('hex');
  report('plan', 0, 1);
  const w = prepare(o, seed);
  report('plan', 1, 1);
  // grub images (BIOS and EFI made side by side), still before any output file exists.
  report('grub-mkimage', 0, 1);
  const early = earlyConfig(w.rootFs.uuid);
  const [core, bootx64] = await Promise.all([
    w.bios ? grubMkimage({ modules: w.bios, earlyConfig: early, prefix: '/boot/grub' }) : undefined,
    w.efi ? grubMkimage({ modules: w.efi, earlyConfig: early, prefix: '/boot/grub' }) : undefined,
  ]);
  const bootImg = w.bios ? readModuleFile(w.bios, 'boot.img') : undefined;
  report('grub-mkimage', 1, 1);

  const tmp = tempName(output);
  const dev = FileBlockDevice.create(tmp, w.plan.diskSize);
  let ok = false;
  try {
    if (w.plan.table) {
      report('partition', 0, 1);
      writePartitionTable(dev, w.plan.table);
      report('partition', 1, 1);
    }
    const root = new SliceBlockDevice(dev, w.rootFs.offset, w.rootFs.size);
    report('ext4', 0, w.rootFs.size);
    writeExt4(root, w.imageTree, { ...w.ext4Opts, size: w.rootFs.size }, (done: number, total: number) => report('ext4', done, total));
    report('ext4', w.rootFs.size, w.rootFs.size);
    if (w.esp) {
      report('fat', 0, 1);
      const part = new SliceBlockDevice(dev, w.esp.offset, w.esp.size);
      const content = bootx64 ? espTree(bootx64, w.time) : memoryTree([], w.time);
      writeFat(part, content, { label: w.esp.label, volumeId: fatVolumeId(w.esp.uuid), hiddenSectors: w.esp.offset / w.plan.sectorSize });
      report('fat', 1, 1);
    }
    if (core && bootImg && w.plan.table) {
      report('bootcode', 0, 1);
      installBiosBoot(dev, w.plan.table, bootImg, core);
      report('bootcode', 1, 1);
    }
    dev.close();
    if (o.overwrite) fs.renameSync(tmp, output);
    else {
      // link() never replaces an existing file: a racing writer of the same output makes this fail.
      fs.linkSync(tmp, output);
      fs.rmSync(tmp);
    }
    ok = true;
  } finally {
    dev.close();
    if (!ok) fs.rmSync(tmp, { force: true });
  }
  report('done', 1, 1);
  return { path: output, size: w.plan.diskSize, plan: w.plan };
}

export { EFI_BOOT_PATH };
