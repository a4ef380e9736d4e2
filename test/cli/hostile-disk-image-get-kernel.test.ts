// Hostile inputs to disk-image-get-kernel: images that are no files, an image without a
// kernel, an output folder that is a file.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectClearError, runBin, workFolder } from '../helpers/hostile.js';
import { millionEntryGpt, smallImage } from './hostile-readers.js';

const work = workFolder('hostile-gk-');
let img: string;
beforeAll(() => { img = smallImage(work.dir); }, 60_000);
afterAll(() => work.remove());

describe('disk-image-get-kernel', () => {
  it('refuses images that are a device, a folder or a FIFO, and a stray argument', () => {
    const fifo = path.join(work.dir, 'img.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const bad of ['/dev/zero', work.dir, fifo]) expectClearError(runBin('disk-image-get-kernel', ['-i', bad]), 1, /not an image file/);
    expectClearError(runBin('disk-image-get-kernel', [img]), 2, /Unexpected argument/);
  });

  it('an image without a kernel, and a million-entry GPT, are clear errors', () => {
    expectClearError(runBin('disk-image-get-kernel', ['-i', img, '-d', work.dir]), 1, /kernel/i);
    expectClearError(runBin('disk-image-get-kernel', ['-i', millionEntryGpt(work.dir)]), 1, /at most 16 MiB/);
  });
});
