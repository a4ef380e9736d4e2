// Hostile inputs to disk-image-cat: images that are not files, a path with a trailing slash
// on a regular file (POSIX: ENOTDIR), paths that do not exist, a GPT announcing a million entries.
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClearError, runBin, workFolder } from '../helpers/hostile.js';
import { millionEntryGpt, smallImage } from './hostile-readers.js';

const work = workFolder('hostile-cat-');
let img: string;
beforeAll(() => { img = smallImage(work.dir); }, 60_000);
afterAll(() => work.remove());

describe('disk-image-cat', () => {
  it('reads /etc/os-release, and refuses /etc/os-release/ as not a directory', () => {
    const ok = runBin('disk-image-cat', [img, '/etc/os-release']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('ID=hostile\n');
    expectClearError(runBin('disk-image-cat', [img, '/etc/os-release/']), 1, /'\/etc\/os-release' is not a directory/);
  });

  it('refuses a missing path, a directory, and images that are no files', () => {
    expectClearError(runBin('disk-image-cat', [img, '/etc/none']), 1, /none/);
    expectClearError(runBin('disk-image-cat', [img, '/etc']), 1, /'\/etc' is a directory, not a regular file/);
    const fifo = path.join(work.dir, 'img.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const bad of ['/dev/zero', work.dir, fifo]) expectClearError(runBin('disk-image-cat', [bad, '/etc/hostname']), 1, /not an image file/);
  });

  it('refuses a GPT whose headers announce 1,000,000 entries, saying the count is beyond the limit', () => {
    const r = runBin('disk-image-cat', [millionEntryGpt(work.dir), '/etc/hostname']);
    expectClearError(r, 1, /NumberOfPartitionEntries|1000000 entries/);
    expect(r.stderr).toMatch(/at most 16 MiB \(131072 entries of 128 bytes\)/);
  });
});
