/**
 * A cursor over a byte buffer for variable-length records (directory entries, cpio headers,
 * EBR chains). Fixed-layout structures use `defineStruct` instead.
 */
import { InternalError } from '../errors.js';
import type { Codec } from './struct.js';
import { alignUp } from './align.js';

export class Cursor {
  pos: number;
  constructor(readonly buf: Uint8Array, start = 0) {
    this.pos = start;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  read<T>(codec: Codec<T>): T {
    this.need(codec.size);
    const v = codec.read(this.buf, this.pos);
    this.pos += codec.size;
    return v;
  }
  write<T>(codec: Codec<T>, value: T): this {
    this.need(codec.size);
    codec.write(this.buf, this.pos, value);
    this.pos += codec.size;
    return this;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  put(data: Uint8Array): this {
    this.need(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }
  skip(n: number): this {
    this.need(n);
    this.pos += n;
    return this;
  }
  /** Moves to the next multiple of `n` from the start of the buffer. */
  align(n: number): this {
    const next = alignUp(this.pos, n);
    return this.skip(next - this.pos);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new InternalError(`cursor: need ${n} bytes at offset ${this.pos} but only ${this.buf.length - this.pos} remain`);
    }
  }
}
