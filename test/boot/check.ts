// Reference-tool checks of an assembled image: the partition table (sfdisk -V, sgdisk -v),
// the ext4 root (e2fsck -fn IMG?offset=N), the FAT ESP (fsck.fat -n on a sparse dd copy).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import type { LayoutPlan } from '../../src/layout/plan.js';
import { run as runTool } from '../helpers/tools.js';

/** A tool's exit status and its stdout and stderr together, for assertions and their messages. */
export function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = runTool(cmd, args);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

export function extract(img: string, offset: number, size: number, to: string): void {
  execFileSync('dd', [`if=${img}`, `of=${to}`, 'bs=1M', `skip=${offset}`, `count=${size}`, 'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
}

/** Runs every reference checker that applies to the image and expects each to be clean. */
export function checkImage(img: string, plan: LayoutPlan, workDir: string): void {
  if (plan.table?.label === 'mbr') {
    const r = run('sfdisk', ['-V', img]);
    expect(r.status, r.out).toBe(0);
  }
  if (plan.table?.label === 'gpt') {
    const r = run('sgdisk', ['-v', img]);
    expect(r.out).toContain('No problems found');
  }
  for (const f of plan.filesystems) {
    if (f.type === 'ext4') {
      const r = run('e2fsck', ['-fn', `${img}?offset=${f.offset}`]);
      expect(r.status, r.out).toBe(0);
    } else if (f.type === 'vfat') {
      const copy = path.join(workDir, `esp-${path.basename(img)}`);
      extract(img, f.offset, f.size, copy);
      try {
        const r = run('fsck.fat', ['-n', copy]);
        expect(r.status, r.out).toBe(0);
      } finally {
        fs.rmSync(copy, { force: true });
      }
    }
  }
}

/** A file read from the ext4 filesystem at `offset` with debugfs (no mount needed). */
export function debugfsCat(img: string, offset: number, file: string): string {
  return execFileSync('debugfs', ['-R', `cat ${file}`, `${img}?offset=${offset}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}
