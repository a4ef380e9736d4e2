/**
 * A small FileTree held in memory: what the bootloader adds to an image (grub.cfg, fstab,
 * modules, EFI binaries) and the EFI partition's contents. Parent directories are created
 * as needed; entries come out in FileTree order (parents first, siblings bytewise).
 */
import type { FileContent, FileTree, Timestamp, TreeEntry } from '../tree/model.js';
import { bufferContent, comparePaths, parentOf } from '../tree/model.js';

export interface MemoryFile {
  path: string;
  /** Content (a file), or absent for a directory. */
  data?: Uint8Array | string;
  /** A content source read lazily (large files copied from another tree). */
  content?: FileContent;
  mode?: number;
}

export function memoryTree(items: MemoryFile[], time: Timestamp = { sec: 0, nsec: 0 }): FileTree {
  const byPath = new Map<string, TreeEntry>();
  const base = (path: string, type: 'file' | 'dir', mode: number): TreeEntry => ({
    path, type, mode, uid: 0, gid: 0, atime: time, mtime: time, ctime: time, size: 0, rdevMajor: 0, rdevMinor: 0,
    xattrs: new Map(),
  });
  const ensureDir = (path: string): void => {
    if (byPath.has(path)) return;
    if (path !== '/') ensureDir(parentOf(path));
    byPath.set(path, base(path, 'dir', 0o755));
  };
  ensureDir('/');
  for (const it of items) {
    ensureDir(parentOf(it.path));
    if (it.data === undefined && it.content === undefined) {
      ensureDir(it.path);
      if (it.mode !== undefined) byPath.get(it.path)!.mode = it.mode;
      continue;
    }
    const content = it.content ?? bufferContent(typeof it.data === 'string' ? new TextEncoder().encode(it.data) : it.data!);
    const e = base(it.path, 'file', it.mode ?? 0o644);
    e.size = content.size;
    e.content = content;
    byPath.set(it.path, e);
  }
  const entries = [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));
  return { entries, get: (p) => byPath.get(p), close() {} };
}
