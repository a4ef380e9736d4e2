/**
 * The assembler's planning step: everything that can be known before a byte is written -
 * the layout plan at its final size, the tree of every filesystem (split by mount point, with
 * the bootloader's additions layered in), ext4 options, grub's module sources and where grub
 * finds /boot. Throws (InputError, ConfigError, NoSpaceError, LayoutError) before any file exists.
 */
import { plainCmdlineWord } from '../layout/text-fields.js';
import { grubConfig, newestKernel } from '../boot/grub-cfg.js';
import { memoryTree } from '../boot/memory-tree.js';
import { ConfigError, NoSpaceError } from '../errors.js';
import { ext4SizeFor, minimumSize, parseMkfsOptions, treeNeeds, type Ext4Options } from '../fs/ext4/index.js';
import { resolveGptType } from '../partition/gpt-types.js';
import { loadLayout, minimumDiskSize, planLayout, LayoutDoesNotFitError, type LayoutPlan, type PlannedFilesystem } from '../layout/plan.js';
import type { FileTree, Timestamp } from '../tree/model.js';
import { additionsTree, layerTree } from './tree.js';
import { owningMount, splitTree } from './split.js';
import { checkGrubMkimage, findGrubModules, type GrubModules } from './grub-mkimage.js';
import type { AssembleOptions } from './assemble.js';
import { alignUp } from '../binary/align.js';

const EFI_SYSTEM_GUID = resolveGptType('esp');
const BIOS_BOOT_PARTITION_GUID = resolveGptType('bios-boot');

export interface FsJob {
  fs: PlannedFilesystem;
  tree: FileTree;
  /** ext4 only. */
  opts?: Ext4Options;
  /** vfat only: this is the EFI system partition (gets \EFI\BOOT\BOOTX64.EFI). */
  isEsp?: boolean;
}

export interface AssemblePlan {
  plan: LayoutPlan;
  jobs: FsJob[];
  rootFs: PlannedFilesystem;
  /** The filesystem holding /boot, and grub's directory inside it ('/boot/grub' or '/grub'). */
  bootFs: PlannedFilesystem;
  grubDir: string;
  bios?: GrubModules;
  efi?: GrubModules;
  time: Timestamp;
}

/**
 * The time stamped on everything the assembler invents (superblock times, lost+found, the ESP's
 * files): SOURCE_DATE_EPOCH when given, else a bare-digits seed (the assembler's own API), else now.
 */
export function seedTime(sourceDateEpoch: number | undefined, seed?: string): Timestamp {
  if (sourceDateEpoch !== undefined) return { sec: sourceDateEpoch, nsec: 0 };
  if (seed !== undefined && /^\d+$/.test(seed)) return { sec: Number(seed), nsec: 0 };
  return { sec: Math.floor(Date.now() / 1000), nsec: 0 };
}

const isFat = (f: PlannedFilesystem) => f.type === 'vfat' || f.type === 'fat';

function checkFilesystems(plan: LayoutPlan): PlannedFilesystem {
  let rootFs: PlannedFilesystem | undefined;
  for (const f of plan.filesystems) {
    if (f.type !== 'ext4' && !isFat(f)) {
      throw new ConfigError(`layout node '${f.node}'`, `filesystem type ${f.type} is not written by the assembler`, "use 'type: ext4' (or vfat for an EFI partition)");
    }
    if (isFat(f) && plan.sectorSize !== 512) {
      throw new ConfigError(`layout node '${f.node}'`, `the FAT writer makes 512-byte-sector volumes but the disk has ${plan.sectorSize}-byte sectors`,
        "use 'block_size: 512' for layouts with an EFI partition");
    }
    if (f.mountPoint === '/') {
      if (f.type !== 'ext4') throw new ConfigError(`layout node '${f.node}'`, `the root filesystem type is ${f.type}; only ext4 is written`, "use 'type: ext4'");
      rootFs = f;
    }
  }
  if (!rootFs) throw new ConfigError('layout', 'no filesystem is mounted at /', 'add a mkfs node with mount_point: /');
  return rootFs;
}

const mountedOf = (plan: LayoutPlan) => plan.filesystems.filter((f) => f.mountPoint !== undefined && f.mountPoint !== 'none');

/** The layout's EFI system partition's filesystem: the vfat at /boot/efi, or on a partition of the ESP type. */
function espOf(plan: LayoutPlan): PlannedFilesystem | undefined {
  return plan.filesystems.find((f) => isFat(f) && (f.mountPoint === '/boot/efi' ||
    plan.partitions.some((p) => p.filesystem === f && p.type === EFI_SYSTEM_GUID)));
}

/** The layout planned once on a roomy disk: what does not depend on the disk size, and where /boot and grub live. */
interface Probe {
  probe: LayoutPlan;
  probeRoot: PlannedFilesystem;
  /** The filesystem holding /boot (ext4) and its mount point ('/' or '/boot'). */
  probeBoot: PlannedFilesystem;
  bootMount: string;
  mountPoints: string[];
  grubDir: string;
}

/** UUIDs, labels and fstab do not depend on the disk size: plans once on a roomy disk to learn them. */
function probeLayout(layout: NonNullable<AssembleOptions['layout']>, planOpts: { seed: string; rootLabel?: string }): Probe {
  const probe = planLayout(layout, { ...planOpts, diskSize: layout.image.size ?? 1024 ** 4 });
  const probeRoot = checkFilesystems(probe);
  const mounted = mountedOf(probe);
  const mountPoints = mounted.map((f) => f.mountPoint!);
  const bootMount = owningMount('/boot', mountPoints);
  if (bootMount !== '/' && bootMount !== '/boot') {
    throw new ConfigError('layout', `/boot would live on the filesystem mounted at ${bootMount}`, 'mount a filesystem at /boot or keep /boot on /');
  }
  const probeBoot = mounted.find((f) => f.mountPoint === bootMount)!;
  if (probeBoot.type !== 'ext4') throw new ConfigError(`layout node '${probeBoot.node}'`, `/boot must be on ext4, not ${probeBoot.type}`);
  return { probe, probeRoot, probeBoot, bootMount, mountPoints, grubDir: bootMount === '/boot' ? '/grub' : '/boot/grub' };
}

/** With the bootloader: grub's module sources (BIOS for MBR or a BIOS boot partition, EFI for an ESP) and grub.cfg. */
function planBootloader(o: AssembleOptions, p: Probe): { bios?: GrubModules; efi?: GrubModules; grubCfg?: string } {
  const { probe } = p;
  if (!o.bootloader) return {};
  if (!probe.table) throw new ConfigError('layout', 'the bootloader needs a partitioned disk but the layout has no partitioning', 'use the vm flavour with a block-device flavour');
  let bios: GrubModules | undefined;
  let efi: GrubModules | undefined;
  const kernel = newestKernel(o.tree);
  const grubDirs = o.hostGrubDir ?? '/usr/lib/grub';
  if (probe.table.label === 'mbr' || probe.table.partitions.some((q) => q.type === BIOS_BOOT_PARTITION_GUID)) {
    bios = findGrubModules(o.tree, 'i386-pc', `${grubDirs}/i386-pc`);
  }
  if (probe.table.partitions.some((q) => q.type === EFI_SYSTEM_GUID)) {
    if (!espOf(probe)) throw new ConfigError('layout', 'the EFI system partition has no vfat filesystem', "give the ESP 'mkfs: {type: vfat}'");
    efi = findGrubModules(o.tree, 'x86_64-efi', `${grubDirs}/x86_64-efi`);
  }
  checkGrubMkimage();
  // Paths as grub sees them: relative to the filesystem that holds /boot.
  const strip = (path: string) => (p.bootMount === '/boot' ? path.slice('/boot'.length) : path);
  const grubCfg = grubConfig({
    kernel: { ...kernel, kernel: strip(kernel.kernel), initrd: kernel.initrd === undefined ? undefined : strip(kernel.initrd) },
    rootFsUuid: p.probeBoot.uuid, timeout: o.grubTimeout,
    // A label the command line cannot carry as one plain word (a space) is named by UUID there.
    rootArg: plainCmdlineWord(p.probeRoot.label) ? `LABEL=${p.probeRoot.label}` : `UUID=${p.probeRoot.uuid}`,
    ...(o.kernelCmdline !== undefined ? { cmdline: o.kernelCmdline } : {}),
  });
  return { ...(bios ? { bios } : {}), ...(efi ? { efi } : {}), grubCfg };
}

/**
 * What each ext4 filesystem needs. hard: the least it can hold its files in. sizing: what the
 * disk is sized for when no size is given - DIB's rule (content / 0.6, journal) for the root filesystem.
 */
function ext4Needs(probe: LayoutPlan, treeOf: (f: PlannedFilesystem) => FileTree, optsOf: (f: PlannedFilesystem) => Ext4Options): { hard: Record<string, number>; sizing: Record<string, number> } {
  const hard: Record<string, number> = {};
  const sizing: Record<string, number> = {};
  for (const f of probe.filesystems) {
    if (f.type !== 'ext4') continue;
    const tree = treeOf(f);
    hard[f.node] = minimumSize(treeNeeds(tree), optsOf(f));
    sizing[f.node] = f.mountPoint === '/' ? Math.max(hard[f.node]!, ext4SizeFor(tree, optsOf(f))) : hard[f.node]!;
  }
  return { hard, sizing };
}

/** The layout planned at its final size (the given one, or the least that holds `sizing`); every ext4 filesystem checked against its need. */
function planFinalLayout(o: AssembleOptions, layout: NonNullable<AssembleOptions['layout']>, planOpts: { seed: string; rootLabel?: string }, rootNode: string,
  { hard, sizing }: { hard: Record<string, number>; sizing: Record<string, number> }): LayoutPlan {
  const diskFor = (needs: Record<string, number>) =>
    (o.layout === null ? alignUp(needs[rootNode]!, 4096) : minimumDiskSize(layout, needs, planOpts));
  const needs = o.imageSize === undefined ? sizing : hard;
  const diskSize = o.imageSize ?? diskFor(sizing);
  let plan: LayoutPlan;
  try {
    plan = planLayout(layout, { ...planOpts, diskSize });
  } catch (e) {
    if (e instanceof LayoutDoesNotFitError && o.imageSize !== undefined) {
      const need = diskFor(hard);
      throw new NoSpaceError(`the image size ${o.imageSize} bytes is too small for the layout: it needs ${need} bytes`, need, 'raise the image size or leave it unset');
    }
    throw e;
  }
  checkFilesystems(plan);
  for (const f of plan.filesystems) {
    const need = needs[f.node];
    if (need !== undefined && f.size < need) {
      const disk = diskFor(needs);
      throw new NoSpaceError(`the image size ${diskSize} bytes leaves ${f.size} bytes for the filesystem '${f.node}' (${f.mountPoint ?? 'not mounted'}) but its files need ${need}; the image needs ${disk} bytes`,
        disk, 'raise the image size or leave it unset');
    }
  }
  return plan;
}

/** Plans the whole assembly: the probe, the bootloader's parts, the trees by mount point, the sizes, the final layout and one job per filesystem. */
export function prepareAssembly(o: AssembleOptions, seed: string): AssemblePlan {
  const layout = o.layout ?? loadLayout('bare');
  const time = seedTime(o.sourceDateEpoch, o.seed);
  const planOpts = { seed, ...(o.rootLabel !== undefined ? { rootLabel: o.rootLabel } : {}) };
  const p = probeLayout(layout, planOpts);
  const { bios, efi, grubCfg } = planBootloader(o, p);
  const additions = additionsTree({
    ...(p.probe.fstab ? { fstab: p.probe.fstab } : {}),
    mountPoints: p.mountPoints.filter((m) => m !== '/'),
    ...(grubCfg !== undefined ? { grubCfg } : {}),
    modules: [bios, efi].filter((m): m is GrubModules => m !== undefined),
    time,
  });
  const parts = splitTree(layerTree(o.tree, additions), p.mountPoints);
  const empty = memoryTree([], time);
  const treeOf = (f: PlannedFilesystem): FileTree => parts.get(f.mountPoint ?? '') ?? empty;
  const ext4OptsOf = (f: PlannedFilesystem): Ext4Options => ({
    ...(f.opts.length ? parseMkfsOptions(f.opts) : {}),
    ...(f.mountPoint === '/' && o.mkfsOptions?.length ? parseMkfsOptions(o.mkfsOptions) : {}),
    label: f.label, uuid: f.uuid, seed: `${seed}:${f.node}`, timestamp: time.sec,
    ...(f.mountPoint === '/' && o.extraSize ? { extraSize: o.extraSize } : {}),
  });
  const plan = planFinalLayout(o, layout, planOpts, p.probeRoot.node, ext4Needs(p.probe, treeOf, ext4OptsOf));
  const rootFs = checkFilesystems(plan);
  const esp = espOf(plan);
  const jobs: FsJob[] = plan.filesystems.map((f) =>
    (f.type === 'ext4' ? { fs: f, tree: treeOf(f), opts: ext4OptsOf(f) } : { fs: f, tree: treeOf(f), isEsp: f === esp }));
  const bootFs = plan.filesystems.find((f) => f.mountPoint === p.bootMount)!;
  return { plan, jobs, rootFs, bootFs, grubDir: p.grubDir, ...(bios ? { bios } : {}), ...(efi ? { efi } : {}), time };
}
