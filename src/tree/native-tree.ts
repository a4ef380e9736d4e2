/**
 * The FileTree of our C walk's answer (native/walk.c through native-walk.ts), entry by entry
 * as the TypeScript walk of dir-source.ts makes them (dir-entry.ts), and failing on the same
 * inputs with the same errors: the C walk reports a failed system call as its errno, which is
 * worded here as Node's fs would word it.
 */
import { getSystemErrorMap } from 'node:util';
import { InputError } from '../errors.js';
import type { DirContents } from './dir-contents.js';
import { decodeName, entryFromStat, type EntrySinks, type EntryStat, finishEntry, HardLinks } from './dir-entry.js';
import type { DirTreeOptions } from './dir-source.js';
import { treeFromEntries } from './entries.js';
import type { FileTree, TreeEntry } from './model.js';
import { type NativeWalk, W, WALK_FIELDS } from './native-walk.js';

/** Node's text for an errno failure of a system call on `file`, as fs would throw it. */
function errnoMessage(f: { op: string; errno: number }, file: string): string {
  const [code, text] = getSystemErrorMap().get(-f.errno) ?? [`E${f.errno}`, 'unknown error'];
  return `${code}: ${text}, ${f.op} '${file}'`;
}

/** The FileTree of the C walk's answer below `root`; excluded directories are passed over with everything in them. */
export function nativeTree(root: string, r: NativeWalk, opts: DirTreeOptions, contents: DirContents): FileTree {
  const { names, stats } = r;
  const entries: TreeEntry[] = [];
  const sinks: EntrySinks = { contents, links: new HardLinks(), ...(opts.devicePlaceholders ? { devicePlaceholders: true } : {}), ...(opts.mapIds ? { mapIds: opts.mapIds } : {}) };
  const trees: string[] = [];
  const hosts: string[] = [];
  let skipBelow = Infinity; // depth of an excluded directory whose entries are being passed over
  // The names decoded at once; when the text holds U+FFFD (some name is not UTF-8, or has that
  // character) each is decoded by itself, which names a bad one.
  const text = names.toString('utf8');
  const split = text.includes('\ufffd') ? undefined : text.split('\0');
  let p = 0;
  for (let i = 0, at = 0; at < stats.length; i++, at += WALK_FIELDS) {
    let raw: Buffer | undefined;
    if (!split) {
      const end = names.indexOf(0, p);
      raw = names.subarray(p, end);
      p = end + 1;
    }
    const depth = stats[at + W.DEPTH]!;
    if (depth > skipBelow) continue;
    skipBelow = Infinity;
    let treePath = '/';
    let hostPath = root;
    if (depth > 0) {
      const parentHost = hosts[depth - 1]!;
      const name = split ? split[i]! : decodeName(raw!, parentHost);
      treePath = depth === 1 ? '/' + name : trees[depth - 1] + '/' + name;
      hostPath = parentHost === '/' ? '/' + name : parentHost + '/' + name;
      if (opts.exclude?.(treePath)) {
        skipBelow = depth;
        continue;
      }
    }
    trees[depth] = treePath;
    hosts[depth] = hostPath;
    entries.push(nativeEntry(r, i, at, treePath, hostPath, sinks));
  }
  sinks.links.group();
  return treeFromEntries(entries, () => contents.close());
}

/** The lstat facts of record `at` of the walk's numbers. */
function walkStat(stats: Float64Array, at: number): EntryStat {
  return {
    mode: stats[at + W.MODE]!, uid: stats[at + W.UID]!, gid: stats[at + W.GID]!,
    atime: { sec: stats[at + W.ATIME_SEC]!, nsec: stats[at + W.ATIME_NSEC]! },
    mtime: { sec: stats[at + W.MTIME_SEC]!, nsec: stats[at + W.MTIME_NSEC]! },
    ctime: { sec: stats[at + W.CTIME_SEC]!, nsec: stats[at + W.CTIME_NSEC]! },
    size: stats[at + W.SIZE]!, rdevMajor: stats[at + W.RDEV_MAJOR]!, rdevMinor: stats[at + W.RDEV_MINOR]!,
    nlink: stats[at + W.NLINK]!, dev: stats[at + W.DEV]!, ino: stats[at + W.INO]!,
  };
}

/** Entry `i` of the walk (its numbers at `at`), or the error of the system call that failed on it. */
function nativeEntry(r: NativeWalk, i: number, at: number, treePath: string, hostPath: string, sinks: EntrySinks): TreeEntry {
  const x = r.extra[i];
  const failed = x?.failed;
  if (failed?.op === 'lstat') throw new InputError(`${hostPath}: cannot stat: ${errnoMessage(failed, hostPath)}`, 'do not modify the source directory while it is read');
  const st = walkStat(r.stats, at);
  const entry = entryFromStat(treePath, hostPath, st, sinks.mapIds);
  if (failed?.op === 'listxattr') throw new InputError(`${hostPath}: cannot list extended attributes: ${errnoMessage(failed, hostPath)}`);
  if (failed?.op === 'getxattr') throw new InputError(`${hostPath}: cannot read extended attribute ${failed.name}: ${errnoMessage(failed, hostPath)}`);
  if (failed?.op === 'readlink') throw new InputError(`${hostPath}: cannot read the symlink: ${errnoMessage(failed, hostPath)}`);
  if (x?.xattrs) {
    const [xn, xv] = x.xattrs;
    const order = xn.map((_, k) => k).sort((a, b) => (xn[a]! < xn[b]! ? -1 : xn[a]! > xn[b]! ? 1 : 0));
    entry.xattrs = new Map(order.map((k) => [xn[k]!, new Uint8Array(xv[k]!.buffer, xv[k]!.byteOffset, xv[k]!.length)]));
  }
  finishEntry(entry, hostPath, st, () => x?.target ?? Buffer.alloc(0), sinks);
  if (failed?.op === 'scandir') {
    throw new InputError(`${hostPath}: cannot list the directory: ${errnoMessage(failed, hostPath)}`, 'build the image as root, or fix the permissions');
  }
  return entry;
}
