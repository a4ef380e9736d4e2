/**
 * Mounts a filesystem that sits at a byte range of an image file, read-only, through a
 * read-only loop device (`losetup -r -o OFFSET --sizelimit SIZE`): the host kernel here has
 * no partition-table support, so partitions are reached by offset. The loop device is always
 * unmounted and detached, and the mount point removed, whatever the callback does.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface MountWindow {
  /** Byte offset of the filesystem in the image (default 0). */
  offset?: number;
  /** Size in bytes of the filesystem (default: the rest of the file). */
  size?: number;
  /** Filesystem type for mount -t (default: let the kernel probe). */
  fstype?: string;
  /** Extra mount options, added after 'ro'. */
  options?: string[];
}

function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why images cannot be mounted here (for it.skipIf), or undefined when they can. */
export function mountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting an image needs root (losetup, mount)';
  for (const tool of ['losetup', 'mount', 'umount']) if (!hasTool(tool)) return `${tool} is not installed (util-linux, mount)`;
  if (!fs.existsSync('/dev/loop-control')) return 'no /dev/loop-control: loop devices are unavailable';
  return undefined;
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    const err = e as { stderr?: string; status?: number };
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${err.status}): ${err.stderr?.trim() ?? String(e)}`);
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `fn` with the filesystem at `window` of `imagePath` mounted read-only at a temporary directory. */
export async function withMountedImage<T>(
  imagePath: string,
  window: MountWindow,
  fn: (mountDir: string) => Promise<T> | T,
): Promise<T> {
  const offset = window.offset ?? 0;
  const size = window.size ?? fs.statSync(imagePath).size - offset;
  const loop = run('losetup', ['-r', '-o', String(offset), '--sizelimit', String(size), '--show', '-f', imagePath]);
  let mountDir: string | undefined;
  let mounted = false;
  try {
    mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-mount-'));
    const args = ['-o', ['ro', ...(window.options ?? [])].join(',')];
    if (window.fstype) args.push('-t', window.fstype);
    run('mount', [...args, loop, mountDir]);
    mounted = true;
    return await fn(mountDir);
  } finally {
    const errors: string[] = [];
    if (mounted && mountDir) {
      // A reader that just closed its files can keep the mount busy for a moment.
      for (let i = 0; ; i++) {
        try {
          run('umount', [mountDir]);
          break;
        } catch (e) {
          if (i >= 10) {
            errors.push((e as Error).message);
            break;
          }
          sleep(200);
        }
      }
    }
    if (mountDir && errors.length === 0) fs.rmdirSync(mountDir);
    try {
      run('losetup', ['-d', loop]);
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (errors.length) throw new Error(`cleaning up the mount of ${imagePath}: ${errors.join('; ')}`);
  }
}
