/**
 * Write coalescing for the ext4 writer. Blocks are allocated first-fit from a moving cursor,
 * so consecutive small files, directory blocks and extent blocks usually land back to back;
 * a tree of 200,000 small files would otherwise cost 200,000 device writes (one system call
 * each on a file). Writes that continue the pending range are copied into one staging buffer
 * and reach the device as a single write; big writes go straight through. Every byte still
 * goes to the same offset as before, so the image is byte-for-byte what unbatched writes make.
 * The caller flushes before anything reads the device or writes an overlapping range.
 */
import type { BlockDevice } from '../../binary/block-device.js';

/** Staging buffer size. */
const STAGE = 1 << 20;
/** Writes at least this big skip the staging copy (the system call is amortised already). */
const DIRECT = 128 << 10;

export class WriteBatch {
  private readonly buf = new Uint8Array(STAGE);
  private start = 0;
  private len = 0;

  constructor(private readonly dev: BlockDevice) {}

  write(offset: number, data: Uint8Array): void {
    const n = data.length;
    if (n === 0) return;
    if (n >= DIRECT) {
      this.flush();
      this.dev.writeAt(offset, data);
      return;
    }
    if (this.len > 0 && (offset !== this.start + this.len || this.len + n > STAGE)) this.flush();
    if (this.len === 0) this.start = offset;
    this.buf.set(data, this.len);
    this.len += n;
  }

  flush(): void {
    if (this.len === 0) return;
    this.dev.writeAt(this.start, this.buf.subarray(0, this.len));
    this.len = 0;
  }
}
