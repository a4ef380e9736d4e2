/**
 * A FileTree read from a host directory (the chroot DIB built): an lstat walk that never
 * follows symlinks (in C, native/walk.c through native-tree.ts, when built; else the
 * TypeScript walk here), siblings sorted bytewise, hard links grouped by (st_dev, st_ino),
 * extended attributes read with lgetxattr semantics (llistxattr in C; @napi-rs/xattr, which
 * does not follow symlinks) including security.*, trusted.* and the POSIX ACLs as the raw
 * system.posix_acl_* bytes the kernel hands out. Both walks make each entry the same way
 * (dir-entry.ts); file contents are read lazily (dir-contents.ts).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { InputError } from '../errors.js';
import type { FileTree, TreeEntry } from './model.js';
import type { ReadAheadOptions } from './read-ahead.js';
import { DirContents } from './dir-contents.js';
import { decodeName, entryFromStat, type EntrySinks, type EntryStat, finishEntry, HardLinks } from './dir-entry.js';
import { splitDev, timestampFromNs, treeFromEntries } from './entries.js';
import { XattrThread, type XattrOutcome, xattrOutcome } from './xattr-thread.js';
import { nativeWalk } from './native-walk.js';
import { nativeTree } from './native-tree.js';

export interface DirTreeOptions {
  /** Read extended attributes (default true). */
  xattrs?: boolean;
  /** Do not descend into directories on another filesystem (mount points); default true. */
  oneFileSystem?: boolean;
  /** Leave out a path (tree path like '/proc') and, for a directory, everything below it. */
  exclude?: (treePath: string) => boolean;
  /**
   * Read ahead on a helper thread (read-ahead.ts) when a writer announces at least this many
   * bytes of contents; default 8 MiB (below that the helper's start-up costs more than it saves).
   */
  readAheadMin?: number;
  /**
   * Read extended attributes on a helper thread (xattr-thread.ts) once the walk has met this
   * many entries; default 1024 (below that the helper's start-up costs more than it saves).
   * Not with devicePlaceholders, whose marks decide an entry's type as it is met.
   */
  xattrThreadMin?: number;
  /**
   * Which walk lists the directory: our C walk (native-walk.ts) when it is built, else the
   * TypeScript one ('auto', the default); or that one ('native': an error when it is not
   * built, 'typescript'). Both give the same tree.
   */
  walker?: 'auto' | 'native' | 'typescript';
  /** Which helper reads ahead (see ReadAheadOptions.reader); default 'auto'. */
  reader?: ReadAheadOptions['reader'];
  /**
   * Read an empty regular file marked with DEVICE_PLACEHOLDER_XATTR as the device it names
   * (an unprivileged build's stand-in for a device node); default false.
   */
  devicePlaceholders?: boolean;
  /**
   * Owners as the image should have them, from the host's ids (an unprivileged build read from
   * outside its user namespace: the namespace's map applied backwards); default: as on the host.
   */
  mapIds?: (id: number, kind: 'uid' | 'gid') => number;
}

// Loaded with require: importing a CommonJS package from ESM first parses its source for
// export names (cjs-module-lexer), which costs start-up time (docs/benchmarks.md).
const require = createRequire(import.meta.url);
const { getAttributeSync, listAttributesSync } = require('@napi-rs/xattr') as typeof import('@napi-rs/xattr');

const READ_AHEAD_MIN = 8 << 20;
const XATTR_THREAD_MIN = 1024;

/** An entry's attributes as a map, or the error for what could not be read. */
function xattrMap(file: string, o: XattrOutcome): Map<string, Uint8Array> {
  if ('failed' in o) {
    throw new InputError(o.failed === 'list' ? `${file}: cannot list extended attributes: ${o.message}`
      : `${file}: cannot read extended attribute ${o.name}: ${o.message}`);
  }
  return new Map(o.names.map((n, i) => [n, o.values[i]!]));
}

/** `file`'s extended attributes (lgetxattr semantics: a symlink's own), names sorted. */
export function readXattrs(file: string): Map<string, Uint8Array> {
  return xattrMap(file, xattrOutcome(listAttributesSync, getAttributeSync, file));
}

/**
 * Walks `rootPath` and returns its tree; call close() when the writers are done with it. The
 * walk is our C addon's (native-walk.ts, native-tree.ts) when it is built, else the one
 * here, its TypeScript twin; both make the same entries, and fail on the same inputs.
 */
export function dirTree(rootPath: string, opts: DirTreeOptions = {}): FileTree {
  const root = path.resolve(rootPath);
  const rootSt = lstatRoot(root);
  const contents = new DirContents(opts.readAheadMin ?? READ_AHEAD_MIN, opts.reader);
  const walk = opts.walker === 'typescript' ? undefined : nativeWalk();
  if (!walk && opts.walker === 'native') throw new InputError('the native directory walk is not built (build/Release/walk.node)', 'run npm ci (it builds it with node-gyp)');
  try {
    if (walk) return nativeTree(root, walk(root, opts.oneFileSystem ?? true, opts.xattrs ?? true), opts, contents);
    return new TypescriptWalk(rootSt, opts, contents).tree(root);
  } catch (e) {
    contents.close();
    throw e;
  }
}

/** The root's lstat; it must be a directory. */
function lstatRoot(root: string): fs.BigIntStats {
  let rootSt: fs.BigIntStats;
  try {
    rootSt = fs.lstatSync(root, { bigint: true });
  } catch (e) {
    throw new InputError(`source directory ${root}: ${(e as Error).message}`);
  }
  if (!rootSt.isDirectory()) throw new InputError(`source directory ${root}: expected a directory but it is not one`);
  return rootSt;
}

/** The lstat facts of Node's bigint stats. */
function fsStat(st: fs.BigIntStats): EntryStat {
  const mode = Number(st.mode);
  const device = (mode & 0o170000) === 0o020000 || (mode & 0o170000) === 0o060000;
  const rdev = device ? splitDev(st.rdev) : { major: 0, minor: 0 };
  return {
    mode, uid: Number(st.uid), gid: Number(st.gid),
    atime: timestampFromNs(st.atimeNs), mtime: timestampFromNs(st.mtimeNs), ctime: timestampFromNs(st.ctimeNs),
    size: Number(st.size), rdevMajor: rdev.major, rdevMinor: rdev.minor, nlink: Number(st.nlink), dev: st.dev, ino: st.ino,
  };
}

/** The TypeScript walk: lstat and readdir, depth first, siblings sorted bytewise. */
class TypescriptWalk {
  private readonly entries: TreeEntry[] = [];
  private readonly sinks: EntrySinks;
  private readonly withXattrs: boolean;
  /** Attributes are read on a helper thread once the walk is big enough; its entries by number. */
  private readonly threadMin: number;
  private thread: XattrThread | undefined;
  private readonly threaded: { entry: TreeEntry; hostPath: string }[] = [];

  constructor(private readonly rootSt: fs.BigIntStats, private readonly opts: DirTreeOptions, private readonly contents: DirContents) {
    this.withXattrs = opts.xattrs ?? true;
    this.threadMin = this.withXattrs && !opts.devicePlaceholders ? (opts.xattrThreadMin ?? XATTR_THREAD_MIN) : Infinity;
    this.sinks = { contents, links: new HardLinks(), ...(opts.devicePlaceholders ? { devicePlaceholders: true } : {}), ...(opts.mapIds ? { mapIds: opts.mapIds } : {}) };
  }

  tree(root: string): FileTree {
    try {
      this.visit(root, '/', this.rootSt);
      for (const [n, o] of this.thread?.finish() ?? []) this.threaded[n]!.entry.xattrs = xattrMap(this.threaded[n]!.hostPath, o);
    } catch (e) {
      this.thread?.close();
      throw e;
    }
    this.sinks.links.group();
    return treeFromEntries(this.entries, () => this.contents.close());
  }

  private visit(hostPath: string, treePath: string, lst: fs.BigIntStats): void {
    const st = fsStat(lst);
    const entry = entryFromStat(treePath, hostPath, st, this.opts.mapIds);
    if (this.withXattrs && this.entries.length >= this.threadMin) {
      this.thread ??= new XattrThread(require.resolve('@napi-rs/xattr'), listAttributesSync, getAttributeSync);
      this.threaded[this.thread.add(hostPath)] = { entry, hostPath };
    } else if (this.withXattrs) entry.xattrs = readXattrs(hostPath);
    finishEntry(entry, hostPath, st, () => fs.readlinkSync(hostPath, { encoding: 'buffer' }), this.sinks);
    this.entries.push(entry);
    if (entry.type !== 'dir') return;
    if ((this.opts.oneFileSystem ?? true) && lst.dev !== this.rootSt.dev) return;
    this.visitChildren(hostPath, treePath);
  }

  private visitChildren(hostPath: string, treePath: string): void {
    let names: Buffer[];
    try {
      names = fs.readdirSync(hostPath, { encoding: 'buffer' }).sort(Buffer.compare);
    } catch (e) {
      throw new InputError(`${hostPath}: cannot list the directory: ${(e as Error).message}`, 'build the image as root, or fix the permissions');
    }
    for (const raw of names) {
      const name = decodeName(raw, hostPath);
      const childTree = treePath === '/' ? '/' + name : treePath + '/' + name;
      if (this.opts.exclude?.(childTree)) continue;
      const childHost = hostPath === '/' ? '/' + name : hostPath + '/' + name;
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(childHost, { bigint: true });
      } catch (e) {
        throw new InputError(`${childHost}: cannot stat: ${(e as Error).message}`, 'do not modify the source directory while it is read');
      }
      this.visit(childHost, childTree, st);
    }
  }
}
