/**
 * The declared FAT structs (src/fs/fat/structs.ts) round-trip at their spec sizes, on a sample
 * value and on the boot sectors, FSInfo sector and root directory entries mkfs.fat wrote.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirEntry, Fat16BootSector, Fat32BootSector, FsInfo, LfnEntry } from '../../../src/fs/fat/structs.js';
import { expectRoundTrip } from '../../helpers/struct-round-trip.js';
import { hasTool } from '../../helpers/tools.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fat-structs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A FAT image made by mkfs.fat (-F bits, fixed volume id and label). */
function mkfsFat(bits: 16 | 32, sizeMiB: number): Buffer {
  const img = path.join(tmp, `fat${bits}.img`);
  execFileSync('truncate', ['-s', `${sizeMiB}M`, img]);
  execFileSync('mkfs.fat', ['-F', String(bits), '-i', '12345678', '-n', 'ESPLABEL', img], { stdio: 'ignore' });
  return fs.readFileSync(img);
}

describe('every declared FAT struct round-trips at its spec size', () => {
  it('on sample values', () => {
    expectRoundTrip(Fat16BootSector, 512);
    expectRoundTrip(Fat32BootSector, 512);
    expectRoundTrip(FsInfo, 512);
    expectRoundTrip(DirEntry, 32);
    expectRoundTrip(LfnEntry, 32);
  });

  it.skipIf(!hasTool('mkfs.fat'))('on the sectors mkfs.fat wrote', () => {
    const f16 = mkfsFat(16, 32);
    expectRoundTrip(Fat16BootSector, 512, f16.subarray(0, 512));
    const b16 = Fat16BootSector.decode(f16);
    const rootDir = (b16.BPB_RsvdSecCnt + b16.BPB_NumFATs * b16.BPB_FATSz16) * 512;
    expectRoundTrip(DirEntry, 32, f16.subarray(rootDir, rootDir + 32)); // the volume label entry
    expect(Buffer.from(DirEntry.decode(f16, rootDir).DIR_Name).toString('latin1')).toBe('ESPLABEL   ');
    const f32 = mkfsFat(32, 64);
    expectRoundTrip(Fat32BootSector, 512, f32.subarray(0, 512));
    const b32 = Fat32BootSector.decode(f32);
    expectRoundTrip(FsInfo, 512, f32.subarray(b32.BPB_FSInfo * 512, b32.BPB_FSInfo * 512 + 512));
  });
});
