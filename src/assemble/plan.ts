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

export function prepareAssembly(o: AssembleOptions, seed: string): AssemblePlan {
  const layout = o.layout ?? loadLayout('bare');
  const time = seedTime(o.sourceDateEpoch, o.seed);
  const planOpts = { seed, ...(o.rootLabel !== undefined ? { rootLabel: o.rootLabel } : {}) };
  // UUIDs, labels and fstab do not depend on the disk size: plan once on a roomy disk to learn them.
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
  const grubDir = bootMount === '/boot' ? '/grub' : '/boot/grub';
  const espOf = (plan: LayoutPlan) => plan.filesystems.find((f) => isFat(f) && (f.mountPoint === '/boot/efi' ||
    plan.partitions.some((p) => p.filesystem === f && p.type === EFI_SYSTEM_GUID)));

  let bios: GrubModules | undefined;
  let efi: GrubModules | undefined;
  let grubCfg: string | undefined;
  if (o.bootloader) {
    if (!probe.table) throw new ConfigError('layout', 'the bootloader needs a partitioned disk but the layout has no partitioning', 'use the vm flavour with a block-device flavour');
    const kernel = newestKernel(o.tree);
    const grubDirs = o.hostGrubDir ?? '/usr/lib/grub';
    if (probe.table.label === 'mbr' || probe.table.partitions.some((p) => p.type === BIOS_BOOT_PARTITION_GUID)) {
      bios = findGrubModules(o.tree, 'i386-pc', `${grubDirs}/i386-pc`);
    }
    if (probe.table.partitions.some((p) => p.type === EFI_SYSTEM_GUID)) {
      if (!espOf(probe)) throw new ConfigError('layout', 'the EFI system partition has no vfat filesystem', "give the ESP 'mkfs: {type: vfat}'");
      efi = findGrubModules(o.tree, 'x86_64-efi', `${grubDirs}/x86_64-efi`);
    }
    checkGrubMkimage();
    // Paths as grub sees them: relative to the filesystem that holds /boot.
    const strip = (p: string) => (bootMount === '/boot' ? p.slice('/boot'.length) : p);
    grubCfg = grubConfig({
      kernel: { ...kernel, kernel: strip(kernel.kernel), initrd: kernel.initrd === undefined ? undefined : strip(kernel.initrd) },
      rootFsUuid: probeBoot.uuid, timeout: o.grubTimeout,
      // A label the command line cannot carry as one plain word (a space) is named by UUID there.
      rootArg: plainCmdlineWord(probeRoot.label) ? `LABEL=${probeRoot.label}` : `UUID=${probeRoot.uuid}`,
      ...(o.kernelCmdline !== undefined ? { cmdline: o.kernelCmdline } : {}),
    });
  }
  const additions = additionsTree({
    ...(probe.fstab ? { fstab: probe.fstab } : {}),
    mountPoints: mountPoints.filter((m) => m !== '/'),
    ...(grubCfg !== undefined ? { grubCfg } : {}),
    modules: [bios, efi].filter((m): m is GrubModules => m !== undefined),
    time,
  });
  const parts = splitTree(layerTree(o.tree, additions), mountPoints);
  const empty = memoryTree([], time);
  const ext4OptsOf = (f: PlannedFilesystem): Ext4Options => ({
    ...(f.opts.length ? parseMkfsOptions(f.opts) : {}),
    ...(f.mountPoint === '/' && o.mkfsOptions?.length ? parseMkfsOptions(o.mkfsOptions) : {}),
    label: f.label, uuid: f.uuid, seed: `${seed}:${f.node}`, timestamp: time.sec,
    ...(f.mountPoint === '/' && o.extraSize ? { extraSize: o.extraSize } : {}),
  });
  // hard: the least each ext4 filesystem can hold its files in. sizing: what the disk is sized
  // for when no size is given - DIB's rule (content / 0.6, journal) for the root filesystem.
  const hard: Record<string, number> = {};
  const sizing: Record<string, number> = {};
  for (const f of probe.filesystems) {
    if (f.type !== 'ext4') continue;
    const tree = parts.get(f.mountPoint ?? '') ?? empty;
    hard[f.node] = minimumSize(treeNeeds(tree), ext4OptsOf(f));
    sizing[f.node] = f.mountPoint === '/' ? Math.max(hard[f.node]!, ext4SizeFor(tree, ext4OptsOf(f))) : hard[f.node]!;
  }
  const diskFor = (needs: Record<string, number>) =>
    (o.layout === null ? alignUp(needs[probeRoot.node]!, 4096) : minimumDiskSize(layout, needs, planOpts));
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
  const rootFs = checkFilesystems(plan);
  for (const f of plan.filesystems) {
    const need = needs[f.node];
    if (need !== undefined && f.size < need) {
      const disk = diskFor(needs);
      throw new NoSpaceError(`the image size ${diskSize} bytes leaves ${f.size} bytes for the filesystem '${f.node}' (${f.mountPoint ?? 'not mounted'}) but its files need ${need}; the image needs ${disk} bytes`,
        disk, 'raise the image size or leave it unset');
    }
  }
  const esp = espOf(plan);
  const jobs: FsJob[] = plan.filesystems.map((f) => {
    const tree = parts.get(f.mountPoint ?? '') ?? empty;
    return f.type === 'ext4' ? { fs: f, tree, opts: ext4OptsOf(f) } : { fs: f, tree, isEsp: f === esp };
  });
  const bootFs = plan.filesystems.find((f) => f.mountPoint === bootMount)!;
  return { plan, jobs, rootFs, bootFs, grubDir, ...(bios ? { bios } : {}), ...(efi ? { efi } : {}), time };
}
