/**
 * The block-device layout planner: a DIB block-device YAML layout plus a disk size in, every
 * partition's sectors, every filesystem's offset, size, label and UUID, the mount order and
 * the /etc/fstab text out. Pure: no files, no processes; writing is a second step
 * (writePartitionTable, the filesystem writers).
 * Rules follow diskimage_builder/block_device: mkfs (label defaults to the node name, vfat
 * labels upper-cased, labels unique, at most ext2/3/4 16, swap 16, xfs 12, vfat 11
 * characters), blockdevice.py _merge_rootfs_params (the node named mkfs_root takes type,
 * options and label from the build: label 'cloudimg-rootfs', 'img-rootfs' for xfs), mount
 * (mount points sorted as strings give the mount order), cmd_writefstab (`LABEL=` lines in
 * mount order; swap gets 'sw 0 0').
 */
import { checkFstabText, fstabField } from './text-fields.js';
import { LayoutError, NoSpaceError } from '../errors.js';
import { makeGuid } from '../binary/guid.js';
import type { PartitionEntry, PartitionTable } from '../partition/table.js';
import { parseLayout, treeToGraph, validateGraph, type LayoutConfig, type MkfsNode } from './parse.js';
import { LayoutDoesNotFitError, planGptSectors, planMbrSectors, type SectorRange } from './tables.js';
import { gptTypeByGuid, resolveGptType } from '../partition/gpt-types.js';
import { formatSize } from './size.js';
import { SHIPPED_DOCUMENTS, SHIPPED_LAYOUTS } from './shipped/index.js';

export { parseLayout, treeToGraph, type LayoutConfig } from './parse.js';
export { LayoutDoesNotFitError } from './tables.js';

export interface PlannedFilesystem {
  /** The mkfs node's name (mkfs_root for the root filesystem). */
  node: string;
  type: string;
  label: string;
  uuid: string;
  opts: string[];
  mountPoint?: string;
  fstab?: { options: string; dumpFreq: number; fsckPassno: number; line: string };
  /** The partition it lives in; undefined for a filesystem on the whole image. */
  partitionNumber?: number;
  /** Byte offset and size in the image. */
  offset: number;
  size: number;
}

export interface PlannedPartition {
  number: number;
  /** The partition node's name; 'extended' for the MBR extended partition. */
  name: string;
  role: 'primary' | 'extended' | 'logical';
  firstLba: bigint;
  lastLba: bigint;
  /** As the table stores it: MBR '0x83', GPT type GUID. */
  type: string;
  /** As a person writes it: MBR '0x83', GPT sgdisk code 'EF00' (or the GUID if it has no code). */
  typeCode: string;
  guid?: string;
  flags: string[];
  filesystem?: PlannedFilesystem;
}

export interface LayoutPlan {
  imageName: string;
  diskSize: number;
  sectorSize: 512 | 4096;
  /** null: a bare filesystem on the whole image, no partition table. */
  table: PartitionTable | null;
  partitions: PlannedPartition[];
  filesystems: PlannedFilesystem[];
  /** Mount points in the order they are mounted ('none' for swap sorts last). */
  mountOrder: string[];
  /** /etc/fstab text, one line per mounted filesystem with an fstab node, in mount order. */
  fstab: string;
}

export interface PlanOptions {
  /** Bytes; used when the layout's local_loop gives no size (DIB: the layout's size wins). */
  diskSize?: number;
  /** Derive every GUID and UUID from this seed (reproducible builds); random otherwise. */
  seed?: string;
  rootLabel?: string;
  rootFsType?: string;
  rootFsOpts?: string[];
}

const LABEL_MAX: Readonly<Record<string, number>> = { ext2: 16, ext3: 16, ext4: 16, swap: 16, xfs: 12, vfat: 11 };
/** The filesystem types DIB's mkfs plugin knows (whether one is written is the assembler's question). */
const MKFS_TYPES: readonly string[] = ['ext2', 'ext3', 'ext4', 'xfs', 'vfat', 'fat', 'btrfs', 'swap'];

/** A shipped layout by name ('mbr', 'gpt', 'efi', 'bare'), or a YAML document. */
export function loadLayout(nameOrYaml: string): LayoutConfig {
  const key = nameOrYaml.trim();
  if (!Object.hasOwn(SHIPPED_LAYOUTS, key)) return parseLayout(nameOrYaml);
  // A shipped layout is parsed once per process; one with a ready document needs no YAML parser.
  let config = SHIPPED_PARSED.get(key);
  if (!config) {
    const doc = SHIPPED_DOCUMENTS[key];
    config = doc !== undefined ? validateGraph(treeToGraph(structuredClone(doc))) : parseLayout(SHIPPED_LAYOUTS[key]!);
    SHIPPED_PARSED.set(key, config);
  }
  return structuredClone(config);
}
const SHIPPED_PARSED = new Map<string, LayoutConfig>();

interface FsSettings { node: MkfsNode; type: string; label: string; uuid: string; opts: string[] }

function filesystemSettings(config: LayoutConfig, opts: PlanOptions): FsSettings[] {
  const labels = new Map<string, string>();
  return config.mkfs.map((node) => {
    const isRoot = node.name === 'mkfs_root';
    const type = node.type ?? opts.rootFsType ?? 'ext4';
    if (!MKFS_TYPES.includes(type)) {
      throw new LayoutError(node.name, `filesystem type '${type}' is not one mkfs knows${node.type === undefined ? ' (from --root-fs-type)' : ''}`, `use one of: ${MKFS_TYPES.join(', ')}`);
    }
    let label = node.label ?? (isRoot ? (opts.rootLabel ?? (type === 'xfs' ? 'img-rootfs' : 'cloudimg-rootfs')) : node.name);
    if (type === 'vfat' || type === 'fat') label = label.toUpperCase();
    checkFstabText(node.name, 'label', label);
    const max = LABEL_MAX[type === 'fat' ? 'vfat' : type];
    if (max !== undefined && label.length > max) {
      throw new LayoutError(node.name, `label '${label}' is ${label.length} characters, too long for ${type} (at most ${max})`,
        node.label === undefined ? `the label defaults to the node name: set a shorter 'label'${isRoot ? ' (or --root-label)' : ''}` : 'choose a shorter label');
    }
    const prev = labels.get(label);
    if (prev !== undefined) {
      throw new LayoutError(node.name, `filesystem label '${label}' is already used by '${prev}'`, 'labels identify filesystems in fstab and must be unique');
    }
    labels.set(label, node.name);
    return {
      node, type, label, uuid: node.uuid ?? makeGuid(opts.seed, `filesystem:${node.name}`),
      opts: node.opts ?? (isRoot ? (opts.rootFsOpts ?? []) : []),
    };
  });
}

function diskSizeOf(config: LayoutConfig, opts: PlanOptions): { diskSize: number; sectorSize: 512 | 4096 } {
  const sectorSize = config.image.blockSize;
  const diskSize = config.image.size ?? opts.diskSize;
  const name = config.image.name;
  if (diskSize === undefined) throw new LayoutError(name, 'no image size: the layout gives none and none was passed', 'give the size (--size 2GiB)');
  if (!Number.isSafeInteger(diskSize) || diskSize <= 0 || diskSize % sectorSize !== 0) {
    throw new LayoutError(name, `image size ${diskSize} bytes is not a whole number of ${sectorSize}-byte sectors`,
      `round it to a multiple of ${sectorSize} (sizes in MiB always are)`);
  }
  return { diskSize, sectorSize };
}

/** Plans the whole layout for one disk size. Throws LayoutError (LayoutDoesNotFitError when too small). */
export function planLayout(config: LayoutConfig, opts: PlanOptions = {}): LayoutPlan {
  const { diskSize, sectorSize } = diskSizeOf(config, opts);
  const fsSettings = filesystemSettings(config, opts);
  const parting = config.partitioning;
  let table: PartitionTable | null = null;
  const partitions: PlannedPartition[] = [];
  if (parting) {
    const ranges: SectorRange[] = parting.label === 'mbr'
      ? planMbrSectors(parting, diskSize, sectorSize)
      : planGptSectors(parting, diskSize, sectorSize);
    const byName = new Map(parting.partitions.map((p) => [p.name, p]));
    const entries: PartitionEntry[] = [];
    for (const r of ranges) {
      const node = r.node === undefined ? undefined : byName.get(r.node)!;
      const flags = node?.flags ?? [];
      let type: string;
      let typeCode: string;
      let guid: string | undefined;
      if (parting.label === 'mbr') {
        type = typeCode = node ? node.type : '0x0f';
      } else {
        type = resolveGptType(node!.type, node!.name);
        typeCode = gptTypeByGuid(type)?.code ?? node!.type;
        guid = makeGuid(opts.seed, `partition:${node!.name}`);
      }
      // DIB passes 'boot' to the MBR active flag only; sgdisk is given no attributes.
      const bootable = parting.label === 'mbr' && flags.includes('boot');
      entries.push({
        number: r.number, firstLba: r.firstLba, lastLba: r.lastLba, type, bootable,
        ...(guid ? { guid, name: node!.name, attributes: 0n } : {}),
        ...(r.ebrLba !== undefined ? { ebrLba: r.ebrLba } : {}),
      });
      partitions.push({
        number: r.number, name: node?.name ?? 'extended', role: r.role, firstLba: r.firstLba, lastLba: r.lastLba,
        type, typeCode, ...(guid ? { guid } : {}), flags: [...flags],
      });
    }
    const diskId = parting.label === 'gpt'
      ? makeGuid(opts.seed, 'disk')
      : `0x${makeGuid(opts.seed, 'disk-signature').slice(0, 8)}`;
    table = { label: parting.label, sectorSize, diskSize, diskId, partitions: entries };
  }

  const filesystems: PlannedFilesystem[] = fsSettings.map((s) => {
    const fs: PlannedFilesystem = { node: s.node.name, type: s.type, label: s.label, uuid: s.uuid, opts: s.opts, offset: 0, size: diskSize };
    if (s.node.base !== config.image.name) {
      const part = partitions.find((p) => p.name === s.node.base)!;
      fs.partitionNumber = part.number;
      fs.offset = Number(part.firstLba) * sectorSize;
      fs.size = Number(part.lastLba - part.firstLba + 1n) * sectorSize;
      part.filesystem = fs;
    }
    const mount = config.mounts.find((m) => m.base === s.node.name);
    if (mount) {
      fs.mountPoint = mount.mountPoint;
      const tab = config.fstabs.find((f) => f.base === mount.name);
      if (tab) {
        const swap = s.type === 'swap';
        const options = swap ? 'sw' : tab.options;
        const dumpFreq = swap ? 0 : tab.dumpFreq;
        const fsckPassno = swap ? 0 : tab.fsckPassno;
        fs.fstab = { options, dumpFreq, fsckPassno, line: `LABEL=${fstabField(s.label)} ${fstabField(mount.mountPoint)} ${s.type} ${options} ${dumpFreq} ${fsckPassno}` };
      }
    }
    return fs;
  });
  const mounted = filesystems.filter((f) => f.mountPoint !== undefined);
  const mountOrder = mounted.map((f) => f.mountPoint!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const fstab = mountOrder
    .flatMap((mp) => mounted.filter((f) => f.mountPoint === mp && f.fstab).map((f) => `${f.fstab!.line}\n`))
    .join('');
  return { imageName: config.image.name, diskSize, sectorSize, table, partitions, filesystems, mountOrder, fstab };
}

const MIB = 1024 * 1024;

/**
 * The smallest disk, in whole MiB, on which every filesystem named in `needs` (by mkfs node
 * name or mount point) gets at least that many bytes, honouring '%' sizes. A layout that fixes
 * its size returns that size, or throws NoSpaceError if it is too small.
 */
export function minimumDiskSize(config: LayoutConfig, needs: Record<string, number>, opts: Omit<PlanOptions, 'diskSize'> = {}): number {
  const want = new Map<string, number>();
  for (const [key, bytes] of Object.entries(needs)) {
    const fs = config.mkfs.find((m) => m.name === key) ?? config.mkfs.find((m) => config.mounts.some((mt) => mt.base === m.name && mt.mountPoint === key));
    if (!fs) throw new LayoutError(key, 'a size is needed for it but no mkfs node or mount point of the layout has that name', `the filesystems are: ${config.mkfs.map((m) => m.name).join(', ') || '(none)'}`);
    want.set(fs.name, Math.max(want.get(fs.name) ?? 0, bytes));
  }
  const shortfall = (size: number): number => {
    let plan: LayoutPlan;
    try {
      plan = planLayout(config, { ...opts, seed: opts.seed ?? 'minimum-size', diskSize: size });
    } catch (e) {
      if (e instanceof LayoutDoesNotFitError) return Math.max(1, e.needed);
      throw e;
    }
    let short = 0;
    for (const f of plan.filesystems) short = Math.max(short, (want.get(f.node) ?? 0) - f.size);
    return short;
  };
  if (config.image.size !== undefined) {
    const short = shortfall(config.image.size);
    if (short > 0) {
      throw new NoSpaceError(`layout node '${config.image.name}': the layout fixes the image at ${formatSize(config.image.size)} but its filesystems need ${formatSize(short)} more`,
        short, "raise the local_loop 'size' or remove it");
    }
    return config.image.size;
  }
  // Grow until it fits, then bisect down to the smallest whole MiB that fits.
  let lo = 0;
  let hi = Math.max(4, Math.ceil(([...want.values()].reduce((a, b) => a + b, 0) + 4 * MIB) / MIB));
  while (shortfall(hi * MIB) > 0) {
    lo = hi;
    hi *= 2;
    if (hi * MIB > 2 ** 52) throw new LayoutError(config.image.name, 'no disk size up to 4 PiB fits these needs');
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (shortfall(mid * MIB) > 0) lo = mid;
    else hi = mid;
  }
  return hi * MIB;
}
