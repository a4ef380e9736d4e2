/**
 * The block map of the filesystem being written: one bit per block, set when the block is
 * metadata or data. Allocation is first-fit from a moving cursor, so a tree written in order
 * lands in order (contiguous files, few extents). Bitmaps per group are cut from this map.
 */
import { NoSpaceError } from '../../errors.js';

export interface Run {
  start: number;
  len: number;
}

export class BlockMap {
  readonly bits: Uint8Array;
  private cursor = 0;
  used = 0;
  constructor(
    readonly blocks: number,
    /** Called when the map runs out, to make the NoSpaceError say how much is needed. */
    private readonly onFull: () => NoSpaceError,
  ) {
    this.bits = new Uint8Array(Math.ceil(blocks / 8));
  }

  isUsed(b: number): boolean {
    return (this.bits[b >>> 3]! & (1 << (b & 7))) !== 0;
  }

  mark(start: number, len: number): void {
    for (let b = start; b < start + len; b++) {
      if (!this.isUsed(b)) {
        this.bits[b >>> 3]! |= 1 << (b & 7);
        this.used++;
      }
    }
  }

  free(start: number, len: number): void {
    for (let b = start; b < start + len; b++) {
      if (this.isUsed(b)) {
        this.bits[b >>> 3]! &= ~(1 << (b & 7));
        this.used--;
      }
    }
  }

  private skipUsed(): void {
    while (this.cursor < this.blocks && this.isUsed(this.cursor)) this.cursor++;
    if (this.cursor >= this.blocks) throw this.onFull();
  }

  /** One block, the next free one after the cursor. */
  one(): number {
    this.skipUsed();
    const b = this.cursor++;
    this.mark(b, 1);
    return b;
  }

  /** `n` blocks in as few runs as the free space allows (each run at most `maxRun`). */
  runs(n: number, maxRun = Number.MAX_SAFE_INTEGER): Run[] {
    const out: Run[] = [];
    while (n > 0) {
      this.skipUsed();
      const start = this.cursor;
      let len = 0;
      while (len < n && len < maxRun && start + len < this.blocks && !this.isUsed(start + len)) len++;
      this.mark(start, len);
      this.cursor = start + len;
      out.push({ start, len });
      n -= len;
    }
    return out;
  }

  /** `n` contiguous blocks (the first free run long enough after the cursor). */
  contiguous(n: number): number {
    let start = this.cursor;
    for (;;) {
      while (start < this.blocks && this.isUsed(start)) start++;
      if (start + n > this.blocks) throw this.onFull();
      let len = 0;
      while (len < n && !this.isUsed(start + len)) len++;
      if (len === n) break;
      start += len;
    }
    this.mark(start, n);
    if (start === this.cursor) this.cursor = start + n;
    return start;
  }

  /** Free blocks in [start, start+len). */
  freeIn(start: number, len: number): number {
    let n = 0;
    for (let b = start; b < start + len && b < this.blocks; b++) if (!this.isUsed(b)) n++;
    return n;
  }
}
