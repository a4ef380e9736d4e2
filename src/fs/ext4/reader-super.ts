/**
 * The ext4 reader's view of the superblock and group descriptors (super.rst, group_descr.rst):
 * every field the reader relies on is checked against the device before it is used, and a
 * feature the reader does not handle is refused by name before anything is read with the
 * wrong geometry (compression, journal devices, dirdata, encryption, bigalloc, descriptor
 * sizes other than 32 and 64). Group descriptors are read when a group is first needed, so
 * opening a filesystem costs one read however many groups it has.
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { DiskImageError, FormatError, InputError } from '../../errors.js';
import { COMPAT, EXT4_SUPER_MAGIC, GOOD_OLD_INODE_SIZE, INCOMPAT, RO_COMPAT, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE } from './constants.js';
import { gdtBlocksFor, groupHasSuper, groupsFor } from './geometry.js';
import { GroupDesc } from './group-desc.js';
import { Superblock, type SuperblockValue } from './superblock.js';

/** Incompatible features the reader handles (anything else is refused). */
const KNOWN_INCOMPAT = INCOMPAT.FILETYPE | INCOMPAT.RECOVER | INCOMPAT.EXTENTS | INCOMPAT.BIT64 | INCOMPAT.MMP | INCOMPAT.FLEX_BG
  | INCOMPAT.EA_INODE | INCOMPAT.CSUM_SEED | INCOMPAT.LARGEDIR | INCOMPAT.CASEFOLD | INCOMPAT.META_BG | INCOMPAT.INLINE_DATA;

/** Features refused by name, with what they would need. */
const REFUSED_INCOMPAT: Array<[number, string, string]> = [
  [INCOMPAT.COMPRESSION, 'compression', 'file data is compressed (an ext2 patch set never merged into Linux)'],
  [INCOMPAT.JOURNAL_DEV, 'journal_dev', 'this is an external journal device, not a filesystem'],
  [INCOMPAT.DIRDATA, 'dirdata', 'directory entries carry extra data (Lustre)'],
  [INCOMPAT.ENCRYPT, 'encrypt', 'names and contents may be encrypted (fscrypt)'],
];

const HINT_DAMAGED = 'the filesystem is damaged (or this is not an ext2/3/4 filesystem); run e2fsck -fn on it';

export interface Ext4Geometry {
  sb: SuperblockValue;
  blockSize: number;
  blocksCount: number;
  groups: number;
  descSize: number;
  inodeSize: number;
  inodesPerGroup: number;
  inodesCount: number;
  /** Inode table blocks per group. */
  inodeTableBlocks: number;
  is64: boolean;
}

/** Reads and checks the superblock of the filesystem on `dev`, which starts `origin` bytes into the image. */
export function readGeometry(dev: BlockDevice, origin = 0): Ext4Geometry {
  const sbError = (field: keyof SuperblockValue & string, expected: string, actual: string | number, hint = HINT_DAMAGED): FormatError =>
    new FormatError({ struct: 'ext4 superblock', field, offset: origin + SUPERBLOCK_OFFSET + Superblock.offsetOf(field), expected, actual: String(actual), hint });
  if (dev.size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE) {
    throw new InputError(`ext4: the device is ${dev.size} bytes, too small to hold a superblock`);
  }
  const sb = Superblock.decode(dev.readAt(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE));
  if (sb.s_magic !== EXT4_SUPER_MAGIC) {
    throw sbError('s_magic', '0xef53', `0x${sb.s_magic.toString(16)}`, 'this is not an ext2/3/4 filesystem (or the offset of the partition is wrong)');
  }
  for (const [bit, name, what] of REFUSED_INCOMPAT) {
    if (sb.s_feature_incompat & bit) {
      throw new DiskImageError('UNSUPPORTED', `ext4: the filesystem has the '${name}' feature, which this reader does not handle: ${what}`,
        'mount the filesystem with a kernel that supports it, or use debugfs');
    }
  }
  const unknown = sb.s_feature_incompat & ~KNOWN_INCOMPAT & ~REFUSED_INCOMPAT.reduce((a, [b]) => a | b, 0);
  if (unknown) {
    throw new DiskImageError('UNSUPPORTED', `ext4: unknown incompatible feature bits 0x${(unknown >>> 0).toString(16)} (s_feature_incompat 0x${(sb.s_feature_incompat >>> 0).toString(16)})`,
      'a newer filesystem feature, or a damaged superblock: check it with dumpe2fs -h');
  }
  if (sb.s_feature_ro_compat & RO_COMPAT.BIGALLOC) {
    throw new DiskImageError('UNSUPPORTED', "ext4: the filesystem has the 'bigalloc' feature (blocks allocated in clusters), which this reader does not handle",
      'mount the filesystem, or use debugfs');
  }
  if (sb.s_log_block_size > 6) throw sbError('s_log_block_size', '0..6 (1 KiB to 64 KiB blocks)', sb.s_log_block_size);
  const blockSize = 1024 << sb.s_log_block_size;
  const is64 = (sb.s_feature_incompat & INCOMPAT.BIT64) !== 0;
  const blocksCount = sb.s_blocks_count_lo + (is64 ? sb.s_blocks_count_hi * 2 ** 32 : 0);
  if (blocksCount * blockSize > dev.size) {
    throw new InputError(`ext4: the filesystem says it has ${blocksCount} blocks of ${blockSize} bytes but the device holds only ${dev.size} bytes`,
      'the image is truncated, or the partition size is wrong');
  }
  const firstData = blockSize === 1024 ? 1 : 0;
  if (sb.s_first_data_block !== firstData) throw sbError('s_first_data_block', String(firstData), sb.s_first_data_block);
  if (blocksCount <= firstData + 1) throw sbError('s_blocks_count_lo', `more than ${firstData + 1} blocks`, blocksCount);
  if (sb.s_blocks_per_group < 8 || sb.s_blocks_per_group > 8 * blockSize || sb.s_blocks_per_group % 8 !== 0) {
    throw sbError('s_blocks_per_group', `a multiple of 8 up to ${8 * blockSize}`, sb.s_blocks_per_group);
  }
  if (sb.s_rev_level > 1) throw sbError('s_rev_level', '0 or 1', sb.s_rev_level);
  const inodeSize = sb.s_rev_level === 0 ? GOOD_OLD_INODE_SIZE : sb.s_inode_size;
  if (inodeSize < GOOD_OLD_INODE_SIZE || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) {
    throw sbError('s_inode_size', `a power of two from 128 to the block size ${blockSize}`, inodeSize);
  }
  if (sb.s_inodes_per_group < 1 || sb.s_inodes_per_group > 8 * blockSize) {
    throw sbError('s_inodes_per_group', `1..${8 * blockSize}`, sb.s_inodes_per_group);
  }
  let descSize = 32;
  if (is64) {
    descSize = sb.s_desc_size;
    if (descSize !== 64) {
      throw new DiskImageError('UNSUPPORTED', `ext4: group descriptors of ${descSize} bytes (s_desc_size); this reader knows 32 and 64`,
        descSize < 64 ? HINT_DAMAGED : 'a filesystem made with mke2fs -E desc_size=...: mount it, or use debugfs');
    }
  }
  const groups = groupsFor(blocksCount, sb.s_blocks_per_group, firstData);
  if (sb.s_inodes_count < 11 || sb.s_inodes_count > groups * sb.s_inodes_per_group) {
    throw sbError('s_inodes_count', `11..${groups * sb.s_inodes_per_group} (groups x s_inodes_per_group)`, sb.s_inodes_count);
  }
  const gdtBlocks = gdtBlocksFor(groups, blockSize, descSize);
  const metaBg = (sb.s_feature_incompat & INCOMPAT.META_BG) !== 0;
  if (metaBg && sb.s_first_meta_bg > gdtBlocks) throw sbError('s_first_meta_bg', `at most ${gdtBlocks}`, sb.s_first_meta_bg);
  if (!metaBg && firstData + 1 + gdtBlocks > blocksCount) {
    throw sbError('s_blocks_count_lo', `room for the ${gdtBlocks} descriptor blocks of ${groups} groups`, blocksCount);
  }
  return {
    sb, blockSize, blocksCount, groups, descSize, inodeSize, is64,
    inodesPerGroup: sb.s_inodes_per_group, inodesCount: sb.s_inodes_count,
    inodeTableBlocks: Math.ceil((sb.s_inodes_per_group * inodeSize) / blockSize),
  };
}

/** Block holding the descriptor of group `g`: after the superblock, or (meta_bg) in its meta group's first group. */
export function descriptorBlock(geo: Ext4Geometry, g: number): number {
  const sb = geo.sb;
  const perBlock = geo.blockSize / geo.descSize;
  const tableBlock = Math.floor(g / perBlock);
  const first = sb.s_first_data_block;
  if ((sb.s_feature_incompat & INCOMPAT.META_BG) === 0 || tableBlock < sb.s_first_meta_bg) return first + 1 + tableBlock;
  const metaGroupFirst = tableBlock * perBlock;
  const sparse = (sb.s_feature_ro_compat & RO_COMPAT.SPARSE_SUPER) !== 0 && (sb.s_feature_compat & COMPAT.SPARSE_SUPER2) === 0;
  return first + metaGroupFirst * sb.s_blocks_per_group + (groupHasSuper(metaGroupFirst, sparse) ? 1 : 0);
}

/** Lazily read, checked inode-table locations. */
export class InodeTables {
  private readonly cache = new Map<number, number>();
  constructor(private readonly dev: BlockDevice, private readonly geo: Ext4Geometry, private readonly origin = 0) {}

  /** First block of the inode table of group `g`. */
  of(g: number): number {
    const hit = this.cache.get(g);
    if (hit !== undefined) return hit;
    const geo = this.geo;
    const block = descriptorBlock(geo, g);
    const at = block * geo.blockSize + (g % (geo.blockSize / geo.descSize)) * geo.descSize;
    if (block >= geo.blocksCount) {
      throw new FormatError({ struct: `ext4 group descriptor ${g}`, offset: this.origin + at, expected: `a descriptor block below ${geo.blocksCount}`,
        actual: `block ${block}`, hint: HINT_DAMAGED });
    }
    const padded = new Uint8Array(GroupDesc.size);
    padded.set(this.dev.readAt(at, geo.descSize));
    const d = GroupDesc.decode(padded);
    const table = d.bg_inode_table_lo + (geo.descSize >= 64 ? d.bg_inode_table_hi * 2 ** 32 : 0);
    if (table <= geo.sb.s_first_data_block || table + geo.inodeTableBlocks > geo.blocksCount) {
      throw new FormatError({ struct: `ext4 group descriptor ${g}`, field: 'bg_inode_table_lo', offset: this.origin + at + GroupDesc.offsetOf('bg_inode_table_lo'),
        expected: `an inode table of ${geo.inodeTableBlocks} blocks inside the filesystem's ${geo.blocksCount}`, actual: `block ${table}`, hint: HINT_DAMAGED });
    }
    this.cache.set(g, table);
    return table;
  }
}
