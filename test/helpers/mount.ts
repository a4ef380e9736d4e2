/**
 * Mounts a filesystem that sits at a byte range of an image file, read-only (unless asked for
 * read-write), through a loop device (`losetup -r -o OFFSET --sizelimit SIZE`): the host kernel here has
 * no partition-table support, so partitions are reached by offset. The loop device is always
 * unmounted and detached, and the mount point removed, whatever the callback does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasTool, mustRun, withLoop } from './tools.js';

export interface MountWindow {
  /** Byte offset of the filesystem in the image (default 0). */
  offset?: number;
  /** Size in bytes of the filesystem (default: the rest of the file). */
  size?: number;
  /** Filesystem type for mount -t (default: let the kernel probe). */
  fstype?: string;
  /** Extra mount options, added after 'ro' (or 'rw'). */
  options?: string[];
  /** Attach and mount read-write instead of read-only (default false). */
  writable?: boolean;
}

/** Why images cannot be mounted here (for it.skipIf), or undefined when they can. */
export function mountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting an image needs root (losetup, mount)';
  for (const tool of ['losetup', 'mount', 'umount']) if (!hasTool(tool)) return `${tool} is not installed (util-linux, mount)`;
  if (!fs.existsSync('/dev/loop-control')) return 'no /dev/loop-control: loop devices are unavailable';
  return undefined;
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
  const readOnly = !window.writable;
  return withLoop(imagePath, { offset, size, readOnly }, async (loop) => {
    const mountDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-mount-'));
    let mounted = false;
    try {
      const args = ['-o', [readOnly ? 'ro' : 'rw', ...(window.options ?? [])].join(',')];
      if (window.fstype) args.push('-t', window.fstype);
      mustRun('mount', [...args, loop, mountDir]);
      mounted = true;
      return await fn(mountDir);
    } finally {
      // A reader that just closed its files can keep the mount busy for a moment.
      for (let i = 0; mounted; i++) {
        try {
          mustRun('umount', [mountDir]);
          mounted = false;
        } catch (e) {
          if (i >= 10) throw new Error(`cleaning up the mount of ${imagePath}: ${(e as Error).message}`);
          sleep(200);
        }
      }
      fs.rmdirSync(mountDir);
    }
  });
}
