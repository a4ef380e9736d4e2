/**
 * The per-group metadata written last, once every block and inode is placed: block and inode
 * bitmaps with their checksums, the group descriptor table and its backups, the superblock and
 * its backups (Documentation/filesystems/ext4/overview.rst, group_descr.rst, super.rst;
 * bitmap checksums per "Checksums": crc32c(fs seed, bitmap) split into lo/hi 16 bits).
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import type { BlockMap } from './allocator.js';
import { BG, BLOCKS_PER_GROUP, BLOCK_SIZE, DESC_SIZE, SUPERBLOCK_OFFSET } from './constants.js';
import { type Geometry, groupBlocks, groupHasSuper } from './geometry.js';
import { encodeGroupDesc } from './group-desc.js';
import { Superblock, type SuperblockValue, encodeSuperblock } from './superblock.js';

export interface GroupPlacement {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
}

export interface GroupInodeUse {
  /** Inodes in use in the group (highest used index + 1; every lower one is in use too). */
  used: number;
  dirs: number;
  /** The whole inode table was written (zeros included). */
  tableWritten: boolean;
}

const lo16 = (x: number) => x & 0xffff;
const hi16 = (x: number) => x >>> 16;

export function blockBitmap(map: BlockMap, geo: Geometry, g: number): Uint8Array {
  const b = new Uint8Array(BLOCK_SIZE);
  const first = g * BLOCKS_PER_GROUP;
  const n = groupBlocks(geo, g);
  b.set(map.bits.subarray(first / 8, Math.ceil((first + n) / 8)));
  for (let i = n; i < BLOCKS_PER_GROUP; i++) b[i >>> 3]! |= 1 << (i & 7);
  return b;
}

export function inodeBitmap(geo: Geometry, used: number): Uint8Array {
  const b = new Uint8Array(BLOCK_SIZE);
  for (let i = 0; i < used; i++) b[i >>> 3]! |= 1 << (i & 7);
  for (let i = geo.inodesPerGroup; i < BLOCK_SIZE * 8; i++) b[i >>> 3]! |= 1 << (i & 7);
  return b;
}

export interface MetadataResult {
  freeBlocks: number;
  freeInodes: number;
}

/** Writes bitmaps, descriptor tables and superblocks; `sb` has every field but the counts set. */
export function writeGroupMetadata(
  dev: BlockDevice,
  geo: Geometry,
  map: BlockMap,
  place: GroupPlacement[],
  use: GroupInodeUse[],
  sb: SuperblockValue,
  fsSeed: number,
): MetadataResult {
  const gdt = new Uint8Array(geo.gdtBlocks * BLOCK_SIZE);
  let freeBlocks = 0;
  let freeInodes = 0;
  for (let g = 0; g < geo.groups; g++) {
    const p = place[g]!;
    const u = use[g]!;
    const bb = blockBitmap(map, geo, g);
    const ib = inodeBitmap(geo, u.used);
    dev.writeAt(p.blockBitmap * BLOCK_SIZE, bb);
    dev.writeAt(p.inodeBitmap * BLOCK_SIZE, ib);
    const bbc = crc32cRaw(fsSeed, bb);
    const ibc = crc32cRaw(fsSeed, ib.subarray(0, geo.inodesPerGroup / 8));
    const fb = map.freeIn(g * BLOCKS_PER_GROUP, groupBlocks(geo, g));
    const fi = geo.inodesPerGroup - u.used;
    freeBlocks += fb;
    freeInodes += fi;
    let flags = 0;
    if (u.used === 0 && g !== 0) flags |= BG.INODE_UNINIT;
    if (u.tableWritten) flags |= BG.INODE_ZEROED;
    const unused = geo.inodesPerGroup - u.used;
    encodeGroupDesc(fsSeed, g, {
      bg_block_bitmap_lo: p.blockBitmap >>> 0,
      bg_inode_bitmap_lo: p.inodeBitmap >>> 0,
      bg_inode_table_lo: p.inodeTable >>> 0,
      bg_free_blocks_count_lo: lo16(fb),
      bg_free_inodes_count_lo: lo16(fi),
      bg_used_dirs_count_lo: lo16(u.dirs),
      bg_flags: flags,
      bg_exclude_bitmap_lo: 0,
      bg_block_bitmap_csum_lo: lo16(bbc),
      bg_inode_bitmap_csum_lo: lo16(ibc),
      bg_itable_unused_lo: lo16(unused),
      bg_checksum: 0,
      bg_block_bitmap_hi: Math.floor(p.blockBitmap / 2 ** 32),
      bg_inode_bitmap_hi: Math.floor(p.inodeBitmap / 2 ** 32),
      bg_inode_table_hi: Math.floor(p.inodeTable / 2 ** 32),
      bg_free_blocks_count_hi: hi16(fb),
      bg_free_inodes_count_hi: hi16(fi),
      bg_used_dirs_count_hi: hi16(u.dirs),
      bg_itable_unused_hi: hi16(unused),
      bg_exclude_bitmap_hi: 0,
      bg_block_bitmap_csum_hi: hi16(bbc),
      bg_inode_bitmap_csum_hi: hi16(ibc),
      bg_reserved: 0,
    }, gdt, g * DESC_SIZE);
  }
  const full: SuperblockValue = {
    ...sb,
    s_free_blocks_count_lo: freeBlocks >>> 0,
    s_free_blocks_count_hi: Math.floor(freeBlocks / 2 ** 32),
    s_free_inodes_count: freeInodes,
  };
  for (let g = 0; g < geo.groups; g++) {
    if (!groupHasSuper(g)) continue;
    const first = g * BLOCKS_PER_GROUP;
    const raw = encodeSuperblock({ ...full, s_block_group_nr: g });
    dev.writeAt(g === 0 ? SUPERBLOCK_OFFSET : first * BLOCK_SIZE, raw);
    dev.writeAt((first + 1) * BLOCK_SIZE, gdt);
  }
  void Superblock;
  return { freeBlocks, freeInodes };
}
