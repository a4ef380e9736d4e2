/**
 * One directory entry made into a tree entry, the same way by both walks of dir-source.ts
 * (the C walk's records in native-tree.ts, lstat in TypeScript): the lstat facts, the device
 * placeholder mark of an unprivileged build, the symlink's target, the file's content, and the
 * hard-link groups (by st_dev and st_ino).
 */
import { isAscii } from 'node:buffer';
import { InputError } from '../errors.js';
import { DirFile, type DirContents } from './dir-contents.js';
import { DEVICE_PLACEHOLDER_XATTR, entryTypeOfMode, type Timestamp, type TreeEntry } from './model.js';

/** What an lstat says about an entry, as both walks have it. */
export interface EntryStat {
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  atime: Timestamp;
  mtime: Timestamp;
  ctime: Timestamp;
  size: number;
  rdevMajor: number;
  rdevMinor: number;
  nlink: number;
  /** st_dev and st_ino: the hard-link group of a file with more than one link. */
  dev: number | bigint;
  ino: number | bigint;
}

/** How a walk finishes its entries: where contents and link groups go, and its options. */
export interface EntrySinks {
  contents: DirContents;
  links: HardLinks;
  devicePlaceholders?: boolean;
  mapIds?: (id: number, kind: 'uid' | 'gid') => number;
}

/** The tree entry of one lstat'ed file, extended attributes not yet read; an unknown file type is an error. */
export function entryFromStat(treePath: string, hostPath: string, st: EntryStat, mapIds?: EntrySinks['mapIds']): TreeEntry {
  const type = entryTypeOfMode(st.mode);
  if (!type) throw new InputError(`${hostPath}: unknown file type (mode 0o${st.mode.toString(8)})`);
  const device = type === 'chardev' || type === 'blockdev';
  return {
    path: treePath, type,
    mode: st.mode & 0o7777,
    uid: mapIds ? mapIds(st.uid, 'uid') : st.uid,
    gid: mapIds ? mapIds(st.gid, 'gid') : st.gid,
    atime: st.atime, mtime: st.mtime, ctime: st.ctime,
    size: type === 'file' || type === 'symlink' ? st.size : 0,
    rdevMajor: device ? st.rdevMajor : 0, rdevMinor: device ? st.rdevMinor : 0,
    xattrs: new Map(),
  };
}

/**
 * The rest of an entry whose attributes are known: a marked placeholder becomes its device;
 * otherwise a symlink gets its target (`readTarget`), a file its content, and a file with
 * more than one link joins its link group.
 */
export function finishEntry(entry: TreeEntry, hostPath: string, st: EntryStat, readTarget: () => Buffer, sinks: EntrySinks): void {
  if (sinks.devicePlaceholders && asMarkedDevice(entry, hostPath)) return;
  if (entry.type === 'symlink') {
    const target = readTarget();
    entry.linkTarget = decodeName(target, hostPath);
    entry.size = target.length;
  }
  if (entry.type === 'file') entry.content = new DirFile(hostPath, entry.size, sinks.contents);
  if (entry.type !== 'dir' && st.nlink > 1) sinks.links.add(`${st.dev}:${st.ino}`, entry);
}

/**
 * An empty file marked with DEVICE_PLACEHOLDER_XATTR (devicePlaceholders) made into the device
 * it names, mark removed; false for any other entry. A mark that does not parse is an error.
 */
function asMarkedDevice(entry: TreeEntry, hostPath: string): boolean {
  const mark = entry.type === 'file' ? entry.xattrs.get(DEVICE_PLACEHOLDER_XATTR) : undefined;
  if (!mark) return false;
  const m = /^([bc]) (\d+) (\d+)$/.exec(Buffer.from(mark).toString('latin1'));
  if (!m) throw new InputError(`${hostPath}: the device mark ${DEVICE_PLACEHOLDER_XATTR} is '${Buffer.from(mark).toString('latin1')}', expected 'c MAJOR MINOR' or 'b MAJOR MINOR'`);
  entry.xattrs.delete(DEVICE_PLACEHOLDER_XATTR);
  Object.assign(entry, { type: m[1] === 'b' ? 'blockdev' : 'chardev', size: 0, rdevMajor: Number(m[2]), rdevMinor: Number(m[3]) });
  return true;
}

/** The entries of one walk with more than one link, by `dev:ino`. */
export class HardLinks {
  private readonly byKey = new Map<string, TreeEntry[]>();
  add(key: string, e: TreeEntry): void {
    const group = this.byKey.get(key);
    if (group) group.push(e);
    else this.byKey.set(key, [e]);
  }
  /** Only links that meet inside the tree form a group (hardlinkKey); a lone link is an ordinary file. */
  group(): void {
    for (const [key, group] of this.byKey) {
      if (group.length < 2) continue;
      for (const e of group) e.hardlinkKey = key;
    }
  }
}

export function decodeName(raw: Buffer, dir: string): string {
  if (isAscii(raw)) return raw.toString('latin1');
  const s = raw.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(raw)) {
    throw new InputError(`${dir}: a directory entry name is not valid UTF-8 (bytes ${raw.toString('hex')})`,
      'rename the file; tree paths are UTF-8 strings');
  }
  return s;
}
