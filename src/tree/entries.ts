/**
 * Shared pieces of the tree sources: a FileTree over an ordered entry list, timestamp and
 * device-number conversions (Linux's dev_t encoding, as glibc's gnu_dev_major/minor do it),
 * and the path checks every source applies.
 */
import { InputError } from '../errors.js';
import { type FileTree, type Timestamp, type TreeEntry, comparePaths } from './model.js';

/** A FileTree over entries already in tree order; `onClose` releases what the source holds. */
export function treeFromEntries(entries: TreeEntry[], onClose: () => void = () => {}): FileTree {
  const byPath = new Map<string, TreeEntry>();
  for (const e of entries) byPath.set(e.path, e);
  let closed = false;
  return {
    entries,
    get: (path) => byPath.get(path),
    close: () => {
      if (closed) return;
      closed = true;
      onClose();
    },
  };
}

/** Sorts entries into tree order (parents first, siblings bytewise). */
export function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

export function timestampFromNs(ns: bigint): Timestamp {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** Linux dev_t split into major and minor (the 64-bit glibc encoding). */
export function splitDev(dev: bigint | number): { major: number; minor: number } {
  const d = BigInt(dev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}

/**
 * Turns a relative path from an archive ('./etc/fstab', 'etc/', 'a//b') into a tree path
 * ('/etc/fstab'). Absolute paths and '..' components are refused: they would escape the root.
 */
export function normaliseMemberPath(name: string, where: string): string {
  if (name.startsWith('/')) {
    throw new InputError(`${where}: member '${name}' has an absolute path`,
      'archives for a root tree must hold relative paths (tar -C ROOT -cf OUT .)');
  }
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      throw new InputError(`${where}: member '${name}' has a '..' component that escapes the root`,
        'recreate the archive without ../ paths');
    }
    if (p.includes('\0')) throw new InputError(`${where}: member name '${name}' contains a NUL byte`);
    parts.push(p);
  }
  return '/' + parts.join('/');
}

const EPOCH: Timestamp = { sec: 0, nsec: 0 };

/** A directory entry with the given metadata, for parents that no source recorded. */
export function syntheticDir(path: string, time: Timestamp = EPOCH): TreeEntry {
  return {
    path, type: 'dir', mode: 0o755, uid: 0, gid: 0,
    atime: time, mtime: time, ctime: time,
    size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map(),
  };
}
