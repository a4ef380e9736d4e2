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
import { FileBlockDevice, publishFile } from '../binary/file-device.js';
import type { ChecksumKind } from '../binary/file-sink.js';
import { SliceBlockDevice, type BlockDevice } from '../binary/block-device.js';
import { installBiosBoot } from '../boot/bios.js';
import { espTree, EFI_BOOT_PATH } from '../boot/efi.js';
import { earlyConfig } from '../boot/grub-cfg.js';
import { ConfigError, UsageError } from '../errors.js';
import { writeExt4 } from '../fs/ext4/index.js';
import { fatVolumeId, planFat, writeFatPlan, type FatPlan } from '../fs/fat/index.js';
import { writePartitionTable } from '../partition/index.js';
import type { LayoutConfig, LayoutPlan } from '../layout/plan.js';
import type { FileTree } from '../tree/model.js';
import { prepareAssembly, type AssemblePlan, type FsJob } from './plan.js';
import { clampTimes, layerTree } from './tree.js';
import { grubMkimage, readModuleFile } from './grub-mkimage.js';
import { openDirectQcow2, tempName, writeContainers, type ContainerJob, type ContainerSettings, type ContainerType } from './containers.js';

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
  /** Seconds since 1970 stamped on everything the assembler invents (SOURCE_DATE_EPOCH); default: now. */
  sourceDateEpoch?: number;
  format: 'raw';
  /**
   * The outputs to write (containers.ts), each published at its path only when all are done;
   * without it, the raw image goes to `output`. With it, `output` only names the raw scratch file.
   */
  containers?: ContainerJob[];
  /** Compress qcow2 clusters (default true; DIB's -u turns it off). */
  compress?: boolean;
  /** Container settings (DIB's --qemu-img-options): qcow2 compression type, compat, cluster size; vhd subformat. */
  containerSettings?: ContainerSettings;
  /** Checksums of each output, made while it is written. */
  checksums?: ChecksumKind[];
  /** Replace an existing output; by default an existing output is an error. */
  overwrite?: boolean;
  progress?: (ev: AssembleProgress) => void;
  /** Folder for grub-mkimage's scratch files (default the system temp folder). */
  scratchDir?: string;
  /** Where the host's grub platform directories are, used when the tree has none (default /usr/lib/grub). */
  hostGrubDir?: string;
}

export interface AssembleResult {
  path: string;
  size: number;
  plan: LayoutPlan;
  /** With `containers`: each output, published, with its checksums. */
  outputs?: { type: ContainerType; path: string; size: number; checksums: Partial<Record<ChecksumKind, string>>; checksumMode: string }[];
}

export async function assembleImage(o: AssembleOptions): Promise<AssembleResult> {
  if (o.format !== 'raw') throw new UsageError(`image format '${o.format}' is not written by the assembler`, "assemble 'raw', then convert");
  const output = path.resolve(o.output);
  for (const f of o.containers ? o.containers.map((c) => path.resolve(c.path)) : [output]) {
    if (!fs.existsSync(path.dirname(f))) throw new ConfigError('output', `the folder ${path.dirname(f)} does not exist`, 'create it first');
    if (fs.existsSync(f) && !o.overwrite) throw new ConfigError('output', `${f} already exists`, 'remove it, choose another name, or allow overwriting');
  }
  const report = (stage: string, done: number, total: number) => o.progress?.({ stage, done, total });
  const seed = o.seed ?? randomBytes(16).toString('hex');
  if (o.sourceDateEpoch !== undefined) clampTimes(o.tree, o.sourceDateEpoch);
  report('plan', 0, 1);
  const w = prepareAssembly(o, seed);
  report('plan', 1, 1);
  // grub images (BIOS and EFI made side by side), still before any output file exists.
  report('grub-mkimage', 0, 1);
  const early = earlyConfig(w.bootFs.uuid, w.grubDir);
  const scratch = o.scratchDir !== undefined ? { scratchDir: o.scratchDir } : {};
  const [core, bootx64] = await Promise.all([
    w.bios ? grubMkimage({ modules: w.bios, earlyConfig: early, prefix: w.grubDir, ...scratch }) : undefined,
    w.efi ? grubMkimage({ modules: w.efi, earlyConfig: early, prefix: w.grubDir, ...scratch }) : undefined,
  ]);
  const bootImg = w.bios ? readModuleFile(w.bios, 'boot.img') : undefined;
  report('grub-mkimage', 1, 1);
  // FAT volumes are planned now too, so that "does not fit" is reported before the file exists.
  const fats = new Map<FsJob, { tree: FileTree; plan: FatPlan }>();
  for (const job of w.jobs) {
    if (job.opts) continue;
    const tree = job.isEsp && bootx64 ? layerTree(job.tree, espTree(bootx64, w.time)) : job.tree;
    fats.set(job, { tree, plan: planFat(tree, { size: job.fs.size, label: job.fs.label, volumeId: fatVolumeId(job.fs.uuid),
      hiddenSectors: job.fs.offset / w.plan.sectorSize }) });
  }

  // An uncompressed qcow2 alone is written as the image is assembled (no raw file: containers.ts).
  const only = o.containers?.length === 1 ? o.containers[0]! : undefined;
  if (only?.type === 'qcow2' && o.compress === false) {
    const direct = openDirectQcow2(path.resolve(only.path), w.plan.diskSize, o.checksums ?? [], o.containerSettings);
    let done = false;
    try {
      writeImage(direct.dev, w, { core, bootImg, fats }, report);
      const r = direct.finish();
      publishFile(r.tmp, r.path, { overwrite: o.overwrite === true });
      done = true;
      report('done', 1, 1);
      return { path: r.path, size: r.size, plan: w.plan, outputs: [{ type: 'qcow2', path: r.path, size: r.size, checksums: r.checksums, checksumMode: r.checksumMode }] };
    } finally {
      if (!done) direct.abort();
    }
  }

  const tmp = tempName(output);
  const dev = FileBlockDevice.create(tmp, w.plan.diskSize);
  let ok = false;
  try {
    writeImage(dev, w, { core, bootImg, fats }, report);
    if (o.containers) {
      const outputs = await publishContainers(dev, tmp, o, seed, w.time.sec, report);
      ok = true;
      report('done', 1, 1);
      return { path: outputs[0]!.path, size: outputs[0]!.size, plan: w.plan, outputs };
    }
    // On disk before it gets its name: a crash must not leave a half-written image under it.
    // Flush-behind (file-device.ts) has written most of it out already.
    dev.sync();
    dev.close();
    publishFile(tmp, output, { overwrite: o.overwrite === true });
    ok = true;
  } finally {
    dev.close();
    if (!ok) fs.rmSync(tmp, { force: true });
  }
  report('done', 1, 1);
  return { path: output, size: w.plan.diskSize, plan: w.plan };
}

/** The image's contents, in order: partition table, filesystems, boot code. */
function writeImage(dev: BlockDevice, w: AssemblePlan, parts: { core: Uint8Array | undefined; bootImg: Uint8Array | undefined; fats: Map<FsJob, { tree: FileTree; plan: FatPlan }> },
  report: (stage: string, done: number, total: number) => void): void {
  const { core, bootImg, fats } = parts;
  if (w.plan.table) {
    report('partition', 0, 1);
    writePartitionTable(dev, w.plan.table);
    report('partition', 1, 1);
  }
  for (const job of w.jobs) {
    const part = new SliceBlockDevice(dev, job.fs.offset, job.fs.size);
    if (job.opts) {
      report('ext4', 0, job.fs.size);
      writeExt4(part, job.tree, { ...job.opts, size: job.fs.size }, (done: number, total: number) => report('ext4', done, total));
      report('ext4', job.fs.size, job.fs.size);
    } else {
      report('fat', 0, 1);
      const f = fats.get(job)!;
      writeFatPlan(part, f.tree, f.plan);
      report('fat', 1, 1);
    }
  }
  if (core && bootImg && w.plan.table) {
    report('bootcode', 0, 1);
    installBiosBoot(dev, w.plan.table, bootImg, core);
    report('bootcode', 1, 1);
  }
}

/** Writes every container from the finished raw image, then publishes them all (or none). */
async function publishContainers(dev: FileBlockDevice, rawTmp: string, o: AssembleOptions, seed: string, time: number,
  report: (stage: string, done: number, total: number) => void): Promise<NonNullable<AssembleResult['outputs']>> {
  const jobs = o.containers!.map((c) => ({ ...c, path: path.resolve(c.path) }));
  const results = await writeContainers(dev, rawTmp, jobs, {
    compress: o.compress ?? true, checksums: o.checksums ?? [], seed, time, tree: o.tree,
    ...o.containerSettings, progress: report,
  });
  const published: string[] = [];
  try {
    if (jobs.some((j) => j.type === 'raw')) dev.sync(); // the containers were synced by FileSink.finish
    dev.close();
    for (const r of results) {
      publishFile(r.tmp, r.path, { overwrite: o.overwrite === true });
      published.push(r.path);
    }
  } catch (e) {
    for (const r of results) if (r.tmp !== rawTmp) fs.rmSync(r.tmp, { force: true });
    if (!o.overwrite) for (const p of published) fs.rmSync(p, { force: true });
    throw e;
  }
  if (!jobs.some((j) => j.type === 'raw')) fs.rmSync(rawTmp, { force: true });
  return results.map(({ type, path: p, size, checksums, checksumMode }) => ({ type, path: p, size, checksums, checksumMode }));
}

export { EFI_BOOT_PATH };
