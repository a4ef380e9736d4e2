/**
 * Our C directory walk (native/walk.c, built by node-gyp at install into build/Release/) as
 * dir-source.ts uses it: the addon when it loads, else undefined, and dir-source walks in
 * TypeScript, its twin (how much faster the C walk is: docs/benchmarks.md).
 */
import { loadAddon } from '../binary/native-addon.js';

/** Numbers per entry in NativeWalk.stats, and their positions. */
export const WALK_FIELDS = 16;
export const W = {
  MODE: 0, UID: 1, GID: 2, SIZE: 3, NLINK: 4, DEV: 5, INO: 6, RDEV_MAJOR: 7, RDEV_MINOR: 8,
  ATIME_SEC: 9, ATIME_NSEC: 10, MTIME_SEC: 11, MTIME_NSEC: 12, CTIME_SEC: 13, CTIME_NSEC: 14, DEPTH: 15,
} as const;

/** What the walk could not do for an entry: the system call and its errno. */
export interface WalkFailure { op: 'lstat' | 'scandir' | 'readlink' | 'listxattr' | 'getxattr'; errno: number; name?: string }

/** The walk's answer (see native/walk.c). */
export interface NativeWalk {
  /** Each entry's own name, NUL-terminated, in tree order (the root's is empty). */
  names: Buffer;
  /** WALK_FIELDS numbers per entry. */
  stats: Float64Array;
  /** By entry, where there is any: a symlink's target, attributes (names, values), a failure. */
  extra: ({ target?: Buffer; xattrs?: [string[], Buffer[]]; failed?: WalkFailure } | undefined)[];
}

/** `threads`: how many threads make the system calls (default 2); the answer is the same for any. */
type WalkFn = (root: string, oneFileSystem: boolean, xattrs: boolean, threads?: number) => NativeWalk;

/** The addon's walk function, or undefined when it is not built (or does not load). */
export function nativeWalk(): WalkFn | undefined {
  return loadAddon<{ walk: WalkFn }>('walk')?.walk;
}
