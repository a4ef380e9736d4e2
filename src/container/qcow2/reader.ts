/**
 * qcow2 reader (QEMU docs/interop/qcow2.txt): version 2 and 3 images, uncompressed, deflate-
 * and zstd-compressed clusters, zero clusters. Backing files, encryption, external data files
 * and extended L2 entries are refused. The image is untrusted: every offset is checked
 * against the file and against the header, L1 and refcount tables before it is followed, every
 * allocation is bounded by the file size or a cluster, and no loop follows a pointer chain.
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { DiskImageError, FormatError, InputError } from '../../errors.js';
import { zstdDecompressInto } from '../../binary/zstd.js';
import {
  COMPRESSION_DEFLATE, COMPRESSION_ZSTD, EXT_EXTERNAL_DATA_FILE, EXT_FULL_DISK_ENCRYPTION, HEADER_V2_SIZE, INCOMPAT_COMPRESSION_TYPE,
  INCOMPAT_CORRUPT, INCOMPAT_DIRTY, INCOMPAT_EXTENDED_L2, INCOMPAT_EXTERNAL_DATA, L1_RESERVED, L2_RESERVED, OFFSET_MASK,
  OFLAG_COMPRESSED, OFLAG_ZERO, parseCompressedEntry, tableEntry, QCOW2_MAGIC, Qcow2ExtensionHeader, Qcow2HeaderV2, Qcow2HeaderV3,
} from './struct.js';

/** qemu's limits: QCOW_MAX_L1_SIZE and QCOW_MAX_REFTABLE_SIZE. */
const MAX_L1_BYTES = 32 << 20;
const MAX_REFTABLE_BYTES = 8 << 20;
const L2_CACHE = 16;
/** A version 3 header without compression_type: the fields up to header_length. */
const V3_MIN_LENGTH = Qcow2HeaderV3.offsetOf('compression_type');

export interface Qcow2Info {
  version: 2 | 3;
  compat: '0.10' | '1.1';
  clusterBits: number;
  size: number;
  compression: 'deflate' | 'zstd';
  l1Size: number;
  refcountOrder: number;
}

/** A FormatError; `offset` is a byte offset in the qcow2 file, or undefined. */
function formatError(struct: string, offset: number | undefined, expected: string, actual: string, hint?: string): FormatError {
  return new FormatError({ struct, offset, expected, actual, hint });
}

const unsupported = (what: string, hint: string) => new DiskImageError('UNSUPPORTED', `qcow2: ${what}`, hint);

export class Qcow2Reader implements BlockDevice {
  readonly size: number;
  private readonly cs: number;
  private readonly l1: Uint8Array;
  private readonly l2Cache = new Map<number, Uint8Array>();
  /** Byte ranges of the file no L2 table or data cluster may point into. */
  private readonly reserved: [number, number, string][];

  private constructor(private readonly file: BlockDevice, readonly info: Qcow2Info, l1: Uint8Array, reserved: [number, number, string][]) {
    this.size = info.size;
    this.cs = 2 ** info.clusterBits;
    this.l1 = l1;
    this.reserved = reserved;
  }

  static open(file: BlockDevice): Qcow2Reader {
    const H = 'qcow2 header';
    if (file.size < HEADER_V2_SIZE) throw formatError(H, 0, `at least ${HEADER_V2_SIZE} bytes`, `a file of ${file.size} bytes`);
    const first = file.readAt(0, Math.min(file.size, 4096));
    const v2 = Qcow2HeaderV2.decode(first);
    if (v2.magic !== QCOW2_MAGIC) throw formatError(H, 0, 'the magic QFI\\xfb', `0x${v2.magic.toString(16)}`, 'this is not a qcow2 image');
    if (v2.version !== 2 && v2.version !== 3) throw formatError(H, Qcow2HeaderV2.offsetOf('version'), 'version 2 or 3', String(v2.version));
    const bits = v2.cluster_bits;
    if (bits < 9 || bits > 21) throw formatError(H, Qcow2HeaderV2.offsetOf('cluster_bits'), 'cluster_bits 9..21', String(bits));
    const cs = 2 ** bits;
    if (v2.crypt_method !== 0) throw unsupported(`the image is encrypted (crypt_method ${v2.crypt_method})`, 'decrypt it first: qemu-img convert -O qcow2 with the secret');
    if (v2.backing_file_offset !== 0n) throw unsupported('the image has a backing file', 'flatten it first: qemu-img convert -O qcow2 IMAGE FLAT.qcow2');
    let incompatible = 0n;
    let compression: 'deflate' | 'zstd' = 'deflate';
    let refcountOrder = 4;
    let extStart = HEADER_V2_SIZE;
    if (v2.version === 3) {
      if (first.length < V3_MIN_LENGTH) throw formatError(H, 0, `a version 3 header of ${V3_MIN_LENGTH} bytes`, `${first.length} bytes`);
      const buf = new Uint8Array(Qcow2HeaderV3.size);
      buf.set(first.subarray(0, Qcow2HeaderV3.size));
      const v3 = Qcow2HeaderV3.decode(buf);
      if (v3.header_length < V3_MIN_LENGTH || v3.header_length > Math.min(cs, first.length) || v3.header_length % 8 !== 0) {
        throw formatError(H, Qcow2HeaderV3.offsetOf('header_length'), `header_length >= ${V3_MIN_LENGTH}, a multiple of 8, within the first cluster`, String(v3.header_length));
      }
      incompatible = v3.incompatible_features;
      refcountOrder = v3.refcount_order;
      if (refcountOrder > 6) throw formatError(H, Qcow2HeaderV3.offsetOf('refcount_order'), 'refcount_order 0..6', String(refcountOrder));
      if (incompatible & INCOMPAT_CORRUPT) throw unsupported('the image is marked corrupt', 'repair it with qemu-img check -r all');
      if (incompatible & INCOMPAT_EXTERNAL_DATA) throw unsupported('the image keeps its data in an external data file', 'convert it to a self-contained image: qemu-img convert -O qcow2');
      if (incompatible & INCOMPAT_EXTENDED_L2) throw unsupported('the image uses extended L2 entries (subclusters)', 'convert it: qemu-img convert -O qcow2 -o extended_l2=off');
      const known = INCOMPAT_DIRTY | INCOMPAT_COMPRESSION_TYPE;
      if (incompatible & ~known) throw unsupported(`unknown incompatible features 0x${(incompatible & ~known).toString(16)}`, 'convert it with qemu-img convert -O qcow2 -o compat=1.1');
      const type = v3.header_length > V3_MIN_LENGTH ? v3.compression_type : COMPRESSION_DEFLATE;
      if (type !== COMPRESSION_DEFLATE && type !== COMPRESSION_ZSTD) throw formatError(H, Qcow2HeaderV3.offsetOf('compression_type'), 'compression_type 0 (deflate) or 1 (zstd)', String(type));
      if ((type !== COMPRESSION_DEFLATE) !== ((incompatible & INCOMPAT_COMPRESSION_TYPE) !== 0n)) {
        throw formatError(H, Qcow2HeaderV3.offsetOf('incompatible_features'), 'the compression-type feature bit set exactly when compression_type is not deflate', `bit ${(incompatible & INCOMPAT_COMPRESSION_TYPE) ? 'set' : 'clear'}, type ${type}`);
      }
      compression = type === COMPRESSION_ZSTD ? 'zstd' : 'deflate';
      extStart = v3.header_length;
    }
    // Header extensions: each step moves on by at least 8 bytes inside the first 4 KiB.
    for (let off = extStart; off + 8 <= first.length;) {
      const ext = Qcow2ExtensionHeader.decode(first, off);
      if (ext.type === 0) break;
      if (ext.length > first.length - off - 8) throw formatError('qcow2 header extension', off, `a length within the header cluster`, String(ext.length));
      if (ext.type === EXT_EXTERNAL_DATA_FILE) throw unsupported('the image names an external data file', 'convert it to a self-contained image: qemu-img convert -O qcow2');
      if (ext.type === EXT_FULL_DISK_ENCRYPTION) throw unsupported('the image is encrypted', 'decrypt it first');
      off += 8 + Math.ceil(ext.length / 8) * 8;
    }
    if (v2.size > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(H, Qcow2HeaderV2.offsetOf('size'), 'a size below 2^53 bytes', String(v2.size));
    const size = Number(v2.size);
    const need = Math.ceil(Math.ceil(size / cs) / (cs / 8));
    if (v2.l1_size < need) throw formatError(H, Qcow2HeaderV2.offsetOf('l1_size'), `an L1 table of at least ${need} entries for ${size} bytes`, String(v2.l1_size));
    if (v2.l1_size * 8 > MAX_L1_BYTES) throw formatError(H, Qcow2HeaderV2.offsetOf('l1_size'), `an L1 table of at most ${MAX_L1_BYTES} bytes`, `${v2.l1_size * 8} bytes`);
    const l1Offset = checkTable(H, Qcow2HeaderV2.offsetOf('l1_table_offset'), 'the L1 table', v2.l1_table_offset, v2.l1_size * 8, cs, file.size);
    const rtBytes = v2.refcount_table_clusters * cs;
    if (rtBytes > MAX_REFTABLE_BYTES) throw formatError(H, Qcow2HeaderV2.offsetOf('refcount_table_clusters'), `a refcount table of at most ${MAX_REFTABLE_BYTES} bytes`, `${rtBytes} bytes`);
    const rtOffset = checkTable(H, Qcow2HeaderV2.offsetOf('refcount_table_offset'), 'the refcount table', v2.refcount_table_offset, rtBytes, cs, file.size);
    if (rtBytes === 0) throw formatError(H, Qcow2HeaderV2.offsetOf('refcount_table_clusters'), 'a refcount table of at least one cluster', '0 clusters');
    const reserved: [number, number, string][] = [[0, cs, 'the header cluster'], [rtOffset, rtOffset + rtBytes, 'the refcount table']];
    if (v2.l1_size > 0) {
      reserved.push([l1Offset, l1Offset + v2.l1_size * 8, 'the L1 table']);
      if (rangesOverlap(l1Offset, l1Offset + v2.l1_size * 8, rtOffset, rtOffset + rtBytes)) {
        throw formatError(H, Qcow2HeaderV2.offsetOf('l1_table_offset'), 'an L1 table apart from the refcount table', `both at 0x${l1Offset.toString(16)}..`);
      }
    }
    const l1 = v2.l1_size > 0 ? file.readAt(l1Offset, v2.l1_size * 8) : new Uint8Array(0);
    if (incompatible & INCOMPAT_DIRTY) { /* refcounts may be stale; reading never uses them */ }
    const info: Qcow2Info = {
      version: v2.version as 2 | 3, compat: v2.version === 2 ? '0.10' : '1.1', clusterBits: bits, size, compression,
      l1Size: v2.l1_size, refcountOrder,
    };
    return new Qcow2Reader(file, info, l1, reserved);
  }

  readAt(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new InputError(`qcow2: read of ${length} bytes at ${offset} is outside the virtual disk of ${this.size} bytes`,
        'the image points past its own end (a partition or filesystem bigger than the disk): check it with qemu-img info and sfdisk -V');
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const c = Math.floor(pos / this.cs);
      const within = pos - c * this.cs;
      const n = Math.min(this.cs - within, length - done);
      const whole = within === 0 && n === this.cs;
      const cluster = this.readCluster(c, whole ? out.subarray(done, done + n) : undefined);
      if (!whole && cluster) out.set(cluster.subarray(within, within + n), done);
      done += n;
    }
    return out;
  }

  writeAt(): void {
    throw new DiskImageError('UNSUPPORTED', 'the qcow2 reader is read-only', 'write a new image instead');
  }

  /** Host offset of guest cluster `c`'s L2 entry value (0n = unallocated). */
  private l2Entry(c: number): bigint {
    const entries = this.cs / 8;
    const l1i = Math.floor(c / entries);
    const l1e = tableEntry(this.l1, l1i);
    const l1Where = `qcow2 L1 entry ${l1i}`;
    if (l1e & L1_RESERVED) throw formatError(l1Where, undefined, 'reserved bits clear', `0x${l1e.toString(16)}`);
    const l2Offset = Number(l1e & OFFSET_MASK);
    if (l2Offset === 0) return 0n;
    let table = this.l2Cache.get(l2Offset);
    if (!table) {
      this.checkPointer(l1Where, undefined, l2Offset, this.cs, 'an L2 table');
      table = this.file.readAt(l2Offset, this.cs);
      if (this.l2Cache.size >= L2_CACHE) this.l2Cache.delete(this.l2Cache.keys().next().value!);
      this.l2Cache.set(l2Offset, table);
    }
    return tableEntry(table, c % entries);
  }

  /** Guest cluster `c`: null when it reads as zeros; decoded into `into` when given. */
  private readCluster(c: number, into?: Uint8Array): Uint8Array | null {
    const e = this.l2Entry(c);
    const where = `qcow2 L2 entry of guest cluster ${c}`;
    if (e & OFLAG_COMPRESSED) {
      const { offset, length } = parseCompressedEntry(this.info.clusterBits, e);
      if (offset >= this.file.size) throw formatError(where, undefined, `compressed data inside the file of ${this.file.size} bytes`, `offset ${offset}`);
      this.checkOverlap(where, undefined, offset, Math.min(length, this.file.size - offset));
      const src = this.file.readAt(offset, Math.min(length, this.file.size - offset));
      const dst = into ?? new Uint8Array(this.cs);
      const n = this.inflate(src, dst, c);
      if (n !== this.cs) throw formatError(`qcow2 compressed cluster (guest cluster ${c})`, offset, `${this.cs} bytes once decompressed`, `${n} bytes`);
      return dst;
    }
    if (e & L2_RESERVED) throw formatError(where, undefined, 'reserved bits clear', `0x${e.toString(16)}`);
    if (e & OFLAG_ZERO) {
      if (this.info.version === 2) throw formatError(where, undefined, 'bit 0 clear in a version 2 image', `0x${e.toString(16)}`);
      if (into) into.fill(0);
      return null;
    }
    const host = Number(e & OFFSET_MASK);
    if (host === 0) {
      if (into) into.fill(0);
      return null;
    }
    if (host % this.cs !== 0) throw formatError(where, undefined, 'a cluster-aligned host offset', `0x${host.toString(16)}`);
    if (host >= this.file.size) throw formatError(where, undefined, `a data cluster inside the file of ${this.file.size} bytes`, `offset ${host}`);
    const have = Math.min(this.cs, this.file.size - host);
    this.checkOverlap(where, undefined, host, have);
    const bytes = this.file.readAt(host, have);
    const dst = into ?? new Uint8Array(this.cs);
    dst.set(bytes);
    if (have < this.cs) dst.fill(0, have);
    return dst;
  }

  private inflate(src: Uint8Array, dst: Uint8Array, c: number): number {
    try {
      if (this.info.compression === 'zstd') return zstdDecompressInto(src, dst);
      // qemu inflates with windowBits -12; a cluster may not grow past the cluster size.
      const out = process.getBuiltinModule('node:zlib').inflateRawSync(src, { windowBits: 12, maxOutputLength: this.cs });
      dst.set(out.subarray(0, Math.min(out.length, dst.length)));
      return out.length;
    } catch (e) {
      throw formatError(`qcow2 compressed cluster (guest cluster ${c})`, undefined, `valid ${this.info.compression} data of ${this.cs} bytes`,
        `an error from the decompressor: ${(e as Error).message}`);
    }
  }

  private checkPointer(struct: string, at: number | undefined, offset: number, length: number, what: string): void {
    if (offset % this.cs !== 0) throw formatError(struct, at, `${what} at a cluster boundary`, `0x${offset.toString(16)}`);
    if (offset + length > this.file.size) throw formatError(struct, at, `${what} inside the file of ${this.file.size} bytes`, `0x${offset.toString(16)}+${length}`);
    this.checkOverlap(struct, at, offset, length);
  }

  private checkOverlap(struct: string, at: number | undefined, offset: number, length: number): void {
    for (const [a, b, name] of this.reserved) {
      if (rangesOverlap(offset, offset + length, a, b)) throw formatError(struct, at, `a cluster apart from ${name}`, `0x${offset.toString(16)}, inside it`);
    }
  }
}

function rangesOverlap(a0: number, a1: number, b0: number, b1: number): boolean {
  return a0 < b1 && b0 < a1;
}

/** Checks a table pointer from the header: cluster-aligned, not over the header, inside the file. */
function checkTable(struct: string, field: number, what: string, offset: bigint, length: number, cs: number, fileSize: number): number {
  if (length === 0) return Number(offset);
  if (offset % BigInt(cs) !== 0n) throw formatError(struct, field, `${what} at a cluster boundary`, `0x${offset.toString(16)}`);
  if (offset === 0n) throw formatError(struct, field, `${what} apart from the header cluster`, 'offset 0');
  if (offset + BigInt(length) > BigInt(fileSize)) throw formatError(struct, field, `${what} inside the file of ${fileSize} bytes`, `0x${offset.toString(16)}+${length}`);
  return Number(offset);
}
