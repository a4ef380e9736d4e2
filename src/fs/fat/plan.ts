/**
 * Planning a FAT16/FAT32 volume from a FileTree: the geometry (Microsoft FAT spec v1.03
 * section 3.5 "Determination of FAT type", the cluster-size table mkfs.fat also follows) and
 * where every directory and file goes. Pure: no bytes are written here.
 *
 * Type choice matches mkfs.fat 4.2 (measured): FAT32 from 512 MiB up, FAT16 below; the
 * data area is aligned to the cluster size by growing the reserved area, as mkfs.fat does.
 */
import { ConfigError, InputError, NoSpaceError } from '../../errors.js';
import type { FileTree, TreeEntry } from '../../tree/model.js';
import { baseName, parentOf } from '../../tree/model.js';
import { checkLongName, longNameEntries, makeShortName } from './names.js';
import { DIR_ENTRY_SIZE, SECTOR } from './structs.js';

export type FatType = 16 | 32;

export interface FatOptions {
  /** Size of the volume in bytes (the partition). */
  size: number;
  /** Volume label, up to 11 characters (stored upper case). */
  label?: string;
  /** The 32-bit volume id (blkid shows it as XXXX-XXXX). */
  volumeId: number;
  /** Force a FAT type; by default chosen from the size as mkfs.fat does. */
  fatType?: FatType;
  /** Sectors before the volume on its disk (the partition's start LBA), recorded in the BPB. */
  hiddenSectors?: number;
}

export interface FatGeometry {
  fatType: FatType;
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  numFats: 2;
  fatSectors: number;
  /** FAT16: fixed root directory entries; FAT32: 0. */
  rootEntries: number;
  rootDirSectors: number;
  /** First sector of cluster 2. */
  dataStart: number;
  clusterCount: number;
}

export const FAT32_MIN_SECTORS = 1_048_576; // 512 MiB, where mkfs.fat switches to FAT32
const FAT16_MIN_CLUSTERS = 4085;
const FAT32_MIN_CLUSTERS = 65525;

/** Sectors per cluster by volume size (spec section 3.5 tables). */
function clusterSectors(type: FatType, total: number): number {
  if (type === 16) {
    if (total <= 32_680) return 2;
    if (total <= 262_144) return 4;
    if (total <= 524_288) return 8;
    if (total <= 1_048_576) return 16;
    if (total <= 2_097_152) return 32;
    return 64;
  }
  if (total <= 16_777_216) return 8;
  if (total <= 33_554_432) return 16;
  if (total <= 67_108_864) return 32;
  return 64;
}

export function planGeometry(size: number, fatType?: FatType): FatGeometry {
  const totalSectors = Math.floor(size / SECTOR);
  const type: FatType = fatType ?? (totalSectors >= FAT32_MIN_SECTORS ? 32 : 16);
  const spc = clusterSectors(type, totalSectors);
  const rootEntries = type === 16 ? 512 : 0;
  const rootDirSectors = (rootEntries * DIR_ENTRY_SIZE) / SECTOR;
  const entryBytes = type === 16 ? 2 : 4;
  let reserved = type === 32 ? 32 : 1;
  let fatSectors = 1;
  let clusters = 0;
  for (;;) {
    clusters = Math.floor((totalSectors - reserved - 2 * fatSectors - rootDirSectors) / spc);
    const need = Math.ceil(((clusters + 2) * entryBytes) / SECTOR);
    if (need <= fatSectors) break;
    fatSectors = need;
  }
  const unaligned = reserved + 2 * fatSectors + rootDirSectors;
  reserved += (spc - (unaligned % spc)) % spc;
  const dataStart = reserved + 2 * fatSectors + rootDirSectors;
  clusters = Math.floor((totalSectors - dataStart) / spc);
  const min = type === 16 ? FAT16_MIN_CLUSTERS : FAT32_MIN_CLUSTERS;
  if (clusters < min || (type === 16 && clusters >= FAT32_MIN_CLUSTERS)) {
    throw new NoSpaceError(
      `FAT${type}: a volume of ${size} bytes has ${clusters} clusters of ${spc * SECTOR} bytes; FAT${type} needs ` +
        (type === 16 ? `${FAT16_MIN_CLUSTERS} to ${FAT32_MIN_CLUSTERS - 1}` : `at least ${FAT32_MIN_CLUSTERS}`),
      type === 16 ? 5 * 1024 * 1024 : 33 * 1024 * 1024,
      type === 16 ? 'give the partition at least 5 MiB' : 'use FAT16 for volumes below 512 MiB (leave the type unset)',
    );
  }
  return { fatType: type, totalSectors, sectorsPerCluster: spc, reservedSectors: reserved, numFats: 2, fatSectors,
    rootEntries, rootDirSectors, dataStart, clusterCount: clusters };
}

/** One entry of the tree as it lands in its directory. */
export interface FatNode {
  entry: TreeEntry;
  /** The raw directory-entry records (long-name pieces, then the short entry's name) for its parent. */
  short11: Uint8Array;
  longEntries: Uint8Array[];
  /** First cluster, 0 for empty files. */
  firstCluster: number;
  clusters: number;
}

export interface FatDir {
  path: string;
  /** First cluster of its entries; 0 for the FAT16 root (fixed region). */
  firstCluster: number;
  clusters: number;
  children: FatNode[];
}

export interface FatPlan {
  geometry: FatGeometry;
  label: string;
  volumeId: number;
  hiddenSectors: number;
  dirs: FatDir[];
  /** Files with content, in allocation (= tree) order. */
  files: FatNode[];
  /** Next free cluster after everything allocated. */
  nextFree: number;
}

const LABEL_OK = /^[A-Z0-9 $%'\-_@~`!(){}^#&]{1,11}$/;

export function checkLabel(label: string): string {
  const up = label.toUpperCase();
  if (!LABEL_OK.test(up)) {
    throw new ConfigError('FAT label', `'${label}' is not a FAT volume label`, 'use at most 11 letters, digits, spaces or _ - characters');
  }
  return up;
}

/** Parses a vfat UUID as blkid prints it ("ABCD-1234") or takes the first 8 hex digits of a UUID. */
export function fatVolumeId(uuid: string): number {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{8,32}$/.test(hex)) {
    throw new ConfigError('FAT volume id', `'${uuid}' is neither XXXX-XXXX nor a UUID`);
  }
  return Number.parseInt(hex.slice(0, 8), 16);
}

export function formatFatVolumeId(id: number): string {
  const h = id.toString(16).toUpperCase().padStart(8, '0');
  return `${h.slice(0, 4)}-${h.slice(4)}`;
}

export function planFat(tree: FileTree, opts: FatOptions): FatPlan {
  const geometry = planGeometry(opts.size, opts.fatType);
  const clusterBytes = geometry.sectorsPerCluster * SECTOR;
  const label = opts.label ? checkLabel(opts.label) : '';
  const dirs = new Map<string, FatDir>();
  const order: FatDir[] = [];
  const taken = new Map<string, Set<string>>();
  const files: FatNode[] = [];
  const root: FatDir = { path: '/', firstCluster: 0, clusters: 0, children: [] };
  dirs.set('/', root);
  order.push(root);
  taken.set('/', new Set());
  for (const entry of tree.entries) {
    if (entry.path === '/') continue;
    if (entry.type !== 'file' && entry.type !== 'dir') {
      throw new InputError(`FAT: '${entry.path}' is a ${entry.type}; FAT stores only files and directories`,
        'replace it with a regular file in the tree for the EFI partition');
    }
    const name = baseName(entry.path);
    checkLongName(name, entry.path);
    const parent = dirs.get(parentOf(entry.path));
    if (!parent) throw new InputError(`FAT: the parent of '${entry.path}' is not a directory in the tree`);
    const short = makeShortName(name, taken.get(parent.path)!);
    const node: FatNode = { entry, short11: short.bytes, longEntries: short.needsLong ? longNameEntries(name, short.bytes) : [],
      firstCluster: 0, clusters: 0 };
    parent.children.push(node);
    if (entry.type === 'dir') {
      const d: FatDir = { path: entry.path, firstCluster: 0, clusters: 0, children: [] };
      dirs.set(entry.path, d);
      order.push(d);
      taken.set(entry.path, new Set());
    } else if (entry.size > 0) {
      files.push(node);
    }
  }
  // Entries each directory needs, then allocate clusters contiguously: directories first
  // (they are small and read first), then file data in tree order.
  let next = 2;
  const nodeOf = new Map<string, FatNode>();
  for (const d of order) for (const c of d.children) nodeOf.set(c.entry.path, c);
  for (const d of order) {
    const records = d.children.reduce((n, c) => n + 1 + c.longEntries.length, 0);
    if (d.path === '/' && geometry.fatType === 16) {
      const needed = records + (label ? 1 : 0);
      if (needed > geometry.rootEntries) {
        throw new NoSpaceError(`FAT16: the root directory needs ${needed} entries but holds ${geometry.rootEntries}`, needed * DIR_ENTRY_SIZE,
          'put the files in a subdirectory or use a larger (FAT32) partition');
      }
      continue;
    }
    const extra = d.path === '/' ? (label ? 1 : 0) : 2;
    d.clusters = Math.max(1, Math.ceil(((records + extra) * DIR_ENTRY_SIZE) / clusterBytes));
    d.firstCluster = next;
    next += d.clusters;
    const n = nodeOf.get(d.path);
    if (n) {
      n.firstCluster = d.firstCluster;
      n.clusters = d.clusters;
    }
  }
  for (const f of files) {
    f.clusters = Math.ceil(f.entry.size / clusterBytes);
    f.firstCluster = next;
    next += f.clusters;
  }
  const used = next - 2;
  if (used > geometry.clusterCount) {
    throw new NoSpaceError(
      `FAT${geometry.fatType}: the files need ${used} clusters (${used * clusterBytes} bytes) but the volume of ${opts.size} bytes has ${geometry.clusterCount}`,
      used * clusterBytes + geometry.dataStart * SECTOR,
      'make the EFI partition larger in the layout',
    );
  }
  return { geometry, label, volumeId: opts.volumeId >>> 0, hiddenSectors: opts.hiddenSectors ?? 0, dirs: order, files, nextFree: next };
}
