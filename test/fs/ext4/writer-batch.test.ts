/**
 * The ext4 writer's write coalescing (src/fs/ext4/write-batch.ts): a seeded mix of contiguous
 * and scattered, small and big writes leaves exactly the bytes the same writes make when they
 * go straight to the device, and back-to-back small writes reach the device as one write.
 */
import { describe, expect, it } from 'vitest';
import { type BlockDevice, MemoryBlockDevice } from '../../../src/binary/block-device.js';
import { WriteBatch } from '../../../src/fs/ext4/write-batch.js';

class CountingDevice implements BlockDevice {
  readonly writes: { offset: number; length: number }[] = [];
  constructor(readonly inner: MemoryBlockDevice) {}
  get size(): number {
    return this.inner.size;
  }
  readAt(offset: number, length: number): Uint8Array {
    return this.inner.readAt(offset, length);
  }
  writeAt(offset: number, data: Uint8Array): void {
    this.writes.push({ offset, length: data.length });
    this.inner.writeAt(offset, data);
  }
}

/** xorshift32, so the write pattern is the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('WriteBatch', () => {
  it('leaves the same bytes as direct writes for a mix of contiguous, scattered, small and big writes', () => {
    const size = 64 << 20;
    const direct = new MemoryBlockDevice(size);
    const batched = new CountingDevice(new MemoryBlockDevice(size));
    const batch = new WriteBatch(batched);
    const rand = rng(42);
    let pos = 0;
    let writes = 0;
    for (let i = 0; i < 3000; i++) {
      const r = rand();
      // Mostly small, some of several hundred KiB (past the direct-write threshold), some empty.
      const len = r < 0.02 ? 0 : r < 0.1 ? Math.floor(rand() * 600_000) : Math.floor(rand() * 9000);
      if (rand() < 0.2) pos = Math.floor(rand() * (size - 1_000_000)); // jump elsewhere
      if (pos + len > size) pos = 0;
      const data = new Uint8Array(len);
      for (let k = 0; k < len; k += 97) data[k] = (i + k) & 0xff;
      // Jumps may overlap earlier writes: order is kept, so the later bytes win in both.
      direct.writeAt(pos, data);
      batch.write(pos, data);
      writes++;
      pos += len;
    }
    batch.flush();
    expect(Buffer.compare(batched.inner.bytes, direct.bytes)).toBe(0);
    expect(batched.writes.length).toBeLessThan(writes);
  });

  it('sends back-to-back small writes as one device write and flushes before a gap', () => {
    const dev = new CountingDevice(new MemoryBlockDevice(1 << 20));
    const batch = new WriteBatch(dev);
    for (let i = 0; i < 10; i++) batch.write(i * 4096, new Uint8Array(4096).fill(i + 1));
    expect(dev.writes).toEqual([]);
    batch.write(100 * 4096, new Uint8Array(4096).fill(0xaa)); // not contiguous: the first 10 go out
    expect(dev.writes).toEqual([{ offset: 0, length: 10 * 4096 }]);
    batch.flush();
    expect(dev.writes[1]).toEqual({ offset: 100 * 4096, length: 4096 });
    expect(dev.inner.bytes[9 * 4096]).toBe(10);
    expect(dev.inner.bytes[100 * 4096]).toBe(0xaa);
  });

  it('keeps the order of overlapping writes: a later big or scattered write wins over staged bytes', () => {
    const dev = new CountingDevice(new MemoryBlockDevice(4 << 20));
    const batch = new WriteBatch(dev);
    batch.write(8192, new Uint8Array(4096).fill(1)); // staged
    batch.write(0, new Uint8Array(1 << 20).fill(2)); // big, covers the staged block
    batch.write(1 << 21, new Uint8Array(100).fill(3)); // staged
    batch.write((1 << 21) + 50, new Uint8Array(10).fill(4)); // overlaps, not contiguous
    batch.flush();
    expect(dev.inner.bytes[8192]).toBe(2);
    expect(dev.inner.bytes[(1 << 21) + 49]).toBe(3);
    expect(dev.inner.bytes[(1 << 21) + 50]).toBe(4);
    expect(dev.inner.bytes[(1 << 21) + 60]).toBe(3);
  });
});
