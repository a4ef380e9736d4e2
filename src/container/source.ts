/**
 * What container writers read and write. An ImageSource is the guest disk (usually the sparse
 * raw image the assembler wrote) with an optional list of the byte ranges that may hold data:
 * everything outside them reads as zeros and is never read. A ByteSink is where the container's
 * bytes go; writers write mostly in ascending order, so a sink can hash them as they pass.
 */
import type { BlockDevice } from '../binary/block-device.js';

export interface ImageSource {
  readonly size: number;
  readAt(offset: number, length: number): Uint8Array;
  /** Ascending, non-overlapping [start, end) byte ranges that may hold non-zero bytes; absent = all of it. */
  readonly dataRanges?: readonly (readonly [number, number])[] | undefined;
}

export interface ByteSink {
  writeAt(offset: number, data: Uint8Array): void;
}

/** A BlockDevice as a source, with the ranges it knows hold data. */
export function deviceSource(dev: BlockDevice, dataRanges?: readonly (readonly [number, number])[]): ImageSource {
  return { size: dev.size, readAt: (o, n) => dev.readAt(o, n), dataRanges };
}

/** Indices of the `unit`-sized blocks of the source that overlap its data ranges, ascending. */
export function blocksWithData(src: ImageSource, unit: number): number[] {
  const count = Math.ceil(src.size / unit);
  const ranges = src.dataRanges ?? [[0, src.size]];
  const out: number[] = [];
  let last = -1;
  for (const [start, end] of ranges) {
    if (end <= start) continue;
    const first = Math.max(last + 1, Math.floor(start / unit));
    const stop = Math.min(count, Math.ceil(Math.min(end, src.size) / unit));
    for (let b = first; b < stop; b++) out.push(b);
    if (stop - 1 > last) last = stop - 1;
  }
  return out;
}

/**
 * Reads the given blocks in runs of neighbours (up to `maxRun` bytes per read), calling `fn`
 * with each block's index and bytes (a full `unit`; the tail past the source's end is zeros).
 */
export function* readBlocks(src: ImageSource, blocks: readonly number[], unit: number, maxRun = 4 << 20): Generator<[number, Uint8Array]> {
  const per = Math.max(1, Math.floor(maxRun / unit));
  let i = 0;
  while (i < blocks.length) {
    let j = i + 1;
    while (j < blocks.length && j - i < per && blocks[j] === blocks[j - 1]! + 1) j++;
    const start = blocks[i]! * unit;
    const want = (j - i) * unit;
    const have = Math.min(want, src.size - start);
    let buf = src.readAt(start, have);
    if (buf.length < want) {
      const full = new Uint8Array(want);
      full.set(buf);
      buf = full;
    }
    for (let k = i; k < j; k++) yield [blocks[k]!, buf.subarray((k - i) * unit, (k - i + 1) * unit)];
    i = j;
  }
}

/**
 * The source with its size rounded up to whole 512-byte sectors, as every container records
 * a disk (qemu rounds the same way); the added tail reads as zeros.
 */
export function wholeSectors(input: ImageSource): ImageSource {
  const size = Math.ceil(input.size / 512) * 512;
  if (size === input.size) return input;
  return { ...input, size, readAt: (off, n) => input.readAt(off, Math.max(0, Math.min(n, input.size - off))) };
}
