// Hostile inputs to disk-image-ls: images that are not files or not images, a GPT announcing
// a million entries, a file given where a directory is listed.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClearError, runBin, workFolder } from '../helpers/hostile.js';
import { millionEntryGpt, smallImage } from './hostile-readers.js';

const work = workFolder('hostile-ls-');
let img: string;
beforeAll(() => { img = smallImage(work.dir); }, 60_000);
afterAll(() => work.remove());

describe('disk-image-ls', () => {
  it('lists /etc, and refuses images that are a device, a folder, a FIFO or empty', () => {
    const ok = runBin('disk-image-ls', [img, '/etc']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('os-release');
    const fifo = path.join(work.dir, 'img.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const bad of ['/dev/zero', work.dir, fifo]) expectClearError(runBin('disk-image-ls', [bad]), 1, /not an image file/);
    const empty = path.join(work.dir, 'empty.img');
    fs.writeFileSync(empty, '');
    expectClearError(runBin('disk-image-ls', [empty]), 1, /not a disk image this command can read/);
  });

  it('refuses a GPT whose headers announce 1,000,000 entries, saying the count is beyond the limit', () => {
    const r = runBin('disk-image-ls', [millionEntryGpt(work.dir)]);
    expectClearError(r, 1, /at most 16 MiB \(131072 entries of 128 bytes\)/);
  });

  it('a missing path inside the image is a clear error', () => {
    expectClearError(runBin('disk-image-ls', [img, '/no/such']), 1, /no\/such|such/);
  });
});
