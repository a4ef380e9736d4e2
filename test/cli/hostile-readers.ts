// Shared by the hostile-input tests of the image readers (disk-image-ls, disk-image-cat,
// disk-image-get-kernel): a small bare ext4 image built by disk-image-create, and a GPT disk
// whose headers announce a million entries.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { runBin } from '../helpers/hostile.js';

/** Builds DIR/small.raw (bare ext4) holding /etc/os-release and /etc/hostname. */
export function smallImage(dir: string): string {
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/os-release'), 'ID=hostile\n');
  fs.writeFileSync(path.join(root, 'etc/hostname'), 'hostile\n');
  const r = runBin('disk-image-create', ['-n', '-t', 'raw', '--root-dir', root, '-o', path.join(dir, 'small')], { env: { TMPDIR: dir } });
  if (r.code !== 0) throw new Error(`building the test image failed: ${r.stderr}`);
  return path.join(dir, 'small.raw');
}

/** Sets NumberOfPartitionEntries (0x50) of the GPT header at `offset` of `fd` and fixes its CRC (0x10, over 92 bytes). */
function patchEntryCount(fd: number, offset: number, count: number): void {
  const h = Buffer.alloc(92);
  fs.readSync(fd, h, 0, 92, offset);
  h.writeUInt32LE(count, 0x50);
  h.writeUInt32LE(0, 0x10);
  h.writeUInt32LE(zlib.crc32(h), 0x10);
  fs.writeSync(fd, h, 0, 92, offset);
}

/** DIR/million.raw: a sparse 64 MiB GPT disk (disk-image-layout gpt --write) whose two headers announce 1,000,000 entries. */
export function millionEntryGpt(dir: string): string {
  const file = path.join(dir, 'million.raw');
  execFileSync('truncate', ['-s', '64MiB', file]);
  const r = runBin('disk-image-layout', ['gpt', '--write', file]);
  if (r.code !== 0) throw new Error(`writing the GPT failed: ${r.stderr}`);
  const fd = fs.openSync(file, 'r+');
  try {
    patchEntryCount(fd, 512, 1_000_000);
    patchEntryCount(fd, fs.fstatSync(fd).size - 512, 1_000_000);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}
