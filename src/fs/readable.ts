/**
 * The one interface inspection reads a filesystem through, whatever its format (the ext2/3/4
 * reader, the FAT reader): nodes by number, looked up by name in their directory, listed,
 * stat()ed, read, and read as a link; and the one path resolver over it. Paths are resolved
 * one component at a time, across the mount points of a namespace (a root filesystem and
 * filesystems mounted below it: a separate /boot, the EFI system partition). Symbolic links
 * are followed inside the namespace only (an absolute target starts again at its root,
 * never the host's), at most 40 of them per path, as Linux does (path_resolution(7)); a
 * trailing '/' asks for a directory.
 */
import { InputError } from '../errors.js';
import type { EntryType, FileContent, TreeEntry } from '../tree/model.js';

export interface FsDirEntry {
  name: string;
  /** The node's number in its filesystem (ext4: the inode number). */
  ino: number;
  type: EntryType;
}

/** What stat() says of a node: the tree model's fields plus its number and link count. */
export interface FsStat extends TreeEntry {
  ino: number;
  nlink: number;
}

/** A file's content: the tree model's read(), and readInto() for copying a large file through one buffer. */
export interface FsFileContent extends FileContent {
  /** Fills `target` with the bytes from `offset` (zeros past the end of the file). */
  readInto(offset: number, target: Uint8Array): void;
}

/** A filesystem as inspection reads it. Node numbers come from `rootIno`, `child` and `list`. */
export interface ReadableFs {
  /** 'ext4', 'vfat': names the filesystem in messages. */
  readonly kind: string;
  readonly rootIno: number;
  /** The entry `name` of directory `dir`, or undefined when there is none. */
  child(dir: number, name: string): FsDirEntry | undefined;
  /** The entries of directory `dir`, '.' and '..' left out, sorted by bytes. */
  list(dir: number): FsDirEntry[];
  /** stat() of node `ino`, reached as `path`. */
  statIno(ino: number, path: string): FsStat;
  /** The content of regular file `ino`, read on demand. */
  contentOf(ino: number): FsFileContent;
  /** The target of symbolic link `ino`. */
  linkTarget(ino: number): string;
}

/** A filesystem mounted at `point` (absolute, normalised: '/', '/boot'). */
export interface FsMount {
  point: string;
  fs: ReadableFs;
}

export interface ResolvedPath<M extends FsMount> {
  /** The path with every symlink resolved. */
  path: string;
  mount: M;
  ino: number;
  type: EntryType;
}

const MAX_LINKS = 40;

function split(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

interface Step<M> { name: string; mount: M; ino: number; type: EntryType }

/**
 * Resolves absolute `path` over `mounts` (one of them at '/'); a final symlink is followed only
 * if `followLast` (or the path ends in '/'). `scope` ends the "does not exist" message
 * ('in the image'). Throws InputError for a missing component, a non-directory in the middle,
 * and a symlink loop.
 */
export function resolvePath<M extends FsMount>(mounts: readonly M[], path: string, followLast: boolean, scope: string): ResolvedPath<M> {
  if (!path.startsWith('/')) throw new InputError(`'${path}' is not an absolute path`, "paths inside the image start with '/'");
  const root = mounts.find((m) => m.point === '/');
  if (!root) throw new InputError(`'${path}': nothing is mounted on '/'`);
  const wantDir = path.length > 1 && path.endsWith('/');
  const top: Step<M> = { name: '', mount: root, ino: root.fs.rootIno, type: 'dir' };
  const done: Step<M>[] = [];
  const here = () => done.at(-1) ?? top;
  const where = () => '/' + done.map((s) => s.name).join('/');
  let todo = split(path);
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const dir = here();
    if (dir.type !== 'dir') throw new InputError(`'${path}': '${where()}' is not a directory`);
    const point = where() === '/' ? '/' + part : `${where()}/${part}`;
    const mounted = mounts.find((m) => m.point === point);
    if (mounted) {
      done.push({ name: part, mount: mounted, ino: mounted.fs.rootIno, type: 'dir' });
      continue;
    }
    const hit = dir.mount.fs.child(dir.ino, part);
    if (!hit) throw new InputError(`'${path}' does not exist ${scope} ('${part}' is not in '${where()}')`);
    if (hit.type === 'symlink' && (todo.length > 0 || followLast || wantDir)) {
      if (++links > MAX_LINKS) throw new InputError(`'${path}': too many levels of symbolic links`);
      const target = dir.mount.fs.linkTarget(hit.ino);
      if (target.startsWith('/')) done.length = 0;
      todo = [...split(target), ...todo];
      continue;
    }
    done.push({ name: part, mount: dir.mount, ino: hit.ino, type: hit.type });
  }
  const last = here();
  if (wantDir && last.type !== 'dir') throw new InputError(`'${path}': '${where()}' is not a directory`, `leave out the trailing '/' to name the ${last.type}`);
  return { path: where(), mount: last.mount, ino: last.ino, type: last.type };
}
