/**
 * Shared helpers of the partition-table tests: which reference tools are here (sfdisk, sgdisk,
 * partx, losetup; running them is test/helpers/tools.ts), fixtures expanded into a temporary
 * folder, and byte comparison shown as a hex diff of the differing 16-byte rows only.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { hasTool, mustRun } from '../helpers/tools.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/partition');

export const isRoot = process.getuid?.() === 0;
export const haveSfdisk = hasTool('sfdisk');
export const haveSgdisk = hasTool('sgdisk');
export const havePartx = hasTool('partx');
export const haveLosetup = hasTool('losetup') && isRoot && fs.existsSync('/dev/loop-control');

let tmpRoot: string | undefined;
export function tmpDir(): string {
  tmpRoot ??= fs.mkdtempSync(path.join(os.tmpdir(), 'partition-test-'));
  return tmpRoot;
}
export function cleanupTmp(): void {
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
  tmpRoot = undefined;
}

let counter = 0;
/** A fresh sparse image file of `size` bytes, opened as a device. */
export function freshImage(size: number, name = 'image'): { path: string; dev: FileBlockDevice } {
  const p = path.join(tmpDir(), `${name}-${++counter}.img`);
  return { path: p, dev: FileBlockDevice.create(p, size) };
}

/** Expands fixtures/partition/NAME.img.gz into a temporary copy (tests may write to it). */
export function fixtureImage(name: string): string {
  const p = path.join(tmpDir(), `${name}-${++counter}.img`);
  fs.writeFileSync(p, gunzipSync(fs.readFileSync(path.join(FIXTURES, `${name}.img.gz`))));
  return p;
}

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(gunzipSync(fs.readFileSync(path.join(FIXTURES, `${name}.img.gz`))));
}

const hexRow = (b: Uint8Array, off: number) =>
  Array.from(b.subarray(off, off + 16), (x) => x.toString(16).padStart(2, '0')).join(' ');

/** The differing 16-byte rows of two buffers, as "offset: expected / actual" lines (empty when equal). */
export function hexDiffRows(expected: Uint8Array, actual: Uint8Array, maxRows = 24): string {
  const lines: string[] = [];
  if (expected.length !== actual.length) lines.push(`lengths differ: expected ${expected.length}, actual ${actual.length}`);
  const n = Math.min(expected.length, actual.length);
  let rows = 0;
  for (let off = 0; off < n; off += 16) {
    let same = true;
    for (let i = off; i < Math.min(off + 16, n); i++) if (expected[i] !== actual[i]) { same = false; break; }
    if (same) continue;
    if (++rows > maxRows) { lines.push('... (more rows differ)'); break; }
    const o = off.toString(16).padStart(8, '0');
    lines.push(`${o}  ref: ${hexRow(expected, off)}`, `${o}  our: ${hexRow(actual, off)}`);
  }
  return lines.join('\n');
}

/** sfdisk --json of an image file or block device. */
export function sfdiskJson(target: string): {
  label: string;
  id: string;
  sectorsize: number;
  firstlba?: number;
  lastlba?: number;
  partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; attrs?: string; bootable?: boolean }[];
} {
  return JSON.parse(mustRun('sfdisk', ['--json', target])).partitiontable;
}
