/**
 * The build's own files: the build folder (never removed through a mount left below it) and
 * the private output and its temporaries next to the final name.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** Deletes the private output, its checksum files and the assembler's temporary files next to it (PRIVATE.tmp-XXXX). */
export function removeTempOutputs(privateOutput: string): void {
  const dir = path.dirname(privateOutput);
  const prefix = path.basename(privateOutput);
  for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (n === prefix || n.startsWith(prefix + '.')) fs.rmSync(path.join(dir, n), { force: true });
  }
}
