/**
 * streamOptimized VMDK writer (VMware Virtual Disk Format 5.0): header, text descriptor,
 * then for each grain holding data a grain marker and its zlib-compressed bytes (sector
 * aligned), then the grain tables (each behind a GT marker), the grain directory (GD marker),
 * the footer (a copy of the header that knows where the GD is) and the end-of-stream marker.
 * Grains that read as zeros are never stored. Written in one ascending pass, as vSphere and
 * qemu read it. Grains are 64 KiB (128 sectors), 512 entries per grain table.
 */
import { compressInOrder, dataClusters } from '../cluster-loop.js';
import type { ClusterCompressor } from '../compress.js';
import { blocksWithData, wholeSectors, type ByteSink, type ImageSource } from '../source.js';
import {
  COMPRESSION_DEFLATE, FLAG_COMPRESSED, FLAG_MARKERS, FLAG_NEWLINE_TEST, GD_AT_END, GrainMarker, MARKER_FOOTER, MARKER_GD, MARKER_GT,
  MetadataMarker, SECTOR, SPARSE_MAGIC, SparseExtentHeader,
} from './struct.js';

export interface VmdkOptions {
  /** Compresses grains in zlib format (compressorPool('zlib', n)). */
  compressor: ClusterCompressor;
  /** The extent's file name written into the descriptor (the output's base name). */
  extentName: string;
  /** The descriptor's CID (8 hex digits; derive it from the build's seed for reproducible output). */
  cid: number;
  batch?: number;
  progress?: (done: number, total: number) => void;
}

const GRAIN_SECTORS = 128;
const GRAIN = GRAIN_SECTORS * SECTOR;
const GTES = 512;

function descriptor(capacity: number, o: VmdkOptions): Uint8Array {
  const cylinders = Math.min(16383, Math.floor(capacity / (16 * 63)));
  const text = [
    '# Disk DescriptorFile', 'version=1', `CID=${o.cid.toString(16).padStart(8, '0')}`, 'parentCID=ffffffff', 'createType="streamOptimized"', '',
    '# Extent description', `RW ${capacity} SPARSE "${o.extentName.replace(/"/g, '_')}"`, '',
    '# The Disk Data Base', '#DDB', '', 'ddb.virtualHWVersion = "4"', `ddb.geometry.cylinders = "${cylinders}"`,
    'ddb.geometry.heads = "16"', 'ddb.geometry.sectors = "63"', 'ddb.adapterType = "ide"', 'ddb.toolsVersion = "2147483647"', '',
  ].join('\n');
  const b = new TextEncoder().encode(text);
  const out = new Uint8Array(Math.ceil(b.length / SECTOR) * SECTOR);
  out.set(b);
  return out;
}

function header(capacity: number, descSectors: number, overHead: number, gdOffset: bigint): Uint8Array {
  return SparseExtentHeader.encode({
    magicNumber: SPARSE_MAGIC, version: 3, flags: FLAG_NEWLINE_TEST | FLAG_COMPRESSED | FLAG_MARKERS, capacity: BigInt(capacity),
    grainSize: BigInt(GRAIN_SECTORS), descriptorOffset: 1n, descriptorSize: BigInt(descSectors), numGTEsPerGT: GTES, rgdOffset: 0n,
    gdOffset, overHead: BigInt(overHead), uncleanShutdown: 0, singleEndLineChar: 0x0a, nonEndLineChar: 0x20,
    doubleEndLineChar1: 0x0d, doubleEndLineChar2: 0x0a, compressAlgorithm: COMPRESSION_DEFLATE,
  });
}

const marker = (numSectors: number, type: number) => MetadataMarker.encode({ numSectors: BigInt(numSectors), size: 0, type });

export async function writeVmdk(input: ImageSource, out: ByteSink, o: VmdkOptions): Promise<{ length: number }> {
  const capacity = Math.ceil(input.size / SECTOR);
  const src = wholeSectors(input);
  const desc = descriptor(capacity, o);
  const overHead = Math.ceil((1 + desc.length / SECTOR) / GRAIN_SECTORS) * GRAIN_SECTORS;
  out.writeAt(0, header(capacity, desc.length / SECTOR, overHead, GD_AT_END));
  out.writeAt(SECTOR, desc);
  let pos = overHead * SECTOR;
  const grains = Math.ceil(capacity / GRAIN_SECTORS);
  const gtCount = Math.ceil(grains / GTES);
  const gt = new Uint32Array(gtCount * GTES);
  const total = blocksWithData(src, GRAIN).length;
  let done = 0;
  const step = () => {
    done++;
    if (done % (o.batch ?? 16) === 0 || done === total) o.progress?.(done, total);
  };
  await compressInOrder(dataClusters(src, GRAIN, step), o.compressor, { batch: o.batch ?? 16, depth: 8 }, (g, _raw, data) => {
    const rec = new Uint8Array(Math.ceil((GrainMarker.size + data.length) / SECTOR) * SECTOR);
    GrainMarker.encode({ lba: BigInt(g * GRAIN_SECTORS), size: data.length }, rec);
    rec.set(data, GrainMarker.size);
    out.writeAt(pos, rec);
    gt[g] = pos / SECTOR;
    pos += rec.length;
    step();
  });

  // Grain tables (each 512 entries = 4 sectors), then the directory, the footer, end of stream.
  const gd = new Uint32Array(Math.ceil((gtCount * 4) / SECTOR) * (SECTOR / 4));
  const gtBytes = GTES * 4;
  for (let t = 0; t < gtCount; t++) {
    const entries = gt.subarray(t * GTES, (t + 1) * GTES);
    if (entries.every((e) => e === 0)) continue;
    out.writeAt(pos, marker(gtBytes / SECTOR, MARKER_GT));
    pos += SECTOR;
    out.writeAt(pos, leBytes(entries));
    gd[t] = pos / SECTOR;
    pos += gtBytes;
  }
  out.writeAt(pos, marker(gd.length * 4 / SECTOR, MARKER_GD));
  pos += SECTOR;
  const gdOffset = pos / SECTOR;
  out.writeAt(pos, leBytes(gd));
  pos += gd.length * 4;
  out.writeAt(pos, marker(1, MARKER_FOOTER));
  pos += SECTOR;
  out.writeAt(pos, header(capacity, desc.length / SECTOR, overHead, BigInt(gdOffset)));
  pos += SECTOR;
  out.writeAt(pos, new Uint8Array(SECTOR)); // end-of-stream marker
  pos += SECTOR;
  return { length: pos };
}

function leBytes(a: Uint32Array): Uint8Array {
  const b = new Uint8Array(a.length * 4);
  const v = new DataView(b.buffer);
  a.forEach((x, i) => v.setUint32(i * 4, x, true));
  return b;
}
