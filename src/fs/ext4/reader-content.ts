/**
 * A file's content as the ext4 reader (reader.ts) serves it: inline data (the first 60 bytes
 * in i_block, the rest in the system.data attribute) or the runs of blocks its extent tree or
 * block map lists, read on first use.
 */
import { Inode } from './inode.js';
import { type BlockSource, type Run, fsError, readRuns, readRunsInto } from './reader-blocks.js';
import type { Ext4FileContent, LoadedInode } from './reader-types.js';

/** i_block: 60 bytes (15 block pointers, an extent root, a fast symlink, or inline data). */
export const I_BLOCK_SIZE = Inode.fields.i_block[1].size;

/** The content of inline inode `n` from its i_block (`head`) and system.data (`tail`). */
export function inlineContent(src: BlockSource, n: LoadedInode, head: Uint8Array, tail: Uint8Array): Ext4FileContent {
  if (n.size > I_BLOCK_SIZE + tail.length) {
    throw fsError(src, `ext4 inode ${n.ino} (inline data)`, 'i_size_lo', n.at + Inode.offsetOf('i_size_lo'),
      `at most the ${I_BLOCK_SIZE + tail.length} bytes in i_block and system.data`, `${n.size}`);
  }
  const data = new Uint8Array(n.size);
  data.set(head.subarray(0, Math.min(I_BLOCK_SIZE, n.size)));
  if (n.size > I_BLOCK_SIZE) data.set(tail.subarray(0, n.size - I_BLOCK_SIZE), I_BLOCK_SIZE);
  return {
    size: n.size,
    read: (offset, length) => data.slice(offset, Math.min(n.size, offset + length)),
    readInto: (offset, target) => {
      const part = data.subarray(Math.min(offset, n.size), Math.min(n.size, offset + target.length));
      target.set(part);
      target.fill(0, part.length);
    },
  };
}

/** The content of inode `n` from its block runs (`runsOf`, asked once, on the first read). */
export function runsContent(src: BlockSource, n: LoadedInode, runsOf: () => Run[]): Ext4FileContent {
  let runs: Run[] | undefined;
  return {
    size: n.size,
    read: (offset, length) => {
      runs ??= runsOf();
      return readRuns(src, runs, offset, Math.max(0, Math.min(length, n.size - offset)));
    },
    readInto: (offset, target) => {
      runs ??= runsOf();
      const inFile = Math.max(0, Math.min(target.length, n.size - offset));
      readRunsInto(src, runs, offset, target.subarray(0, inFile));
      target.fill(0, inFile);
    },
  };
}
