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

/**
 * Removes the build folder, refusing while anything is still mounted below it. `hooksRan`:
 * hooks (which may mount) ran in it, so it is removed by `rm --one-file-system` (which never
 * crosses into a mount that appeared after the check); without, nothing could have mounted
 * there and it is removed in-process, without starting rm.
 */
export function removeBuildDir(dir: string, log: Logger, hooksRan = true): void {
  const left = mountsUnder(dir);
  if (left.length > 0) {
    log(`NOT removing ${dir}: still mounted below it: ${left.join(', ')}`);
    return;
  }
  if (hooksRan) spawnSync('rm', ['-rf', '--one-file-system', dir]);
  if (fs.existsSync(dir)) fs.rmSync(dir, { recursive: true, force: true });
}
