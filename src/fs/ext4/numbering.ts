/**
 * Inode numbering for the ext4 writer: root 2, lost+found 11 (made when the tree has none),
 * the rest in tree order from 12, hard links sharing one number; each directory's entries and
 * link counts. The writer reads file contents in this order, so it is also the read-ahead order.
 */
import { InputError } from '../../errors.js';
import { type FileTree, type TreeEntry, baseName, parentOf } from '../../tree/model.js';
import { FT, INO, NAME_MAX } from './constants.js';
import type { DirChild } from './dirblocks.js';

const FILE_TYPES: Record<TreeEntry['type'], number> = {
  file: FT.REG_FILE, dir: FT.DIR, symlink: FT.SYMLINK, chardev: FT.CHRDEV, blockdev: FT.BLKDEV, fifo: FT.FIFO, socket: FT.SOCK,
};

export function syntheticDir(path: string, time: number, mode: number): TreeEntry {
  const t = { sec: time, nsec: 0 };
  return { path, type: 'dir', mode, uid: 0, gid: 0, atime: t, mtime: t, ctime: t, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map() };
}

/** Inode numbers: root 2, lost+found 11, the rest in tree order from 12; hard links share. */
export interface Numbering {
  /** Each inode once (its first entry), in tree order, with its parent's inode. */
  order: { ino: number; entry: TreeEntry; parent: number }[];
  /** Directory entries of each directory inode. */
  children: Map<number, DirChild[]>;
  /** Names pointing at each inode, and subdirectories of each directory. */
  linkCount: Uint32Array;
  subdirs: Uint32Array;
  lastIno: number;
}

export function numberInodes(tree: FileTree, time: number): Numbering {
  const inoOf = new Map<string, number>();
  const byKey = new Map<string, number>();
  const children = new Map<number, DirChild[]>();
  const order: Numbering['order'] = [];
  let root = tree.get('/') ?? tree.entries.find((e) => e.path === '/');
  if (root && root.type !== 'dir') throw new InputError(`tree root '/' is a ${root.type}, not a directory`);
  root ??= syntheticDir('/', time, 0o755);
  let lostFound = tree.get('/lost+found');
  if (lostFound && lostFound.type !== 'dir') throw new InputError(`/lost+found in the tree is a ${lostFound.type}; ext4 needs it to be a directory`);
  const synthLf = !lostFound;
  lostFound ??= syntheticDir('/lost+found', time, 0o700);
  let nextIno = INO.FIRST + 1;
  const entries: TreeEntry[] = [root, ...tree.entries.filter((e) => e.path !== '/')];
  if (synthLf) entries.splice(1, 0, lostFound);
  // Per-inode counters indexed by inode number (at most one fresh number per entry).
  const linkCount = new Uint32Array(INO.FIRST + 2 + entries.length);
  const subdirs = new Uint32Array(linkCount.length);
  let lastParentPath: string | undefined;
  let lastParent: number | undefined;
  for (const e of entries) {
    let ino: number;
    let fresh = true;
    if (e.path === '/') ino = INO.ROOT;
    else if (e.path === '/lost+found') ino = INO.FIRST;
    else if (e.hardlinkKey !== undefined && byKey.has(e.hardlinkKey)) {
      ino = byKey.get(e.hardlinkKey)!;
      fresh = false;
    } else ino = nextIno++;
    if (e.hardlinkKey !== undefined && fresh) byKey.set(e.hardlinkKey, ino);
    if (e.type === 'dir' && !fresh) throw new InputError(`${e.path}: a directory cannot be a hard link`);
    if (e.type === 'dir') inoOf.set(e.path, ino); // parents are directories: only they are looked up
    linkCount[ino]!++;
    if (e.type === 'dir') children.set(ino, []);
    if (e.path !== '/') {
      const name = Buffer.from(baseName(e.path), 'utf8');
      if (name.length > NAME_MAX || name.length === 0) throw new InputError(`${e.path}: the name is ${name.length} bytes; ext4 names are 1-${NAME_MAX} bytes`);
      const parentPath = parentOf(e.path);
      if (parentPath !== lastParentPath) {
        lastParentPath = parentPath;
        lastParent = inoOf.get(parentPath);
      }
      const parent = lastParent;
      const list = parent === undefined ? undefined : children.get(parent);
      if (parent === undefined || !list) throw new InputError(`${e.path}: its parent directory is not in the tree before it`);
      list.push({ name, ino, fileType: FILE_TYPES[e.type] });
      if (e.type === 'dir') subdirs[parent]!++;
      if (fresh) order.push({ ino, entry: e, parent });
    } else order.push({ ino, entry: e, parent: INO.ROOT });
  }
  return { order, children, linkCount, subdirs, lastIno: nextIno - 1 };
}
