/**
 * The build's own files: the build folder (never removed through a mount left below it) and
 * the root-content check (the private outputs are removed by removeTempOutputs, file-device.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mountsUnder } from './chroot.js';
import type { Logger } from './cleanup.js';

export function hasRootContent(mnt: string): boolean {
  return fs.readdirSync(mnt).some((n) => !['lost+found', 'tmp', 'proc', 'sys', 'dev'].includes(n));
}

/** Removes the build folder, refusing while anything is still mounted below it. */
export function removeBuildDir(dir: string, log: Logger): void {
  const left = mountsUnder(dir);
  if (left.length > 0) {
    log(`NOT removing ${dir}: still mounted below it: ${left.join(', ')}`);
    return;
  }
  spawnSync('rm', ['-rf', '--one-file-system', dir]);
  if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
}
