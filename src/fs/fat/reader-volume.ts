/**
 * Reading a FAT12/16/32 volume's frame (Microsoft FAT spec v1.03): the boot sector's BPB
 * (sections 3.1-3.3, decoded with the struct declarations in structs.ts), the FAT type from
 * the count of clusters (section 3.5), and cluster chains through the first FAT (section 4),
 * each checked so that a damaged volume gives a FormatError naming the field and its offset
 * instead of a loop or a read outside the volume.
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { FormatError } from '../../errors.js';
import { Fat16BootSector, Fat32BootSector, SECTOR } from './structs.js';

export type FatBits = 12 | 16 | 32;

export interface FatVolume {
  fatType: FatBits;
  bytesPerSector: number;
  clusterBytes: number;
  /** Byte offsets and sizes inside the volume. */
  fatStart: number;
  fatBytes: number;
  /** FAT12/16: the fixed root directory region; FAT32: 0 and 0 (the root is a chain). */
  rootDirStart: number;
  rootDirBytes: number;
  /** FAT32: the root directory's first cluster. */
  rootCluster: number;
  dataStart: number;
  /** Clusters 2 .. clusterCount + 1 exist. */
  clusterCount: number;
  volumeId?: number;
  label?: string;
}

const HINT = 'the FAT volume is damaged; fsck.fat -n names the problem';
const FAT16_MIN_CLUSTERS = 4085;
const FAT32_MIN_CLUSTERS = 65525;
const BOOT_SIGNATURE = 0xaa55;
const EXTENDED_BOOT_SIGNATURE = 0x29;

function fatError(origin: number, struct: string, field: string | undefined, at: number | undefined, expected: string, actual: string): FormatError {
  return new FormatError({ struct, field, offset: at === undefined ? undefined : origin + at, expected, actual, hint: HINT });
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** The FAT type, from the count of clusters (spec section 3.5), as every FAT driver decides it. */
export function fatTypeOf(clusterCount: number): FatBits {
  return clusterCount < FAT16_MIN_CLUSTERS ? 12 : clusterCount < FAT32_MIN_CLUSTERS ? 16 : 32;
}

/** Decodes and checks the boot sector of the FAT volume on `dev`; `origin`: where `dev` starts in the image. */
export function readFatVolume(dev: BlockDevice, origin: number): FatVolume {
  const B = Fat16BootSector;
  if (dev.size < SECTOR) throw fatError(origin, B.name, undefined, 0, `a volume of at least ${SECTOR} bytes`, `${dev.size} bytes`);
  const head = dev.readAt(0, SECTOR);
  const bs = B.decode(head);
  const bs32 = Fat32BootSector.decode(head);
  const check = (ok: boolean, field: keyof typeof B.fields & string, expected: string, actual: number) => {
    if (!ok) throw fatError(origin, B.name, field, B.offsetOf(field), expected, String(actual));
  };
  check(bs.Signature_word === BOOT_SIGNATURE, 'Signature_word', '0xaa55', bs.Signature_word);
  check([512, 1024, 2048, 4096].includes(bs.BPB_BytsPerSec), 'BPB_BytsPerSec', '512, 1024, 2048 or 4096', bs.BPB_BytsPerSec);
  check(isPow2(bs.BPB_SecPerClus) && bs.BPB_SecPerClus <= 128, 'BPB_SecPerClus', 'a power of 2 up to 128', bs.BPB_SecPerClus);
  check(bs.BPB_RsvdSecCnt > 0, 'BPB_RsvdSecCnt', 'at least 1', bs.BPB_RsvdSecCnt);
  check(bs.BPB_NumFATs > 0, 'BPB_NumFATs', 'at least 1', bs.BPB_NumFATs);
  const bps = bs.BPB_BytsPerSec;
  const fatSectors = bs.BPB_FATSz16 || bs32.BPB_FATSz32;
  check(fatSectors > 0, 'BPB_FATSz16', 'a FAT size (BPB_FATSz16 or BPB_FATSz32)', 0);
  const totalSectors = bs.BPB_TotSec16 || bs.BPB_TotSec32;
  const rootDirSectors = Math.ceil((bs.BPB_RootEntCnt * 32) / bps);
  const dataSector = bs.BPB_RsvdSecCnt + bs.BPB_NumFATs * fatSectors + rootDirSectors;
  check(totalSectors > dataSector, 'BPB_TotSec16', `more than the ${dataSector} sectors before the data area`, totalSectors);
  if (totalSectors * bps > dev.size) {
    throw fatError(origin, B.name, bs.BPB_TotSec16 ? 'BPB_TotSec16' : 'BPB_TotSec32', B.offsetOf(bs.BPB_TotSec16 ? 'BPB_TotSec16' : 'BPB_TotSec32'),
      `at most the ${Math.floor(dev.size / bps)} sectors of the partition`, `${totalSectors} sectors (a truncated image?)`);
  }
  const clusterCount = Math.floor((totalSectors - dataSector) / bs.BPB_SecPerClus);
  const fatType = fatTypeOf(clusterCount);
  if (fatType === 32) {
    const rc = bs32.BPB_RootClus;
    if (rc < 2 || rc > clusterCount + 1) throw fatError(origin, Fat32BootSector.name, 'BPB_RootClus', Fat32BootSector.offsetOf('BPB_RootClus'), `a cluster in 2..${clusterCount + 1}`, String(rc));
  }
  const entryBits = fatType === 12 ? 12 : fatType === 16 ? 16 : 32;
  if (Math.ceil(((clusterCount + 2) * entryBits) / 8) > fatSectors * bps) {
    throw fatError(origin, B.name, 'BPB_FATSz16', B.offsetOf('BPB_FATSz16'), `a FAT of at least ${Math.ceil(((clusterCount + 2) * entryBits) / 8 / bps)} sectors for ${clusterCount} clusters`, `${fatSectors} sectors`);
  }
  const ext = fatType === 32 ? { sig: bs32.BS_BootSig, id: bs32.BS_VolID, lab: bs32.BS_VolLab } : { sig: bs.BS_BootSig, id: bs.BS_VolID, lab: bs.BS_VolLab };
  const named = ext.sig === EXTENDED_BOOT_SIGNATURE;
  return {
    fatType, bytesPerSector: bps, clusterBytes: bs.BPB_SecPerClus * bps,
    fatStart: bs.BPB_RsvdSecCnt * bps, fatBytes: fatSectors * bps,
    rootDirStart: fatType === 32 ? 0 : (bs.BPB_RsvdSecCnt + bs.BPB_NumFATs * fatSectors) * bps,
    rootDirBytes: fatType === 32 ? 0 : rootDirSectors * bps,
    rootCluster: fatType === 32 ? bs32.BPB_RootClus : 0,
    dataStart: dataSector * bps, clusterCount,
    ...(named ? { volumeId: ext.id, label: Buffer.from(ext.lab).toString('latin1').trimEnd() } : {}),
  };
}

/** Byte runs [start, length] inside the volume. */
export type ByteRun = readonly [start: number, length: number];

const CHUNK = 64 << 10;

/** The first FAT, read in chunks as chains need it. */
export class FatTable {
  private readonly chunks = new Map<number, Uint8Array>();

  constructor(private readonly dev: BlockDevice, private readonly v: FatVolume, private readonly origin: number) {}

  private byte(at: number): number {
    const k = Math.floor(at / CHUNK);
    let c = this.chunks.get(k);
    if (!c) {
      c = this.dev.readAt(this.v.fatStart + k * CHUNK, Math.min(CHUNK, this.v.fatBytes - k * CHUNK));
      this.chunks.set(k, c);
    }
    return c[at - k * CHUNK]!;
  }

  /** The FAT entry of cluster `n` (spec section 4.1: FAT12 packs two entries in three bytes; FAT32 uses 28 bits). */
  entry(n: number): number {
    if (this.v.fatType === 12) {
      const at = n + (n >> 1);
      const w = this.byte(at) | (this.byte(at + 1) << 8);
      return n & 1 ? w >> 4 : w & 0xfff;
    }
    if (this.v.fatType === 16) return this.byte(2 * n) | (this.byte(2 * n + 1) << 8);
    const at = 4 * n;
    return (this.byte(at) | (this.byte(at + 1) << 8) | (this.byte(at + 2) << 16) | ((this.byte(at + 3) & 0x0f) << 24)) >>> 0;
  }

  private endOfChain(e: number): boolean {
    return e >= (this.v.fatType === 12 ? 0xff8 : this.v.fatType === 16 ? 0xfff8 : 0x0ffffff8);
  }

  /** Byte runs of the chain from `first`, at most `maxClusters` long (a longer chain is cut there), for `what`. */
  chain(first: number, maxClusters: number, what: string): ByteRun[] {
    const runs: [number, number][] = [];
    const last = this.v.clusterCount + 1;
    let c = first;
    for (let n = 0; n < maxClusters; n++) {
      if (c < 2 || c > last) {
        throw fatError(this.origin, `FAT chain of ${what}`, undefined, n === 0 ? undefined : this.v.fatStart, `a cluster in 2..${last}`, `cluster ${c} after ${n} clusters`);
      }
      const at = this.v.dataStart + (c - 2) * this.v.clusterBytes;
      const prev = runs.at(-1);
      if (prev && prev[0] + prev[1] === at) prev[1] += this.v.clusterBytes;
      else runs.push([at, this.v.clusterBytes]);
      const next = this.entry(c);
      if (this.endOfChain(next)) return runs;
      c = next;
    }
    return runs;
  }
}
