/**
 * The ext4 writer's jbd2 journal: an empty log in its own inode (8), its superblock in the
 * first block (Documentation/filesystems/ext4/journal.rst).
 */
import type { BlockDevice } from '../../binary/block-device.js';
import { BLOCK_SIZE, INO, INODE_FLAGS, JBD2_MAGIC } from './constants.js';
import { type FileExtent, appendRun } from './extent-tree.js';
import type { InodeRecord } from './inode-record.js';
import { JBD2_SUPERBLOCK_V2, JournalSuperblock } from './journal.js';
import { syntheticDir } from './numbering.js';
import { type WriteContext, extentRecord } from './write-inodes.js';

/** The jbd2 journal: an empty log in `journalBlocks` blocks, its superblock in the first. */
export function writeJournal(ctx: WriteContext, dev: BlockDevice, journalBlocks: number, uuidBytes: Uint8Array, time: number): InodeRecord {
  const extents: FileExtent[] = [];
  let logical = 0;
  for (const r of ctx.map.runs(journalBlocks, 32768)) {
    appendRun(extents, logical, r.start, r.len);
    logical += r.len;
  }
  const jsb = JournalSuperblock.encode({
    h_magic: JBD2_MAGIC, h_blocktype: JBD2_SUPERBLOCK_V2, h_sequence: 0, s_blocksize: BLOCK_SIZE, s_maxlen: journalBlocks,
    s_first: 1, s_sequence: 1, s_start: 0, s_errno: 0, s_feature_compat: 0, s_feature_incompat: 0, s_feature_ro_compat: 0,
    s_uuid: uuidBytes, s_nr_users: 1, s_dynsuper: 0, s_max_transaction: 0, s_max_trans_data: 0, s_checksum_type: 0,
    s_padding2: new Uint8Array(3), s_num_fc_blks: 0, s_head: 0, s_padding: new Uint8Array(160), s_checksum: 0,
    s_users: new Uint8Array(16 * 48),
  });
  const first = new Uint8Array(BLOCK_SIZE);
  first.set(jsb);
  dev.writeAt(extents[0]!.physical * BLOCK_SIZE, first);
  const jEntry = syntheticDir('<journal>', time, 0o600);
  jEntry.type = 'file';
  const t = extentRecord(ctx, INO.JOURNAL, extents, journalBlocks);
  return {
    ino: INO.JOURNAL, entry: jEntry, links: 1, size: journalBlocks * BLOCK_SIZE, flags: INODE_FLAGS.EXTENTS,
    iBlock: t.iBlock, blocks: t.blocks, xattrBlock: 0, crtime: time,
  };
}
