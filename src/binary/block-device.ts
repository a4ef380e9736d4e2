/**
 * The block-device interface every format writes through: byte-addressed reads and writes
 * of a device of fixed size. Formats never open files themselves; they get one of these,
 * which may be a whole image file, a window on it (a partition), or memory (tests).
 */
import { InternalError } from '../errors.js';

export interface BlockDevice {
  /** Size in bytes. */
  readonly size: number;
  readAt(offset: number, length: number): Uint8Array;
  writeAt(offset: number, data: Uint8Array): void;
  /** Optional: fills `target` from `offset` (readers that copy large files reuse one buffer). */
  readInto?(offset: number, target: Uint8Array): void;
}

/** Fills `target` from `dev` at `offset`, with readInto when the device has it. */
export function readInto(dev: BlockDevice, offset: number, target: Uint8Array): void {
  if (dev.readInto) dev.readInto(offset, target);
  else target.set(dev.readAt(offset, target.length));
}

function checkRange(what: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > size) {
    throw new InternalError(`${what}: access of ${length} bytes at offset ${offset} is outside the device of ${size} bytes`);
  }
}

/** An in-memory device, for tests and small scratch images. */
export class MemoryBlockDevice implements BlockDevice {
  readonly bytes: Uint8Array;
  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
  }
  get size(): number {
    return this.bytes.length;
  }
  readAt(offset: number, length: number): Uint8Array {
    checkRange('memory device', this.size, offset, length);
    return this.bytes.slice(offset, offset + length);
  }
  writeAt(offset: number, data: Uint8Array): void {
    checkRange('memory device', this.size, offset, data.length);
    this.bytes.set(data, offset);
  }
}

/** A window of another device: a partition, or a filesystem placed at a byte offset. */
export class SliceBlockDevice implements BlockDevice {
  constructor(
    readonly parent: BlockDevice,
    readonly start: number,
    readonly size: number,
  ) {
    checkRange('slice', parent.size, start, size);
  }
  readAt(offset: number, length: number): Uint8Array {
    checkRange('slice', this.size, offset, length);
    return this.parent.readAt(this.start + offset, length);
  }
  readInto(offset: number, target: Uint8Array): void {
    checkRange('slice', this.size, offset, target.length);
    readInto(this.parent, this.start + offset, target);
  }
  writeAt(offset: number, data: Uint8Array): void {
    checkRange('slice', this.size, offset, data.length);
    this.parent.writeAt(this.start + offset, data);
  }
}

/** True when every byte is zero (checked a 32-bit word at a time where aligned). */
export function isZero(data: Uint8Array, start = 0, end = data.length): boolean {
  let i = start;
  if ((data.byteOffset + i) % 4 === 0) {
    const words = Math.floor((end - i) / 4);
    const w = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let k = 0; k < words; k++) if (w[k] !== 0) return false;
    i += words * 4;
  }
  for (; i < end; i++) if (data[i] !== 0) return false;
  return true;
}
