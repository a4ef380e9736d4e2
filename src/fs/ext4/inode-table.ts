/**
 * Streams inode records into the inode tables as the writer finishes them, 256 inodes (64 KiB)
 * at a time, so no per-inode record outlives its entry. Inodes arrive in increasing order
 * (the reserved ones first, all in the first chunk of group 0); the rest of each used group's
 * table is written as zeros so the group can be marked INODE_ZEROED.
 */
import { InternalError } from '../../errors.js';
import type { BlockDevice } from '../../binary/block-device.js';
import { BLOCK_SIZE, INODE_SIZE } from './constants.js';
import type { Geometry } from './geometry.js';
import { type InodeRecord, encodeBadBlocksInode, encodeInodeRecord } from './inode-record.js';
import type { GroupInodeUse, GroupPlacement } from './metadata.js';

const PER_CHUNK = 256;

export class InodeTableWriter {
  private readonly chunk = new Uint8Array(PER_CHUNK * INODE_SIZE);
  private group = -1;
  private index = -1;
  private readonly dirs: number[];
  private lastIno = 0;

  constructor(
    private readonly dev: BlockDevice,
    private readonly geo: Geometry,
    private readonly place: GroupPlacement[],
    private readonly fsSeed: number,
    time: number,
  ) {
    this.dirs = new Array<number>(geo.groups).fill(0);
    this.moveTo(0, 0);
    encodeBadBlocksInode(time, fsSeed, this.chunk, 0);
  }

  private moveTo(group: number, index: number): void {
    if (group === this.group && index === this.index) return;
    if (this.group >= 0 && (group < this.group || (group === this.group && index < this.index))) {
      throw new InternalError(`inode table chunks out of order: ${group}/${index} after ${this.group}/${this.index}`);
    }
    this.flush();
    this.group = group;
    this.index = index;
    this.chunk.fill(0);
  }

  private flush(): void {
    if (this.group < 0) return;
    const n = Math.min(PER_CHUNK, this.geo.inodesPerGroup - this.index * PER_CHUNK);
    this.dev.writeAt(this.place[this.group]!.inodeTable * BLOCK_SIZE + this.index * PER_CHUNK * INODE_SIZE, this.chunk.subarray(0, n * INODE_SIZE));
  }

  put(r: InodeRecord): void {
    const k = r.ino - 1;
    const g = Math.floor(k / this.geo.inodesPerGroup);
    const i = k % this.geo.inodesPerGroup;
    this.moveTo(g, Math.floor(i / PER_CHUNK));
    encodeInodeRecord(r, this.fsSeed, this.chunk, (i % PER_CHUNK) * INODE_SIZE);
    if (r.entry.type === 'dir') this.dirs[g]!++;
    this.lastIno = Math.max(this.lastIno, r.ino);
  }

  /** Flushes, zero-fills the rest of the last used group's table, and says what each group uses. */
  finish(lastIno: number): GroupInodeUse[] {
    const ipg = this.geo.inodesPerGroup;
    // The last put was the highest inode: zero the rest of its group's table.
    const chunks = Math.ceil(ipg / PER_CHUNK);
    for (let c = this.index + 1; c < chunks; c++) this.moveTo(this.group, c);
    this.flush();
    this.group = -1;
    const use: GroupInodeUse[] = [];
    for (let g = 0; g < this.geo.groups; g++) {
      const used = Math.max(0, Math.min(ipg, lastIno - g * ipg));
      use.push({ used, dirs: this.dirs[g]!, tableWritten: used > 0 });
    }
    return use;
  }
}
