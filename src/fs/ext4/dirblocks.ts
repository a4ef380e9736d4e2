/**
 * Directory content (Documentation/filesystems/ext4/directory.rst): linear blocks of
 * ext4_dir_entry_2 each closed by the 12-byte checksum tail, or, when a directory needs more
 * than one block, a hash tree: dx_root in block 0 (with '.' and '..'), optional one level of
 * dx_node blocks, and leaf blocks holding the entries sorted by half-MD4 hash. Index blocks end
 * with a dx_tail checksum.
 */
import { InputError } from '../../errors.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import { BLOCK_SIZE, DX_HASH, FT } from './constants.js';
import { DirEntry, DirEntryTail, DxCountLimit, DxEntry, DxNode, DxRoot, DxTail, dirEntrySize } from './dir.js';
import { halfMd4Hash } from './hash.js';

export interface DirChild {
  name: Uint8Array;
  ino: number;
  fileType: number;
}

const TAIL = DirEntryTail.size;
const LEAF_SPACE = BLOCK_SIZE - TAIL;
const ROOT_INFO_END = DxRoot.size; // count/limit start at 0x20
const ROOT_LIMIT = (BLOCK_SIZE - ROOT_INFO_END - DxTail.size) / DxEntry.size; // 507
const NODE_LIMIT = (BLOCK_SIZE - DxNode.size - DxTail.size) / DxEntry.size; // 510

const E_INODE = DirEntry.offsetOf('inode');
const E_REC_LEN = DirEntry.offsetOf('rec_len');
const E_NAME_LEN = DirEntry.offsetOf('name_len');
const E_FILE_TYPE = DirEntry.offsetOf('file_type');

/** One entry at `off` of a fresh (zeroed) leaf block; written field by field at DirEntry's offsets (hot: one call per name). */
function putEntry(b: Uint8Array, v: DataView, off: number, e: DirChild, recLen: number): void {
  v.setUint32(off + E_INODE, e.ino, true);
  v.setUint16(off + E_REC_LEN, recLen, true);
  b[off + E_NAME_LEN] = e.name.length;
  b[off + E_FILE_TYPE] = e.fileType;
  b.set(e.name, off + DirEntry.size);
}

function sealLeaf(b: Uint8Array, inodeSeed: number): void {
  DirEntryTail.encode({ det_reserved_zero1: 0, det_rec_len: TAIL, det_reserved_zero2: 0, det_reserved_ft: FT.DIR_CSUM, det_checksum: 0 }, b, LEAF_SPACE);
  DirEntryTail.writeField(b, 'det_checksum', crc32cRaw(inodeSeed, b.subarray(0, LEAF_SPACE)), LEAF_SPACE);
}

/** Packs entries into leaf blocks in order; returns the blocks and the index of each block's first entry. */
function packLeaves(entries: DirChild[], inodeSeed: number, minBlocks: number): { blocks: Uint8Array[]; firsts: number[] } {
  const blocks: Uint8Array[] = [];
  const firsts: number[] = [];
  let b: Uint8Array | undefined;
  let v: DataView | undefined;
  let off = 0;
  let lastOff = -1;
  let last: DirChild | undefined;
  const close = () => {
    if (!b || !v) return;
    if (last) putEntry(b, v, lastOff, last, LEAF_SPACE - lastOff);
    else DirEntry.encode({ inode: 0, rec_len: LEAF_SPACE, name_len: 0, file_type: 0 }, b, 0);
    sealLeaf(b, inodeSeed);
    blocks.push(b);
  };
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const size = dirEntrySize(e.name.length);
    if (!b || !v || off + size > LEAF_SPACE) {
      close();
      b = new Uint8Array(BLOCK_SIZE);
      v = new DataView(b.buffer);
      off = 0;
      last = undefined;
      firsts.push(i);
    }
    if (last) putEntry(b, v, lastOff, last, off - lastOff);
    lastOff = off;
    last = e;
    off += size;
  }
  close();
  while (blocks.length < minBlocks) {
    b = new Uint8Array(BLOCK_SIZE);
    v = new DataView(b.buffer);
    last = undefined;
    close();
  }
  return { blocks, firsts };
}

function sealIndex(b: Uint8Array, countOffset: number, count: number, limit: number, inodeSeed: number): void {
  const tailAt = countOffset + limit * DxEntry.size;
  let c = crc32cRaw(inodeSeed, b.subarray(0, countOffset + count * DxEntry.size));
  c = crc32cRaw(c, b.subarray(tailAt, tailAt + 4));
  c = crc32cRaw(c, new Uint8Array(4));
  DxTail.encode({ dt_reserved: 0, dt_checksum: c }, b, tailAt);
}

function putIndexEntries(b: Uint8Array, at: number, limit: number, entries: { hash: number; block: number }[]): void {
  DxCountLimit.encode({ limit, count: entries.length, block: entries[0]!.block }, b, at);
  for (let i = 1; i < entries.length; i++) DxEntry.encode(entries[i]!, b, at + 8 * i);
}

export interface BuiltDir {
  /** Logical blocks 0..n-1. */
  blocks: Uint8Array[];
  indexed: boolean;
}

/**
 * All blocks of a directory. `linearOnly` keeps it linear (lost+found, which mke2fs makes as
 * 4 linear blocks); `minBlocks` pads with empty blocks.
 */
export function buildDirectory(
  self: number,
  parent: number,
  children: DirChild[],
  hashSeed: Uint32Array,
  inodeSeed: number,
  opts: { linearOnly?: boolean; minBlocks?: number } = {},
): BuiltDir {
  const dot: DirChild = { name: Uint8Array.of(0x2e), ino: self, fileType: FT.DIR };
  const dotdot: DirChild = { name: Uint8Array.of(0x2e, 0x2e), ino: parent, fileType: FT.DIR };
  const linear = packLeaves([dot, dotdot, ...children], inodeSeed, opts.minBlocks ?? 1);
  if (linear.blocks.length === 1 || opts.linearOnly) return { blocks: linear.blocks, indexed: false };

  const hashed = children.map((c) => ({ c, h: halfMd4Hash(c.name, hashSeed) }));
  hashed.sort((a, b) => a.h - b.h || Buffer.compare(a.c.name, b.c.name));
  const leaves = packLeaves(hashed.map((x) => x.c), inodeSeed, 1);
  const L = leaves.blocks.length;
  // Index entry per leaf: first hash, with the low bit set when it continues the previous leaf's hash.
  const leafIndex = leaves.firsts.map((first, i) => {
    const h = hashed[first]!.h;
    const cont = i > 0 && hashed[first - 1]!.h === h ? 1 : 0;
    return { hash: (h | cont) >>> 0, block: 1 + i };
  });
  const root = new Uint8Array(BLOCK_SIZE);
  const out: Uint8Array[] = [root, ...leaves.blocks];
  let rootEntries = leafIndex;
  let levels = 0;
  if (L > ROOT_LIMIT) {
    levels = 1;
    rootEntries = [];
    for (let i = 0; i < L; i += NODE_LIMIT) {
      const chunk = leafIndex.slice(i, i + NODE_LIMIT);
      const node = new Uint8Array(BLOCK_SIZE);
      DxNode.encode({ fake_inode: 0, fake_rec_len: BLOCK_SIZE, name_len: 0, file_type: 0 }, node, 0);
      putIndexEntries(node, DxNode.size, NODE_LIMIT, chunk);
      sealIndex(node, DxNode.size, chunk.length, NODE_LIMIT, inodeSeed);
      rootEntries.push({ hash: chunk[0]!.hash, block: out.length });
      out.push(node);
    }
    if (rootEntries.length > ROOT_LIMIT) {
      throw new InputError(`directory of ${children.length} entries needs more than two htree levels`, 'ext4 without large_dir holds about 250 000 names a directory: spread them over subfolders');
    }
  }
  DxRoot.encode({
    dot_inode: self, dot_rec_len: 12, dot_name_len: 1, dot_file_type: FT.DIR, dot_name: 0x2e,
    dotdot_inode: parent, dotdot_rec_len: BLOCK_SIZE - 12, dotdot_name_len: 2, dotdot_file_type: FT.DIR, dotdot_name: 0x2e2e,
    reserved_zero: 0, hash_version: DX_HASH.HALF_MD4, info_length: 8, indirect_levels: levels, unused_flags: 0,
  }, root, 0);
  putIndexEntries(root, ROOT_INFO_END, ROOT_LIMIT, rootEntries);
  sealIndex(root, ROOT_INFO_END, rootEntries.length, ROOT_LIMIT, inodeSeed);
  return { blocks: out, indexed: true };
}

/** Blocks a directory with these children will take (for sizing, without building it). */
export function estimateDirBlocks(nameLengths: number[]): number {
  let bytes = 24;
  for (const n of nameLengths) bytes += dirEntrySize(n);
  const leaves = Math.ceil(bytes / LEAF_SPACE);
  if (leaves <= 1) return 1;
  // hashed leaves are packed the same way, plus the root and maybe nodes; allow slack for packing
  const l = Math.ceil((bytes * 1.02) / LEAF_SPACE) + 1;
  return 1 + l + (l > ROOT_LIMIT ? Math.ceil(l / NODE_LIMIT) : 0);
}
