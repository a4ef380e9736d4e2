/**
 * Opening an image file for reading: the container format is found by its magic bytes
 * (qcow2 "QFI\xfb", and the formats we do not read, so that the error names them), and the
 * result is a BlockDevice of the guest disk's bytes. Raw images are read as they are, qcow2
 * through the qcow2 reader (src/container/qcow2/reader.ts: v2 and v3, deflate and zstd
 * compressed clusters, zero clusters).
 */
import * as fs from 'node:fs';
import type { BlockDevice } from '../binary/block-device.js';
import { FileBlockDevice, fileError } from '../binary/file-device.js';
import { Qcow2Reader } from '../container/qcow2/reader.js';
import { QCOW2_MAGIC } from '../container/qcow2/struct.js';
import { VHD_COOKIE } from '../container/vhd/struct.js';
import { SPARSE_MAGIC } from '../container/vmdk/struct.js';
import { DiskImageError, InputError } from '../errors.js';
import { describeBytes } from './describe-bytes.js';

export type ImageFormat = 'raw' | 'qcow2';

export interface OpenedImage {
  /** The guest disk, byte-addressed. */
  dev: BlockDevice;
  format: ImageFormat;
  close(): void;
}

interface Signature { name: string; at: number; magic: Uint8Array | string; hint: string }

/** A magic number as the bytes it is stored as. */
function u32Bytes(n: number, little: boolean): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, little);
  return b;
}

const CONVERT = 'convert it first: qemu-img convert -O raw IMAGE out.raw';
/** Containers and compressors we recognise but do not read. */
const NOT_READ: Signature[] = [
  { name: 'VMDK (sparse)', at: 0, magic: u32Bytes(SPARSE_MAGIC, true), hint: CONVERT },
  { name: 'VDI', at: 0x40, magic: new Uint8Array([0x7f, 0x10, 0xda, 0xbe]), hint: CONVERT },
  { name: 'VHDX', at: 0, magic: 'vhdxfile', hint: CONVERT },
  { name: 'VHD (dynamic)', at: 0, magic: VHD_COOKIE, hint: CONVERT },
  { name: 'QED', at: 0, magic: 'QED\0', hint: CONVERT },
  { name: 'gzip-compressed data', at: 0, magic: new Uint8Array([0x1f, 0x8b]), hint: 'decompress it first: gunzip -k IMAGE' },
  { name: 'xz-compressed data', at: 0, magic: new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), hint: 'decompress it first: unxz -k IMAGE' },
  { name: 'zstd-compressed data', at: 0, magic: new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]), hint: 'decompress it first: unzstd IMAGE' },
  { name: 'bzip2-compressed data', at: 0, magic: 'BZh', hint: 'decompress it first: bunzip2 -k IMAGE' },
  { name: 'an ISO 9660 image', at: 0x8001, magic: 'CD001', hint: 'mount it, or use bsdtar/xorriso to read it' },
];

const QCOW2: Signature = { name: 'qcow2', at: 0, magic: u32Bytes(QCOW2_MAGIC, false), hint: '' };

function matches(head: Uint8Array, s: Signature): boolean {
  const m = typeof s.magic === 'string' ? new Uint8Array(Buffer.from(s.magic, 'latin1')) : s.magic;
  if (head.length < s.at + m.length) return false;
  for (let i = 0; i < m.length; i++) if (head[s.at + i] !== m[i]) return false;
  return true;
}

/** Which container `head` (the first 36 KiB or less of the file) starts: raw, qcow2, or throws for one we do not read. */
export function detectFormat(head: Uint8Array, name = 'the image'): ImageFormat {
  if (matches(head, QCOW2)) return 'qcow2';
  for (const s of NOT_READ) {
    if (matches(head, s)) {
      throw new DiskImageError('UNSUPPORTED', `${name} is ${s.name}; this command reads raw and qcow2 images (first bytes: ${describeBytes(head)})`, s.hint);
    }
  }
  return 'raw';
}

/**
 * The guest disk inside an image file's bytes: the file itself for raw, or the container
 * reader for the format its magic names. Pure: works on any BlockDevice (the fuzz test gives
 * it mutated images in memory).
 */
export function openContainer(file: BlockDevice, name = 'the image'): { dev: BlockDevice; format: ImageFormat } {
  const head = file.readAt(0, Math.min(file.size, 0x8010));
  const format = detectFormat(head, name);
  if (format === 'qcow2') return { dev: Qcow2Reader.open(file), format };
  return { dev: file, format };
}

/** Opens `path` read-only and returns the guest disk it holds. */
export function openImage(path: string): OpenedImage {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw fileError(e, path, 'opening');
  }
  if (!st.isFile()) {
    throw new InputError(`${path} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not an image file`, 'give the path of a raw or qcow2 image');
  }
  let file: FileBlockDevice;
  try {
    file = FileBlockDevice.open(path, 'r');
  } catch (e) {
    throw fileError(e, path, 'opening');
  }
  try {
    const { dev, format } = openContainer(file, path);
    return { dev, format, close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}
