/**
 * Test images for the container writers: a raw disk with the kinds of cluster a real image
 * has (random data, text, all-zero clusters inside the data ranges, a sparse gap, a partial
 * last cluster), written to a temp folder, and the container checks qemu-img makes.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileSink } from '../../src/binary/file-sink.js';
import type { ImageSource } from '../../src/container/source.js';
import { expect } from 'vitest';
import { mustRun, run } from '../helpers/tools.js';

/** A raw image of `size` bytes with data in `ranges`; written to `file` (sparse) and returned as a source. */
export function patternImage(file: string, size: number, seed = 1): ImageSource & { bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  const ranges: [number, number][] = [];
  const put = (at: number, data: Uint8Array) => {
    const n = Math.min(data.length, size - at);
    if (n <= 0) return;
    bytes.set(data.subarray(0, n), at);
    ranges.push([at, at + n]);
  };
  const text = new TextEncoder().encode(Array.from({ length: 20000 }, (_, i) => `line ${i * seed} of a text file\n`).join(''));
  put(0, text.subarray(0, 200_000)); // compressible
  put(300_000, randomBytes(150_000)); // not compressible
  put(700_000, new Uint8Array(131072)); // zeros written inside a data range
  put(900_000, text.subarray(0, 70_000));
  put(size - 5000, randomBytes(5000)); // the partial last cluster
  ranges.sort((a, b) => a[0] - b[0]);
  fs.writeFileSync(file, '');
  fs.truncateSync(file, size);
  const fd = fs.openSync(file, 'r+');
  for (const [a, b] of ranges) fs.writeSync(fd, bytes, a, b - a, a);
  fs.closeSync(fd);
  return { size, bytes, readAt: (o, n) => bytes.slice(o, o + n), dataRanges: ranges };
}

/** Writes with `write` into a new file at `file` and finishes it at the returned length. */
export async function toFile(file: string, write: (sink: FileSink) => Promise<{ length: number }> | { length: number }): Promise<void> {
  fs.rmSync(file, { force: true });
  const sink = FileSink.create(file);
  try {
    const r = await write(sink);
    sink.finish(r.length);
  } finally {
    sink.close();
  }
}

export function qemuCheck(file: string, format: string): { status: number | null; out: string } {
  const r = run('qemu-img', ['check', '-f', format, file]);
  return { status: r.status, out: r.stdout + r.stderr };
}

export function qemuCompare(raw: string, file: string, format: string): string {
  const r = run('qemu-img', ['compare', '-f', 'raw', '-F', format, raw, file]);
  return (r.stdout + r.stderr).trim();
}

/** qemu-img's verdict on a container we wrote: `check` clean (exit 0) and `compare` identical to `raw`. */
export function expectCleanAndIdentical(raw: string, file: string, format: string): void {
  const check = qemuCheck(file, format);
  expect(check.out).toContain('No errors were found on the image.');
  expect(check.status).toBe(0);
  expect(qemuCompare(raw, file, format)).toBe('Images are identical.');
}

/** qemu-img info --output=json; `format` forces the driver (a fixed VHD is not probed: its footer is at the end). */
export function qemuInfo(file: string, format?: string): Record<string, any> {
  return JSON.parse(mustRun('qemu-img', ['info', '--output=json', ...(format ? ['-f', format] : []), file])) as Record<string, any>;
}

export function tmpPath(dir: string, name: string): string {
  return path.join(dir, name);
}
