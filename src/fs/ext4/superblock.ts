/**
 * The ext4 superblock, 1024 bytes at byte 1024 of the filesystem and (sparse_super) at the
 * start of groups 0, 1 and powers of 3, 5 and 7 (Documentation/filesystems/ext4/super.rst).
 * Field names and offsets are the spec's; lo/hi halves are kept as separate raw fields.
 * fillSuperblock gives the writer's superblock: the feature set of writer.ts, the geometry,
 * the times, the identity and the journal backup.
 */
import { bytes, defineStruct, u8, u16, u32, u64, type StructValue } from '../../binary/struct.js';
import { crc32cRaw } from '../../binary/crc32c.js';
import {
  BLOCKS_PER_GROUP, CHECKSUM_CRC32C, COMPAT, DEFM, DESC_SIZE, DX_HASH, ERRORS_CONTINUE, EXTRA_ISIZE, EXT4_SUPER_MAGIC,
  INCOMPAT, INO, INODE_SIZE, LOG_BLOCK_SIZE, LOG_GROUPS_PER_FLEX, RO_COMPAT, SB_FLAGS, STATE_CLEAN, SUPERBLOCK_SIZE,
} from './constants.js';
import type { Geometry } from './geometry.js';

export const Superblock = defineStruct('ext4 superblock', SUPERBLOCK_SIZE, {
  s_inodes_count: [0x00, u32],
  s_blocks_count_lo: [0x04, u32],
  s_r_blocks_count_lo: [0x08, u32],
  s_free_blocks_count_lo: [0x0c, u32],
  s_free_inodes_count: [0x10, u32],
  s_first_data_block: [0x14, u32],
  s_log_block_size: [0x18, u32],
  s_log_cluster_size: [0x1c, u32],
  s_blocks_per_group: [0x20, u32],
  s_clusters_per_group: [0x24, u32],
  s_inodes_per_group: [0x28, u32],
  s_mtime: [0x2c, u32],
  s_wtime: [0x30, u32],
  s_mnt_count: [0x34, u16],
  s_max_mnt_count: [0x36, u16],
  s_magic: [0x38, u16],
  s_state: [0x3a, u16],
  s_errors: [0x3c, u16],
  s_minor_rev_level: [0x3e, u16],
  s_lastcheck: [0x40, u32],
  s_checkinterval: [0x44, u32],
  s_creator_os: [0x48, u32],
  s_rev_level: [0x4c, u32],
  s_def_resuid: [0x50, u16],
  s_def_resgid: [0x52, u16],
  s_first_ino: [0x54, u32],
  s_inode_size: [0x58, u16],
  s_block_group_nr: [0x5a, u16],
  s_feature_compat: [0x5c, u32],
  s_feature_incompat: [0x60, u32],
  s_feature_ro_compat: [0x64, u32],
  s_uuid: [0x68, bytes(16)],
  s_volume_name: [0x78, bytes(16)],
  s_last_mounted: [0x88, bytes(64)],
  s_algorithm_usage_bitmap: [0xc8, u32],
  s_prealloc_blocks: [0xcc, u8],
  s_prealloc_dir_blocks: [0xcd, u8],
  s_reserved_gdt_blocks: [0xce, u16],
  s_journal_uuid: [0xd0, bytes(16)],
  s_journal_inum: [0xe0, u32],
  s_journal_dev: [0xe4, u32],
  s_last_orphan: [0xe8, u32],
  s_hash_seed: [0xec, bytes(16)],
  s_def_hash_version: [0xfc, u8],
  s_jnl_backup_type: [0xfd, u8],
  s_desc_size: [0xfe, u16],
  s_default_mount_opts: [0x100, u32],
  s_first_meta_bg: [0x104, u32],
  s_mkfs_time: [0x108, u32],
  /** The journal inode's backup (JournalInodeBackup). */
  s_jnl_blocks: [0x10c, bytes(68)],
  s_blocks_count_hi: [0x150, u32],
  s_r_blocks_count_hi: [0x154, u32],
  s_free_blocks_count_hi: [0x158, u32],
  s_min_extra_isize: [0x15c, u16],
  s_want_extra_isize: [0x15e, u16],
  s_flags: [0x160, u32],
  s_raid_stride: [0x164, u16],
  s_mmp_interval: [0x166, u16],
  s_mmp_block: [0x168, u64],
  s_raid_stripe_width: [0x170, u32],
  s_log_groups_per_flex: [0x174, u8],
  s_checksum_type: [0x175, u8],
  s_encryption_level: [0x176, u8],
  s_reserved_pad: [0x177, u8],
  s_kbytes_written: [0x178, u64],
  s_snapshot_inum: [0x180, u32],
  s_snapshot_id: [0x184, u32],
  s_snapshot_r_blocks_count: [0x188, u64],
  s_snapshot_list: [0x190, u32],
  s_error_count: [0x194, u32],
  s_first_error_time: [0x198, u32],
  s_first_error_ino: [0x19c, u32],
  s_first_error_block: [0x1a0, u64],
  s_first_error_func: [0x1a8, bytes(32)],
  s_first_error_line: [0x1c8, u32],
  s_last_error_time: [0x1cc, u32],
  s_last_error_ino: [0x1d0, u32],
  s_last_error_line: [0x1d4, u32],
  s_last_error_block: [0x1d8, u64],
  s_last_error_func: [0x1e0, bytes(32)],
  s_mount_opts: [0x200, bytes(64)],
  s_usr_quota_inum: [0x240, u32],
  s_grp_quota_inum: [0x244, u32],
  s_overhead_clusters: [0x248, u32],
  s_backup_bgs: [0x24c, bytes(8)],
  s_encrypt_algos: [0x254, bytes(4)],
  s_encrypt_pw_salt: [0x258, bytes(16)],
  s_lpf_ino: [0x268, u32],
  s_prj_quota_inum: [0x26c, u32],
  s_checksum_seed: [0x270, u32],
  s_wtime_hi: [0x274, u8],
  s_mtime_hi: [0x275, u8],
  s_mkfs_time_hi: [0x276, u8],
  s_lastcheck_hi: [0x277, u8],
  s_first_error_time_hi: [0x278, u8],
  s_last_error_time_hi: [0x279, u8],
  s_first_error_errcode: [0x27a, u8],
  s_last_error_errcode: [0x27b, u8],
  s_encoding: [0x27c, u16],
  s_encoding_flags: [0x27e, u16],
  s_orphan_file_inum: [0x280, u32],
  s_reserved: [0x284, bytes(376)],
  s_checksum: [0x3fc, u32],
});

/** s_jnl_blocks: a copy of the journal inode's i_block[0..14], i_size_high and i_size (ext4_fill_super's backup, EXT3_JNL_BACKUP_BLOCKS). */
export const JournalInodeBackup = defineStruct('s_jnl_blocks', 68, {
  i_block: [0x00, bytes(60)],
  i_size_high: [0x3c, u32],
  i_size: [0x40, u32],
});

export type SuperblockValue = StructValue<typeof Superblock.fields>;

/** A superblock with every field zero (start from this and set what you need). */
export function emptySuperblock(): SuperblockValue {
  return Superblock.decode(new Uint8Array(SUPERBLOCK_SIZE));
}

/** crc32c(~0, superblock up to s_checksum): metadata_csum superblock checksum. */
export function superblockChecksum(raw: Uint8Array, offset = 0): number {
  return crc32cRaw(0xffffffff, raw.subarray(offset, offset + Superblock.offsetOf('s_checksum')));
}

/** Encodes with the checksum computed and patched in. */
export function encodeSuperblock(sb: SuperblockValue): Uint8Array {
  const raw = Superblock.encode({ ...sb, s_checksum: 0 });
  new DataView(raw.buffer).setUint32(Superblock.offsetOf('s_checksum'), superblockChecksum(raw), true);
  return raw;
}

/** The checksum seed of every other metadata checksum: crc32c(~0, uuid) (or s_checksum_seed with csum_seed). */
export function checksumSeed(uuid: Uint8Array): number {
  return crc32cRaw(0xffffffff, uuid);
}

/** What the writer's superblock says beyond its fixed feature set. */
export interface SuperblockFacts {
  geo: Geometry;
  /** Creation, write and check time, in seconds. */
  time: number;
  /** Percentage of blocks reserved for root. */
  reservedPercent: number;
  /** The journal inode (its i_block and size are backed up in s_jnl_blocks), when there is a journal. */
  journal?: { iBlock: Uint8Array; size: number };
  /** True when a resize inode reserves the descriptor blocks for growth. */
  resizeInode: boolean;
  uuid: Uint8Array;
  label: string;
  /** The htree hash seed (16 bytes). */
  hashSeed: Uint8Array;
}

/** The superblock of a new filesystem written by writer.ts (the field list is the feature set, kept as a table). */
export function fillSuperblock(f: SuperblockFacts): SuperblockValue {
  const { geo, time, journal } = f;
  const rBlocks = Math.floor((geo.blocks * f.reservedPercent) / 100);
  const jnl = new Uint8Array(JournalInodeBackup.size);
  if (journal) {
    JournalInodeBackup.encode({ i_block: journal.iBlock, i_size_high: Math.floor(journal.size / 2 ** 32), i_size: journal.size >>> 0 }, jnl);
  }
  return Object.assign(emptySuperblock(), {
    s_inodes_count: geo.inodeCount,
    s_blocks_count_lo: geo.blocks >>> 0,
    s_blocks_count_hi: Math.floor(geo.blocks / 2 ** 32),
    s_r_blocks_count_lo: rBlocks >>> 0,
    s_r_blocks_count_hi: Math.floor(rBlocks / 2 ** 32),
    s_first_data_block: 0,
    s_log_block_size: LOG_BLOCK_SIZE,
    s_log_cluster_size: LOG_BLOCK_SIZE,
    s_blocks_per_group: BLOCKS_PER_GROUP,
    s_clusters_per_group: BLOCKS_PER_GROUP,
    s_inodes_per_group: geo.inodesPerGroup,
    s_wtime: time >>> 0,
    s_max_mnt_count: 0xffff,
    s_magic: EXT4_SUPER_MAGIC,
    s_state: STATE_CLEAN,
    s_errors: ERRORS_CONTINUE,
    s_lastcheck: time >>> 0,
    s_rev_level: 1,
    s_first_ino: INO.FIRST,
    s_inode_size: INODE_SIZE,
    s_feature_compat: COMPAT.EXT_ATTR | COMPAT.DIR_INDEX | (journal ? COMPAT.HAS_JOURNAL : 0) |
      (f.resizeInode ? COMPAT.RESIZE_INODE : 0),
    s_reserved_gdt_blocks: geo.reservedGdtBlocks,
    s_feature_incompat: INCOMPAT.FILETYPE | INCOMPAT.EXTENTS | INCOMPAT.BIT64 | INCOMPAT.FLEX_BG,
    s_feature_ro_compat: RO_COMPAT.SPARSE_SUPER | RO_COMPAT.LARGE_FILE | RO_COMPAT.HUGE_FILE | RO_COMPAT.DIR_NLINK |
      RO_COMPAT.EXTRA_ISIZE | RO_COMPAT.METADATA_CSUM,
    s_uuid: f.uuid,
    s_volume_name: Buffer.from(f.label, 'utf8'),
    s_journal_inum: journal ? INO.JOURNAL : 0,
    s_hash_seed: f.hashSeed,
    s_def_hash_version: DX_HASH.HALF_MD4,
    s_jnl_backup_type: journal ? 1 : 0,
    s_desc_size: DESC_SIZE,
    s_default_mount_opts: DEFM.XATTR_USER | DEFM.ACL,
    s_mkfs_time: time >>> 0,
    s_jnl_blocks: jnl,
    s_min_extra_isize: EXTRA_ISIZE,
    s_want_extra_isize: EXTRA_ISIZE,
    s_flags: SB_FLAGS.SIGNED_HASH,
    s_log_groups_per_flex: LOG_GROUPS_PER_FLEX,
    s_checksum_type: CHECKSUM_CRC32C,
  });
}
