/**
 * The filesystems of an image put together as the guest would mount them: a root and
 * filesystems mounted below it (a separate /boot, the EFI system partition), each read
 * through the one filesystem interface (src/fs/readable.ts: ext2/3/4 or FAT), paths
 * resolved by its one resolver. Format errors name the partition they come from.
 */
import { DiskImageError, InputError } from '../errors.js';
import { type FsDirEntry, type FsFileContent, type FsStat, type ReadableFs, type ResolvedPath, resolvePath } from '../fs/readable.js';
import { inVolume, type Volume } from './volumes.js';

export interface Mount {
  /** Absolute, normalised ('/', '/boot'). */
  point: string;
  volume: Volume;
  fs: ReadableFs;
}

/** `fs` with every format error it throws naming `volume` first (offsets are already the image's). */
export function inVolumeFs(volume: Volume, fs: ReadableFs): ReadableFs {
  const on = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DiskImageError) throw inVolume(volume, e);
      throw e;
    }
  };
  return {
    kind: fs.kind, rootIno: fs.rootIno,
    child: (dir, name) => on(() => fs.child(dir, name)),
    list: (dir) => on(() => fs.list(dir)),
    statIno: (ino, path) => on(() => fs.statIno(ino, path)),
    linkTarget: (ino) => on(() => fs.linkTarget(ino)),
    contentOf(ino) {
      const c = on(() => fs.contentOf(ino));
      return { size: c.size, read: (o, l) => on(() => c.read(o, l)), readInto: (o, t) => on(() => c.readInto(o, t)) };
    },
  };
}

/** A mount of `volume`'s filesystem at `point`. */
export function mountOf(point: string, volume: Volume, fs: ReadableFs): Mount {
  return { point, volume, fs: inVolumeFs(volume, fs) };
}

const READ_SMALL_MAX = 1 << 20;

export class ImageFs {
  /** Longest mount point first. */
  readonly mounts: Mount[];

  constructor(mounts: Mount[]) {
    this.mounts = [...mounts].sort((a, b) => b.point.length - a.point.length);
  }

  /** Resolves `path`; the last component is followed when it is a symlink only if `followLast`. */
  resolve(path: string, followLast: boolean): ResolvedPath<Mount> {
    return resolvePath(this.mounts, path, followLast, 'in the image');
  }

  /** stat() of `path` without following a final symlink (as lstat). */
  lstat(path: string): FsStat & { realPath: string; mount: Mount } {
    const r = this.resolve(path, false);
    return { ...r.mount.fs.statIno(r.ino, r.path), realPath: r.path, mount: r.mount };
  }

  /** stat() following a final symlink. */
  stat(path: string): FsStat & { realPath: string; mount: Mount } {
    const r = this.resolve(path, true);
    return { ...r.mount.fs.statIno(r.ino, r.path), realPath: r.path, mount: r.mount };
  }

  exists(path: string): boolean {
    try {
      this.resolve(path, true);
      return true;
    } catch (e) {
      if (e instanceof InputError) return false;
      throw e;
    }
  }

  /** Names in directory `path` (symlinks followed), sorted by bytes. */
  readdir(path: string): FsDirEntry[] {
    const r = this.resolve(path, true);
    return r.mount.fs.list(r.ino);
  }

  readlink(path: string): string {
    const r = this.resolve(path, false);
    return r.mount.fs.linkTarget(r.ino);
  }

  /** A regular file's content (symlinks followed), read on demand. */
  open(path: string): FsFileContent & { realPath: string; mount: Mount } {
    const r = this.resolve(path, true);
    if (r.type !== 'file') {
      throw new InputError(`'${path}' is a ${r.type === 'dir' ? 'directory' : r.type}, not a regular file`, r.type === 'dir' ? `list it with disk-image-ls IMAGE ${path}` : undefined);
    }
    const c = r.mount.fs.contentOf(r.ino);
    return { size: c.size, read: (o, l) => c.read(o, l), readInto: (o, t) => c.readInto(o, t), realPath: r.path, mount: r.mount };
  }

  /** A small file's bytes (configuration files), refused above `maxBytes`. */
  readSmall(path: string, maxBytes = READ_SMALL_MAX): Uint8Array {
    const c = this.open(path);
    if (c.size > maxBytes) throw new InputError(`'${path}' is ${c.size} bytes, more than the ${maxBytes} read in one piece`);
    return c.read(0, c.size);
  }
}
