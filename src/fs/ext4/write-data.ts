/**
 * The ext4 writer's file data: a file's content streamed in 1 MiB steps into runs allocated as
 * they come, all-zero blocks left as holes, and only the blocks a source says hold data
 * (dataRanges) read at all.
 */
import { alignDown, alignUp } from '../../binary/align.js';
import { InputError } from '../../errors.js';
import type { FileContent, TreeEntry } from '../../tree/model.js';
import { BLOCK_SIZE, INODE_FLAGS } from './constants.js';
import { type FileExtent, appendRun } from './extent-tree.js';
import type { InodeRecord } from './inode-record.js';
import { type WriteContext, extentRecord } from './write-inodes.js';

/** Bytes read from a file per step (256 blocks). */
const CHUNK = 1024 * 1024;

const ZEROS = Buffer.alloc(CHUNK);

/**
 * Whether data[start, end) is all zero: a look at the first bytes (data blocks almost always
 * fail there), then a native memcmp against a zero buffer.
 */
function zeroRange(data: Uint8Array, start: number, end: number): boolean {
  if ((data[start]! | data[start + 1]! | data[start + 2]! | data[start + 3]!) !== 0 && end - start >= 4) return false;
  return ZEROS.compare(data, start, end, 0, end - start) === 0;
}

/** Streams a file's content into freshly allocated runs, leaving all-zero blocks as holes. */
export function writeFileInode(ctx: WriteContext, rec: InodeRecord, e: TreeEntry, onChunk: () => void): void {
  const content = e.content;
  const fsize = e.size;
  if (fsize > 0 && !content) throw new InputError(`${e.path}: a regular file of ${fsize} bytes has no content`);
  const extents: FileExtent[] = [];
  let dataBlocks = 0;
  for (const [start, end] of blockRanges(e.path, content, fsize)) {
    for (let off = start; off < end; off += CHUNK) {
      const want = Math.min(CHUNK, end - off);
      const data = content!.read(off, want);
      if (data.length !== want) throw new InputError(`${e.path}: expected ${want} bytes at offset ${off} but the source gave ${data.length}`, 'the file changed while the image was written?');
      dataBlocks += writeChunk(ctx, extents, off / BLOCK_SIZE, data, want);
      ctx.written += want;
      onChunk();
    }
  }
  const t = extentRecord(ctx, rec.ino, extents, dataBlocks);
  rec.iBlock = t.iBlock;
  rec.blocks += t.blocks;
  rec.size = fsize;
  rec.flags = INODE_FLAGS.EXTENTS;
}

/**
 * The byte ranges of a file worth reading, [start, end) in increasing order, starts on block
 * boundaries: the whole file, or the blocks its source's dataRanges touch (the rest is holes).
 */
function blockRanges(path: string, content: FileContent | undefined, size: number): [number, number][] {
  const known = content?.dataRanges?.();
  if (!known) return size > 0 ? [[0, size]] : [];
  const out: [number, number][] = [];
  for (const [offset, length] of known) {
    if (length <= 0) continue;
    const start = alignDown(offset, BLOCK_SIZE);
    const end = Math.min(size, alignUp(offset + length, BLOCK_SIZE));
    const last = out[out.length - 1];
    if (last && start < last[0]) throw new InputError(`${path}: its source's data range ${offset}+${length} comes before the one listed ahead of it`);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end); // two ranges in one block
    else if (start < end) out.push([start, end]);
  }
  return out;
}

/**
 * Writes the non-zero blocks of one chunk of a file (block i is data[i*B, min((i+1)*B, want)),
 * a short last block padded with zeros), each run allocated as it comes; returns the blocks used.
 */
function writeChunk(ctx: WriteContext, extents: FileExtent[], firstLogical: number, data: Uint8Array, want: number): number {
  const nb = Math.ceil(want / BLOCK_SIZE);
  const blockEnd = (i: number) => Math.min((i + 1) * BLOCK_SIZE, want);
  let used = 0;
  let i = zeroRange(data, 0, want) ? nb : 0;
  while (i < nb) {
    if (zeroRange(data, i * BLOCK_SIZE, blockEnd(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < nb && !zeroRange(data, j * BLOCK_SIZE, blockEnd(j))) j++;
    let lb = firstLogical + i;
    let src = i * BLOCK_SIZE;
    for (const r of ctx.map.runs(j - i, 32768)) {
      const end = Math.min(src + r.len * BLOCK_SIZE, want);
      ctx.out.write(r.start * BLOCK_SIZE, data.subarray(src, end));
      const pad = r.len * BLOCK_SIZE - (end - src);
      if (pad > 0) ctx.out.write(r.start * BLOCK_SIZE + (end - src), ZEROS.subarray(0, pad));
      appendRun(extents, lb, r.start, r.len);
      lb += r.len;
      src += r.len * BLOCK_SIZE;
    }
    used += j - i;
    i = j;
  }
  return used;
}
