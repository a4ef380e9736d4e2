/**
 * The output containers of one build, written from the finished raw image (still open, with
 * the ranges the assembler wrote) in one pass each that reads only its data: qcow2 (deflate
 * or zstd clusters unless uncompressed), VHD (dynamic by default, as qemu-img's vpc), VMDK
 * streamOptimized. Each goes to a temporary name next to its destination and is published
 * by the caller only when every one of them is done. Checksums are made as each file is
 * written (the raw image's by reading it once).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FileBlockDevice } from '../binary/file-device.js';
import { FileSink, hashFile, type ChecksumKind } from '../binary/file-sink.js';
import { seededGuid, uuidToBytes } from '../binary/guid.js';
import { compressInOrder } from '../container/cluster-loop.js';
import { compressorPool, type ClusterCompressor, type CompressionType } from '../container/compress.js';
import { Qcow2WriteDevice } from '../container/qcow2/device.js';
import { writeQcow2 } from '../container/qcow2/writer.js';
import type { ByteSink, ImageSource } from '../container/source.js';
import type { FileTree } from '../tree/model.js';
import { writeTar } from '../tree/tar-writer.js';
import { writeVhd } from '../container/vhd/writer.js';
import { writeVmdk } from '../container/vmdk/writer.js';

export const CONTAINER_TYPES = ['raw', 'qcow2', 'vhd', 'vmdk', 'tar', 'tgz'] as const;
export type ContainerType = (typeof CONTAINER_TYPES)[number];

export interface ContainerJob {
  type: ContainerType;
  /** Where the finished file goes (the caller publishes it there). */
  path: string;
  /** The output's final base name, when `path` is a private one (the VMDK descriptor names its extent). */
  name?: string;
}

/** What DIB passes to qemu-img as `--qemu-img-options` (QEMU_IMG_OPTIONS), in qemu's names. */
export interface ContainerSettings {
  /** qcow2 compression type; default deflate (qemu's 'zlib', as qemu-img -c). */
  compressionType?: 'deflate' | 'zstd';
  /** qcow2 compat level; default 1.1. */
  qcow2Compat?: '0.10' | '1.1';
  /** log2 of the qcow2 cluster size (qemu's cluster_size); default 16. */
  clusterBits?: number;
  /** vhd subformat; default dynamic. */
  vhdType?: 'fixed' | 'dynamic';
}

export interface ContainerOptions extends ContainerSettings {
  /** qcow2: compress clusters (DIB's default; -u turns it off). */
  compress: boolean;
  checksums: readonly ChecksumKind[];
  seed: string;
  /** Seconds since 1970 for time stamps inside containers (VHD). */
  time: number;
  threads?: number;
  /** The root tree, for tar and tgz (DIB archives the finished root). */
  tree?: FileTree;
  progress?: (stage: string, done: number, total: number) => void;
}

export interface ContainerResult extends ContainerJob {
  /** The finished file, not yet at `path`. */
  tmp: string;
  size: number;
  checksums: Partial<Record<ChecksumKind, string>>;
  /** How the checksums were made: 'while writing' or 'read back'. */
  checksumMode: string;
}

export function tempName(dest: string): string {
  return `${dest}.tmp-${randomBytes(4).toString('hex')}`;
}

/**
 * Writes every non-raw job from `raw` (the image just written, still open) to a temporary
 * file; `rawTmp` is the raw image's own file, which becomes the raw output when one is asked.
 * On failure every temporary file made here is removed.
 */
export async function writeContainers(raw: FileBlockDevice, rawTmp: string, jobs: readonly ContainerJob[], o: ContainerOptions): Promise<ContainerResult[]> {
  const src: ImageSource = { size: raw.size, readAt: (off, n) => raw.readAt(off, n), dataRanges: raw.writtenRanges() };
  const threads = o.threads ?? Math.max(1, os.availableParallelism());
  const pools = new Map<CompressionType, ClusterCompressor>();
  const pool = (t: CompressionType) => {
    let p = pools.get(t);
    if (!p) pools.set(t, (p = compressorPool(t, threads)));
    return p;
  };
  const results: ContainerResult[] = [];
  try {
    for (const job of jobs) {
      if (job.type === 'raw') continue;
      const tmp = tempName(job.path);
      const sink = FileSink.create(tmp, o.checksums);
      results.push({ ...job, tmp, size: 0, checksums: {}, checksumMode: '' });
      const progress = (done: number, total: number) => o.progress?.(job.type, done, total);
      try {
        let length: number;
        if (job.type === 'qcow2') {
          const type = o.compressionType ?? 'deflate';
          ({ length } = await writeQcow2(src, sink, {
            compression: o.compress ? type : 'none', ...(o.compress ? { compressor: pool(type) } : {}),
            ...(o.qcow2Compat ? { compat: o.qcow2Compat } : {}), ...(o.clusterBits ? { clusterBits: o.clusterBits } : {}), progress,
          }));
        } else if (job.type === 'tar') {
          ({ length } = writeTar(o.tree!, sink, progress));
        } else if (job.type === 'tgz') {
          length = await writeTgz(o.tree!, sink, tempName(job.path), pool('gzip'), progress);
        } else if (job.type === 'vhd') {
          ({ length } = writeVhd(src, sink, { type: o.vhdType ?? 'dynamic', time: o.time, uniqueId: uuidToBytes(seededGuid(o.seed, 'vhd unique id')), progress }));
        } else {
          const cid = parseInt(seededGuid(o.seed, 'vmdk cid').slice(0, 8), 16);
          ({ length } = await writeVmdk(src, sink, { compressor: pool('zlib'), extentName: job.name ?? path.basename(job.path), cid, progress }));
        }
        const r = results.at(-1)!;
        r.checksums = sink.finish(length);
        r.checksumMode = sink.checksumMode;
        r.size = length;
      } finally {
        sink.close();
      }
    }
    const rawJob = jobs.find((j) => j.type === 'raw');
    if (rawJob) {
      results.push({ ...rawJob, tmp: rawTmp, size: raw.size, checksums: hashFile(rawTmp, o.checksums), checksumMode: o.checksums.length ? 'read back' : 'none' });
    }
    return jobs.map((j) => results.find((r) => r.type === j.type && r.path === j.path)!);
  } catch (e) {
    for (const r of results) if (r.tmp !== rawTmp) fs.rmSync(r.tmp, { force: true });
    throw e;
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }
}

/**
 * An uncompressed qcow2 written while the image is assembled: the assembler writes into
 * `dev`; `finish` completes and syncs the file (its checksums are read back: the header goes
 * in last) and hands it over for publishing; `abort` removes it.
 */
export function openDirectQcow2(dest: string, size: number, checksums: readonly ChecksumKind[], s: ContainerSettings = {}): {
  dev: Qcow2WriteDevice;
  finish(): ContainerResult;
  abort(): void;
} {
  const tmp = tempName(dest);
  const sink = FileSink.create(tmp, checksums);
  const dev = new Qcow2WriteDevice(sink, size, { ...(s.qcow2Compat ? { compat: s.qcow2Compat } : {}), ...(s.clusterBits ? { clusterBits: s.clusterBits } : {}) });
  return {
    dev,
    finish() {
      const { length } = dev.finish();
      const sums = sink.finish(length);
      sink.close();
      return { type: 'qcow2', path: dest, tmp, size: length, checksums: sums, checksumMode: sink.checksumMode };
    },
    abort() {
      sink.close();
      fs.rmSync(tmp, { force: true });
    },
  };
}

/**
 * tgz as DIB makes it (tar, then gzip -9), with the gzip spread over the workers: the tar is
 * written to a scratch file, then compressed in 4 MiB pieces, each a gzip member (gzip and GNU
 * tar read concatenated members as one stream). Returns the tgz length.
 */
async function writeTgz(tree: FileTree, out: ByteSink, scratch: string, gzip: ClusterCompressor,
  progress: (done: number, total: number) => void): Promise<number> {
  const tar = FileSink.create(scratch);
  try {
    const { length } = writeTar(tree, tar, progress);
    tar.finish(length);
    const piece = 4 << 20;
    function* pieces(): Generator<[number, Uint8Array]> {
      for (let off = 0, k = 0; off < length; off += piece, k++) yield [k, tar.readAt(off, Math.min(piece, length - off))];
    }
    let pos = 0;
    await compressInOrder(pieces(), gzip, { batch: 4, depth: 4 }, (_k, _raw, member) => {
      out.writeAt(pos, member);
      pos += member.length;
    });
    return pos;
  } finally {
    tar.close();
    fs.rmSync(scratch, { force: true });
  }
}
