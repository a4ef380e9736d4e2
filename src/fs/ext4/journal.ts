/**
 * The jbd2 journal superblock (Documentation/filesystems/ext4/journal.rst), big-endian, in the
 * first block of the journal inode. An empty, clean journal is this block (v2, s_start 0)
 * followed by blocks that are never read until a transaction is written.
 */
import { bytes, defineStruct, u8, u32be } from '../../binary/struct.js';

export const JournalSuperblock = defineStruct('journal_superblock_t', 1024, {
  h_magic: [0x00, u32be],
  h_blocktype: [0x04, u32be],
  h_sequence: [0x08, u32be],
  s_blocksize: [0x0c, u32be],
  s_maxlen: [0x10, u32be],
  s_first: [0x14, u32be],
  s_sequence: [0x18, u32be],
  s_start: [0x1c, u32be],
  s_errno: [0x20, u32be],
  s_feature_compat: [0x24, u32be],
  s_feature_incompat: [0x28, u32be],
  s_feature_ro_compat: [0x2c, u32be],
  s_uuid: [0x30, bytes(16)],
  s_nr_users: [0x40, u32be],
  s_dynsuper: [0x44, u32be],
  s_max_transaction: [0x48, u32be],
  s_max_trans_data: [0x4c, u32be],
  s_checksum_type: [0x50, u8],
  s_padding2: [0x51, bytes(3)],
  s_num_fc_blks: [0x54, u32be],
  s_head: [0x58, u32be],
  s_padding: [0x5c, bytes(160)],
  s_checksum: [0xfc, u32be],
  s_users: [0x100, bytes(16 * 48)],
});

export const JBD2_SUPERBLOCK_V2 = 4;

/** The journal size mke2fs picks for a filesystem of `blocks` blocks (ext2fs_default_journal_size), in blocks. */
export function defaultJournalBlocks(blocks: number): number {
  if (blocks < 2048) return 0;
  if (blocks < 32768) return 1024;
  if (blocks < 256 * 1024) return 4096;
  if (blocks < 512 * 1024) return 8192;
  if (blocks < 4096 * 1024) return 16384;
  if (blocks < 8192 * 1024) return 32768;
  if (blocks < 16384 * 1024) return 65536;
  if (blocks < 32768 * 1024) return 131072;
  return 262144;
}
