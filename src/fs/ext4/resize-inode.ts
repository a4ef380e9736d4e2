/**
 * The resize inode (inode 7, feature resize_inode) that reserves descriptor-table blocks for
 * online growth (Documentation/filesystems/ext4/special_inodes.rst; layout as e2fsprogs'
 * ext2fs_create_resize_inode records it and e2fsck's check_resize_inode verifies it): a
 * block-mapped file whose double-indirect block lists, at index (gdtBlocks + i) mod 1024, the
 * i-th reserved GDT block of group 0; that block in turn lists the same reserved block in
 * every backup group (1, 3, 5, 7, 9, 25, 27, ...), as an indirect block would.
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { BLOCKS_PER_GROUP, BLOCK_SIZE, INO } from './constants.js';
import { type Geometry, groupHasSuper } from './geometry.js';
import type { InodeRecord } from './inode-record.js';

const ADDR_PER_BLOCK = BLOCK_SIZE / 4;
const DIND_SLOT = 13; // EXT2_DIND_BLOCK in i_block[]
const NDIR_BLOCKS = 12;

export function buildResizeInode(
  dev: { writeAt: BlockDevice['writeAt'] },
  geo: Geometry,
  allocate: () => number,
  time: number,
): InodeRecord | undefined {
  const rsv = geo.reservedGdtBlocks;
  if (rsv === 0) return undefined;
  const backups: number[] = [];
  for (let g = 1; g < geo.groups; g++) if (groupHasSuper(g)) backups.push(g);
  const dind = allocate();
  const dindBuf = new Uint8Array(BLOCK_SIZE);
  const dv = new DataView(dindBuf.buffer);
  for (let i = 0; i < rsv; i++) {
    const primary = 1 + geo.gdtBlocks + i;
    dv.setUint32(((geo.gdtBlocks + i) % ADDR_PER_BLOCK) * 4, primary, true);
    const ind = new Uint8Array(BLOCK_SIZE);
    const iv = new DataView(ind.buffer);
    backups.forEach((g, k) => iv.setUint32(k * 4, g * BLOCKS_PER_GROUP + primary, true));
    dev.writeAt(primary * BLOCK_SIZE, ind);
  }
  dev.writeAt(dind * BLOCK_SIZE, dindBuf);
  const iBlock = new Uint8Array(60);
  new DataView(iBlock.buffer).setUint32(DIND_SLOT * 4, dind, true);
  const t = { sec: time, nsec: 0 };
  return {
    ino: INO.RESIZE,
    entry: { path: '<resize>', type: 'file', mode: 0o600, uid: 0, gid: 0, atime: t, mtime: t, ctime: t, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map() },
    links: 1,
    size: (ADDR_PER_BLOCK * ADDR_PER_BLOCK + ADDR_PER_BLOCK + NDIR_BLOCKS) * BLOCK_SIZE,
    flags: 0,
    iBlock,
    blocks: 1 + rsv + rsv * backups.length,
    xattrBlock: 0,
    crtime: time,
  };
}
