/**
 * qcow2 writer (QEMU docs/interop/qcow2.txt): version 3 (compat=1.1) or 2 (compat=0.10),
 * 16-bit refcounts, no snapshots, no backing file. Clusters that read as zeros are never
 * stored (their L2 entry stays 0, which reads as zeros without a backing file).
 *
 * Uncompressed, the layout is planned before a byte is written and the file is written in
 * ascending order: header, L1 table, refcount table, refcount blocks, L2 tables, data (in guest
 * order). Compressed (deflate, or zstd with compat=1.1), the data's size is known only once it
 * is compressed: header and L1 come first, the compressed clusters are packed after them (each
 * one whole in at most a cluster's worth of sectors), then L2 tables, refcount blocks and the
 * refcount table; the L1 table and the header are written last.
 */
import { isZero } from '../../binary/block-device.js';
import { InternalError, UsageError } from '../../errors.js';
import type { ClusterCompressor } from '../compress.js';
import { compressInOrder, dataClusters as clustersWithData } from '../cluster-loop.js';
import { blocksWithData, readBlocks, wholeSectors, type ByteSink, type ImageSource } from '../source.js';
import {
  COMPRESSION_DEFLATE, COMPRESSION_ZSTD, compressedEntry, HEADER_V3_SIZE, INCOMPAT_COMPRESSION_TYPE,
  OFLAG_COPIED, QCOW2_MAGIC, Qcow2HeaderV2, Qcow2HeaderV3, SECTOR, setTableEntry,
} from './struct.js';

export interface Qcow2Options {
  /** '1.1' (version 3, the default) or '0.10' (version 2). */
  compat?: '0.10' | '1.1';
  /** log2 of the cluster size, 9..21; default 16 (64 KiB). */
  clusterBits?: number;
  compression?: 'none' | 'deflate' | 'zstd';
  /** Does the compressing (required when compression is not 'none'); see compress.ts. */
  compressor?: ClusterCompressor;
  /** Clusters per batch sent to the compressor. */
  batch?: number;
  progress?: (done: number, total: number) => void;
}

export interface Qcow2Result {
  /** Length of the container file in bytes. */
  length: number;
  /** Guest clusters stored (the rest read as zeros). */
  dataClusters: number;
  compressedClusters: number;
}

const REFCOUNT_ORDER = 4;

export interface Geometry {
  cs: number;
  bits: number;
  l2Entries: number;
  l1Size: number;
  l1Clusters: number;
  version: 2 | 3;
  compressionType: number;
}

export function geometry(size: number, o: Qcow2Options): Geometry {
  const bits = o.clusterBits ?? 16;
  if (!Number.isInteger(bits) || bits < 9 || bits > 21) throw new UsageError(`qcow2 cluster_bits ${bits} is outside 9..21`, 'use a cluster size from 512 bytes to 2 MiB');
  const version = (o.compat ?? '1.1') === '0.10' ? 2 : 3;
  const compression = o.compression ?? 'none';
  if (compression === 'zstd' && version === 2) throw new UsageError('qcow2 compat=0.10 cannot hold zstd-compressed clusters', 'use compat=1.1 or deflate compression');
  if (compression !== 'none' && !o.compressor) throw new InternalError('writeQcow2: compression needs a compressor');
  const cs = 2 ** bits;
  const l2Entries = cs / 8;
  const l1Size = Math.ceil(Math.ceil(size / cs) / l2Entries);
  return {
    cs, bits, l2Entries, l1Size, l1Clusters: Math.ceil((l1Size * 8) / cs), version,
    compressionType: compression === 'zstd' ? COMPRESSION_ZSTD : COMPRESSION_DEFLATE,
  };
}

/** Refcount blocks and refcount-table clusters needed for `other` clusters plus themselves. */
function refcountClusters(other: number, cs: number): { blocks: number; table: number } {
  const per = (cs * 8) / 2 ** REFCOUNT_ORDER;
  let blocks = 0;
  let table = 0;
  for (;;) {
    const b = Math.ceil((other + blocks + table) / per);
    const t = Math.max(1, Math.ceil((b * 8) / cs));
    if (b === blocks && t === table) return { blocks, table };
    blocks = b;
    table = t;
  }
}

function headerCluster(g: Geometry, size: number, l1Offset: number, refTableOffset: number, refTableClusters: number): Uint8Array {
  const buf = new Uint8Array(g.cs);
  const base = {
    magic: QCOW2_MAGIC, version: g.version, backing_file_offset: 0n, backing_file_size: 0, cluster_bits: g.bits,
    size: BigInt(size), crypt_method: 0, l1_size: g.l1Size, l1_table_offset: BigInt(g.l1Size === 0 ? 0 : l1Offset),
    refcount_table_offset: BigInt(refTableOffset), refcount_table_clusters: refTableClusters, nb_snapshots: 0, snapshots_offset: 0n,
  };
  if (g.version === 2) {
    Qcow2HeaderV2.encode(base, buf);
    return buf; // the end-of-extensions marker after the 72 bytes is the zeros already there
  }
  Qcow2HeaderV3.encode({
    ...base,
    incompatible_features: g.compressionType === COMPRESSION_ZSTD ? INCOMPAT_COMPRESSION_TYPE : 0n,
    compatible_features: 0n, autoclear_features: 0n, refcount_order: REFCOUNT_ORDER,
    header_length: HEADER_V3_SIZE, compression_type: g.compressionType,
  }, buf);
  return buf;
}

export const setEntry = setTableEntry;

/** Refcount blocks for host clusters [0, count), each with the refcount `refs(i)`. */
function refcountBlocks(count: number, cs: number, refs: (i: number) => number): Uint8Array[] {
  const per = cs / 2;
  const blocks: Uint8Array[] = [];
  for (let b = 0; b * per < count; b++) {
    const blk = new Uint8Array(cs);
    const v = new DataView(blk.buffer);
    for (let i = 0; i < per && b * per + i < count; i++) v.setUint16(i * 2, refs(b * per + i), false);
    blocks.push(blk);
  }
  return blocks;
}

/**
 * The tail of a qcow2 whose data ends at byte `dataEnd`: the L2 tables (`l2`, by L1 index),
 * refcount blocks and table after it, then the L1 table and the header at the front.
 * `refs(h)` is the refcount of host cluster h below the metadata. Returns the file's length.
 */
export function writeMetadataAfter(out: ByteSink, g: Geometry, size: number, dataEnd: number, l2: Map<number, Uint8Array>,
  refs: (h: number) => number): number {
  const { cs } = g;
  const l1Offset = cs;
  const l2Start = Math.ceil(dataEnd / cs) * cs;
  const l2Keys = [...l2.keys()].sort((a, b) => a - b);
  const l1 = new Uint8Array(g.l1Clusters * cs);
  l2Keys.forEach((i, k) => {
    const at = l2Start + k * cs;
    out.writeAt(at, l2.get(i)!);
    setEntry(l1, i, OFLAG_COPIED | BigInt(at));
  });
  const before = l2Start / cs + l2Keys.length;
  const rc = refcountClusters(before, cs);
  const refBlocksOffset = before * cs;
  const refTableOffset = refBlocksOffset + rc.blocks * cs;
  const total = before + rc.blocks + rc.table;
  refcountBlocks(total, cs, (h) => (h >= l2Start / cs ? 1 : refs(h))).forEach((b, k) => out.writeAt(refBlocksOffset + k * cs, b));
  const refTable = new Uint8Array(rc.table * cs);
  for (let b = 0; b < rc.blocks; b++) setEntry(refTable, b, BigInt(refBlocksOffset + b * cs));
  out.writeAt(refTableOffset, refTable);
  out.writeAt(l1Offset, l1);
  out.writeAt(0, headerCluster(g, size, l1Offset, refTableOffset, rc.table));
  return total * cs;
}

/** Writes `src` as qcow2 into `out`, starting at offset 0. */
export async function writeQcow2(input: ImageSource, out: ByteSink, o: Qcow2Options = {}): Promise<Qcow2Result> {
  // qemu keeps virtual sizes in whole sectors: a tail is rounded up and reads as zeros.
  const src = wholeSectors(input);
  const g = geometry(src.size, o);
  const candidates = blocksWithData(src, g.cs);
  if ((o.compression ?? 'none') === 'none') return writeUncompressed(src, out, g, candidates, o);
  return writeCompressed(src, out, g, candidates, o);
}

function writeUncompressed(src: ImageSource, out: ByteSink, g: Geometry, candidates: number[], o: Qcow2Options): Qcow2Result {
  const { cs } = g;
  // Which clusters hold data: read once to plan (from the page cache, usually), once to write.
  const data: number[] = [];
  for (const [c, bytes] of readBlocks(src, candidates, cs)) if (!isZero(bytes)) data.push(c);
  const l2Index: number[] = [...new Set(data.map((c) => Math.floor(c / g.l2Entries)))];
  const l1Offset = cs;
  const other = 1 + g.l1Clusters + l2Index.length + data.length;
  const rc = refcountClusters(other, cs);
  const refTableOffset = l1Offset + g.l1Clusters * cs;
  const refBlocksOffset = refTableOffset + rc.table * cs;
  const l2Offset = refBlocksOffset + rc.blocks * cs;
  const dataOffset = l2Offset + l2Index.length * cs;
  const total = other + rc.blocks + rc.table;

  const l1 = new Uint8Array(g.l1Clusters * cs);
  const l2 = new Uint8Array(l2Index.length * cs);
  l2Index.forEach((l1i, k) => setEntry(l1, l1i, OFLAG_COPIED | BigInt(l2Offset + k * cs)));
  const l2Slot = new Map(l2Index.map((l1i, k) => [l1i, k]));
  data.forEach((c, k) => {
    const slot = l2Slot.get(Math.floor(c / g.l2Entries))!;
    setEntry(l2, slot * g.l2Entries + (c % g.l2Entries), OFLAG_COPIED | BigInt(dataOffset + k * cs));
  });
  const refTable = new Uint8Array(rc.table * cs);
  for (let b = 0; b < rc.blocks; b++) setEntry(refTable, b, BigInt(refBlocksOffset + b * cs));
  const refBlocks = refcountBlocks(total, cs, () => 1);

  out.writeAt(0, headerCluster(g, src.size, l1Offset, refTableOffset, rc.table));
  out.writeAt(l1Offset, l1);
  out.writeAt(refTableOffset, refTable);
  refBlocks.forEach((b, k) => out.writeAt(refBlocksOffset + k * cs, b));
  if (l2.length) out.writeAt(l2Offset, l2);
  // Data clusters are stored back to back: neighbours go out in one write of up to 4 MiB.
  const run = new Uint8Array(Math.max(cs, 4 << 20));
  let runStart = 0;
  let runLen = 0;
  const flush = () => {
    if (runLen) out.writeAt(dataOffset + runStart * cs, run.subarray(0, runLen * cs));
    runStart += runLen;
    runLen = 0;
  };
  let k = 0;
  for (const [, bytes] of readBlocks(src, data, cs)) {
    if ((runLen + 1) * cs > run.length) flush();
    run.set(bytes, runLen * cs);
    runLen++;
    k++;
    if (k % 256 === 0) o.progress?.(k, data.length);
  }
  flush();
  o.progress?.(data.length, data.length);
  return { length: total * cs, dataClusters: data.length, compressedClusters: 0 };
}

async function writeCompressed(src: ImageSource, out: ByteSink, g: Geometry, candidates: number[], o: Qcow2Options): Promise<Qcow2Result> {
  const { cs } = g;
  const compressor = o.compressor!;
  const batch = o.batch ?? 16;
  const l2 = new Map<number, Uint8Array>();
  // Refcounts of host clusters; compressed clusters may share one.
  let refs = new Uint16Array(1024);
  const ref = (cluster: number) => {
    if (cluster >= refs.length) {
      const bigger = new Uint16Array(Math.max(refs.length * 2, cluster + 1));
      bigger.set(refs);
      refs = bigger;
    }
    refs[cluster]!++;
  };
  for (let c = 0; c < 1 + g.l1Clusters; c++) ref(c);
  let pos = (1 + g.l1Clusters) * cs;
  let dataClusters = 0;
  let compressedClusters = 0;
  const l2Entry = (c: number, value: bigint) => {
    const i = Math.floor(c / g.l2Entries);
    let t = l2.get(i);
    if (!t) l2.set(i, (t = new Uint8Array(cs)));
    setEntry(t, c % g.l2Entries, value);
  };
  const place = (c: number, raw: Uint8Array, packed: Uint8Array) => {
    dataClusters++;
    // At most a cluster's worth of sectors, counted from the sector the data starts in.
    if (packed.length > cs - SECTOR) {
      pos = Math.ceil(pos / cs) * cs;
      out.writeAt(pos, raw);
      ref(pos / cs);
      l2Entry(c, OFLAG_COPIED | BigInt(pos));
      pos += cs;
      return;
    }
    if ((pos % SECTOR) + packed.length > cs) pos = Math.ceil(pos / SECTOR) * SECTOR;
    out.writeAt(pos, packed);
    l2Entry(c, compressedEntry(g.bits, pos, packed.length));
    const end = Math.ceil((pos + packed.length) / SECTOR) * SECTOR;
    for (let h = Math.floor(pos / cs); h * cs < end; h++) ref(h);
    pos += packed.length;
    compressedClusters++;
  };

  let done = 0;
  const step = () => {
    done++;
    if (done % batch === 0 || done === candidates.length) o.progress?.(done, candidates.length);
  };
  await compressInOrder(clustersWithData(src, cs, step), compressor, { batch, depth: 8 }, (c, raw, packed) => {
    place(c, raw, packed);
    step();
  });

  const length = writeMetadataAfter(out, g, src.size, pos, l2, (h) => refs[h] ?? 0);
  return { length, dataClusters, compressedClusters };
}
