/**
 * Writes a planned FAT16/FAT32 volume onto a block device (Microsoft FAT spec v1.03): boot
 * sector (and for FAT32 the FSInfo sector and the backup boot sector at sector 6), both FATs,
 * the directories and the file data. Allocation is contiguous, so every chain is a run.
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { InputError, InternalError, NoSpaceError } from '../../errors.js';
import type { FileTree, Timestamp, TreeEntry } from '../../tree/model.js';
import { type FatDir, type FatNode, type FatOptions, type FatPlan, planFat } from './plan.js';
import {
  ATTR_ARCHIVE, ATTR_DIRECTORY, ATTR_READ_ONLY, ATTR_VOLUME_ID, DIR_ENTRY_SIZE, DirEntry, Fat16BootSector,
  Fat32BootSector, FSI_LEAD_SIG, FSI_STRUC_SIG, FSI_TRAIL_SIG, FsInfo, SECTOR,
} from './structs.js';
import { packShortName } from './names.js';

/** A tiny boot program: "int 18h" (try the next boot device), then halt forever. */
const BOOT_CODE = Uint8Array.from([0xcd, 0x18, 0xf4, 0xeb, 0xfd]);
const CHUNK = 1 << 20;

/** FAT date and time (2-second resolution, 1980-2107, UTC). */
export function fatDateTime(t: Timestamp): { date: number; time: number } {
  const d = new Date(t.sec * 1000);
  let y = d.getUTCFullYear();
  if (y < 1980) return { date: (0 << 9) | (1 << 5) | 1, time: 0 };
  if (y > 2107) y = 2107;
  return {
    date: ((y - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

function shortEntry(name11: Uint8Array, attr: number, cluster: number, size: number, e: TreeEntry | undefined, fallback: Timestamp): Uint8Array {
  const m = fatDateTime(e?.mtime ?? fallback);
  const a = fatDateTime(e?.atime ?? fallback);
  return DirEntry.encode({
    DIR_Name: name11,
    DIR_Attr: attr,
    DIR_NTRes: 0,
    DIR_CrtTimeTenth: 0,
    DIR_CrtTime: m.time,
    DIR_CrtDate: m.date,
    DIR_LstAccDate: a.date,
    DIR_FstClusHI: cluster >>> 16,
    DIR_WrtTime: m.time,
    DIR_WrtDate: m.date,
    DIR_FstClusLO: cluster & 0xffff,
    DIR_FileSize: size,
  });
}

function nodeRecords(n: FatNode, fallback: Timestamp): Uint8Array[] {
  const e = n.entry;
  const isDir = e.type === 'dir';
  let attr = isDir ? ATTR_DIRECTORY : ATTR_ARCHIVE;
  if (!isDir && (e.mode & 0o222) === 0) attr |= ATTR_READ_ONLY;
  return [...n.longEntries, shortEntry(n.short11, attr, n.firstCluster, isDir ? 0 : e.size, e, fallback)];
}

function dirBytes(plan: FatPlan, d: FatDir, parent: FatDir | undefined, tree: FileTree, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const self = tree.get(d.path);
  const fallback: Timestamp = self?.mtime ?? { sec: 315532800, nsec: 0 };
  const records: Uint8Array[] = [];
  if (d.path === '/') {
    if (plan.label) records.push(shortEntry(packShortName(plan.label.slice(0, 8), plan.label.slice(8)), ATTR_VOLUME_ID, 0, 0, self, fallback));
  } else {
    records.push(shortEntry(packShortName('.', ''), ATTR_DIRECTORY, d.firstCluster, 0, self, fallback));
    // ".." of a directory in the root points at cluster 0, whatever the FAT type.
    const up = parent && parent.path !== '/' ? parent.firstCluster : 0;
    records.push(shortEntry(packShortName('..', ''), ATTR_DIRECTORY, up, 0, parent ? tree.get(parent.path) : undefined, fallback));
  }
  for (const c of d.children) records.push(...nodeRecords(c, fallback));
  if (records.length * DIR_ENTRY_SIZE > length) throw new InternalError(`FAT: directory ${d.path} overflows its ${length} bytes (planning bug)`);
  records.forEach((r, i) => out.set(r, i * DIR_ENTRY_SIZE));
  return out;
}

function bootSector(plan: FatPlan): Uint8Array {
  const g = plan.geometry;
  const volLab = packShortName(plan.label ? plan.label.slice(0, 8) : 'NO NAME', plan.label ? plan.label.slice(8) : '');
  const common = {
    BS_OEMName: 'DISKIMTS',
    BPB_BytsPerSec: SECTOR,
    BPB_SecPerClus: g.sectorsPerCluster,
    BPB_RsvdSecCnt: g.reservedSectors,
    BPB_NumFATs: g.numFats,
    BPB_RootEntCnt: g.rootEntries,
    BPB_TotSec16: g.totalSectors < 0x10000 && g.fatType === 16 ? g.totalSectors : 0,
    BPB_Media: 0xf8,
    BPB_SecPerTrk: 63,
    BPB_NumHeads: 255,
    BPB_HiddSec: plan.hiddenSectors,
    BPB_TotSec32: g.totalSectors < 0x10000 && g.fatType === 16 ? 0 : g.totalSectors,
    BS_DrvNum: 0x80,
    BS_Reserved1: 0,
    BS_BootSig: 0x29,
    BS_VolID: plan.volumeId,
    BS_VolLab: volLab,
    Signature_word: 0xaa55,
  };
  if (g.fatType === 16) {
    return Fat16BootSector.encode({ ...common, BS_jmpBoot: Uint8Array.from([0xeb, 0x3c, 0x90]), BPB_FATSz16: g.fatSectors,
      BS_FilSysType: 'FAT16   ', BootCode: BOOT_CODE });
  }
  return Fat32BootSector.encode({ ...common, BS_jmpBoot: Uint8Array.from([0xeb, 0x58, 0x90]), BPB_FATSz16: 0,
    BPB_FATSz32: g.fatSectors, BPB_ExtFlags: 0, BPB_FSVer: 0, BPB_RootClus: plan.dirs[0]!.firstCluster, BPB_FSInfo: 1,
    BPB_BkBootSec: 6, BPB_Reserved: new Uint8Array(12), BS_FilSysType: 'FAT32   ', BootCode: BOOT_CODE });
}

function fatTable(plan: FatPlan): Uint8Array {
  const g = plan.geometry;
  const buf = new Uint8Array(g.fatSectors * SECTOR);
  const dv = new DataView(buf.buffer);
  const put = g.fatType === 16
    ? (i: number, v: number) => dv.setUint16(i * 2, v & 0xffff, true)
    : (i: number, v: number) => dv.setUint32(i * 4, v, true);
  const eoc = g.fatType === 16 ? 0xffff : 0x0fffffff;
  put(0, g.fatType === 16 ? 0xfff8 : 0x0ffffff8);
  put(1, eoc);
  const chain = (first: number, n: number) => {
    for (let k = 0; k < n; k++) put(first + k, k === n - 1 ? eoc : first + k + 1);
  };
  for (const d of plan.dirs) if (d.clusters) chain(d.firstCluster, d.clusters);
  for (const f of plan.files) chain(f.firstCluster, f.clusters);
  return buf;
}

/** Writes `plan` (from planFat) for `tree` onto `dev`, which must be at least the planned size. */
export function writeFatPlan(dev: BlockDevice, tree: FileTree, plan: FatPlan): void {
  const g = plan.geometry;
  if (dev.size < g.totalSectors * SECTOR) {
    throw new NoSpaceError(`FAT: the device has ${dev.size} bytes but the plan needs ${g.totalSectors * SECTOR}`, g.totalSectors * SECTOR);
  }
  const clusterBytes = g.sectorsPerCluster * SECTOR;
  const clusterOffset = (c: number) => (g.dataStart + (c - 2) * g.sectorsPerCluster) * SECTOR;
  const boot = bootSector(plan);
  // The reserved area is written whole so stale bytes from an earlier use cannot survive.
  const reserved = new Uint8Array(g.reservedSectors * SECTOR);
  reserved.set(boot, 0);
  if (g.fatType === 32) {
    const info = FsInfo.encode({ FSI_LeadSig: FSI_LEAD_SIG, FSI_StrucSig: FSI_STRUC_SIG,
      FSI_Free_Count: g.clusterCount - (plan.nextFree - 2), FSI_Nxt_Free: plan.nextFree, FSI_TrailSig: FSI_TRAIL_SIG });
    reserved.set(info, SECTOR);
    reserved.set(boot, 6 * SECTOR);
    reserved.set(info, 7 * SECTOR);
  }
  dev.writeAt(0, reserved);
  const fat = fatTable(plan);
  for (let i = 0; i < g.numFats; i++) dev.writeAt((g.reservedSectors + i * g.fatSectors) * SECTOR, fat);
  const parents = new Map<string, FatDir>();
  for (const d of plan.dirs) for (const c of d.children) if (c.entry.type === 'dir') parents.set(c.entry.path, d);
  for (const d of plan.dirs) {
    if (d.path === '/' && g.fatType === 16) {
      const at = (g.reservedSectors + g.numFats * g.fatSectors) * SECTOR;
      dev.writeAt(at, dirBytes(plan, d, undefined, tree, g.rootDirSectors * SECTOR));
    } else {
      dev.writeAt(clusterOffset(d.firstCluster), dirBytes(plan, d, parents.get(d.path), tree, d.clusters * clusterBytes));
    }
  }
  for (const f of plan.files) {
    const content = f.entry.content;
    if (!content && f.entry.size > 0) throw new InputError(`FAT: file ${f.entry.path} of ${f.entry.size} bytes has no content`, 'the tree source must give every non-empty file its content');
    const base = clusterOffset(f.firstCluster);
    for (let off = 0; off < f.entry.size; off += CHUNK) {
      const n = Math.min(CHUNK, f.entry.size - off);
      const data = content!.read(off, n);
      if (data.length !== n) {
        throw new InputError(`FAT: ${f.entry.path}: expected ${n} bytes at offset ${off} but the source gave ${data.length}`, 'the file changed while the image was written?');
      }
      dev.writeAt(base + off, data);
    }
    // Zero the slack of the last cluster (the device may not be fresh).
    const slack = f.clusters * clusterBytes - f.entry.size;
    if (slack > 0) dev.writeAt(base + f.entry.size, new Uint8Array(slack));
  }
}

/** Plans and writes a FAT volume holding `tree` onto `dev` (the whole device is the volume). */
export function writeFat(dev: BlockDevice, tree: FileTree, opts: Omit<FatOptions, 'size'> & { size?: number }): FatPlan {
  const plan = planFat(tree, { ...opts, size: opts.size ?? dev.size });
  writeFatPlan(dev, tree, plan);
  return plan;
}
