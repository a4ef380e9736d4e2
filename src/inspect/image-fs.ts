/**
 * The filesystems of an image put together as the guest would mount them: a root and
 * filesystems mounted below it (a separate /boot). Paths are resolved one component at a
 * time across mount points; symbolic links are followed inside the image only (an absolute
 * target starts again at the image's root, never the host's), at most 40 of them per path,
 * as Linux does.
 */
import { DiskImageError, InputError, InternalError } from '../errors.js';
import type { Ext4DirEntry, Ext4FileContent, Ext4Reader, Ext4Stat } from '../fs/ext4/reader.js';
import { inVolume, type Volume } from './volumes.js';

const MAX_LINKS = 40;

export interface Mount {
  /** Absolute, normalised ('/', '/boot'). */
  point: string;
  volume: Volume;
  fs: Ext4Reader;
}

export interface Resolved {
  /** The path with every symlink resolved. */
  path: string;
  mount: Mount;
  /** The path inside the mounted filesystem. */
  inner: string;
}

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

export class ImageFs {
  /** Longest mount point first, so the first match is the innermost mount. */
  readonly mounts: Mount[];

  constructor(mounts: Mount[]) {
    if (!mounts.some((m) => m.point === '/')) throw new InternalError('ImageFs made without a mount at /');
    this.mounts = [...mounts].sort((a, b) => b.point.length - a.point.length);
  }

  private mountOf(parts: string[]): { mount: Mount; inner: string } {
    const path = '/' + parts.join('/');
    for (const m of this.mounts) {
      if (m.point === '/' || path === m.point || path.startsWith(m.point + '/')) {
        const inner = m.point === '/' ? path : path.slice(m.point.length) || '/';
        return { mount: m, inner };
      }
    }
    throw new InternalError(`ImageFs: no mount holds ${path}`);
  }

  /** Resolves `path`; the last component is followed when it is a symlink only if `followLast`. */
  resolve(path: string, followLast: boolean): Resolved {
    if (!path.startsWith('/')) throw new InputError(`'${path}' is not an absolute path`, "paths inside the image start with '/'");
    let todo = split(path);
    const done: string[] = [];
    let links = 0;
    while (todo.length) {
      const part = todo.shift()!;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = [...done, part];
      const { mount, inner } = this.mountOf(candidate);
      if (inner === '/') { // a mount point: the mounted filesystem's root
        done.push(part);
        continue;
      }
      let t: { type: string; target?: string };
      try {
        t = mount.fs.lookupType(inner);
      } catch (e) {
        if (e instanceof DiskImageError && !(e instanceof InputError)) throw inVolume(mount.volume, e);
        if (e instanceof InputError) {
          throw new InputError(/not a directory/.test(e.message) ? `'${path}': '/${done.join('/')}' is not a directory`
            : `'${path}' does not exist in the image ('${part}' is not in '/${done.join('/')}')`);
        }
        throw e;
      }
      if (t.type === 'symlink' && (todo.length > 0 || followLast)) {
        if (++links > MAX_LINKS) throw new InputError(`'${path}': too many levels of symbolic links`);
        const target = t.target ?? '';
        if (target.startsWith('/')) done.length = 0;
        todo = [...split(target), ...todo];
        continue;
      }
      if (t.type !== 'dir' && todo.length > 0) throw new InputError(`'${path}': '/${candidate.join('/')}' is not a directory`);
      done.push(part);
    }
    const { mount, inner } = this.mountOf(done);
    return { path: '/' + done.join('/'), mount, inner };
  }

  /** Runs `fn` on the mount of `r`, naming its partition in a format error. */
  private on<T>(mount: Mount, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof DiskImageError) throw inVolume(mount.volume, e);
      throw e;
    }
  }

  /** stat() of `path` without following a final symlink (as lstat). */
  lstat(path: string): Ext4Stat & { realPath: string; mount: Mount } {
    const r = this.resolve(path, false);
    return { ...this.on(r.mount, () => r.mount.fs.stat(r.inner)), path: r.path, realPath: r.path, mount: r.mount };
  }

  /** stat() following a final symlink. */
  stat(path: string): Ext4Stat & { realPath: string; mount: Mount } {
    const r = this.resolve(path, true);
    return { ...this.on(r.mount, () => r.mount.fs.stat(r.inner)), realPath: r.path, mount: r.mount };
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
  readdir(path: string): Ext4DirEntry[] {
    const r = this.resolve(path, true);
    return this.on(r.mount, () => r.mount.fs.readdir(r.inner));
  }

  readlink(path: string): string {
    const r = this.resolve(path, false);
    return this.on(r.mount, () => r.mount.fs.readlink(r.inner));
  }

  /** A regular file's content (symlinks followed), read on demand. */
  open(path: string): Ext4FileContent & { realPath: string; mount: Mount } {
    const r = this.resolve(path, true);
    const c = this.on(r.mount, () => r.mount.fs.fileContent(r.inner));
    return {
      size: c.size, realPath: r.path, mount: r.mount,
      read: (offset, length) => this.on(r.mount, () => c.read(offset, length)),
      readInto: (offset, target) => this.on(r.mount, () => c.readInto(offset, target)),
    };
  }

  /** A small file's bytes (configuration files), refused above `maxBytes`. */
  readSmall(path: string, maxBytes = 1 << 20): Uint8Array {
    const r = this.resolve(path, true);
    return this.on(r.mount, () => r.mount.fs.readFile(r.inner, { maxBytes }));
  }
}
