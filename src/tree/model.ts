/**
 * The file-tree model that every writer consumes (ext4, FAT, cpio). A tree is a list of
 * entries, parents before children, each with everything a filesystem records about it.
 * Sources (a host directory, a tar stream) produce trees; overlays layer additions
 * (bootloader modules, grub.cfg, fstab) over a tree without touching its source.
 *
 * Paths are absolute within the tree ('/' is the root, '/etc/fstab' a file), with no
 * trailing slash and no '.' or '..' components.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';

export interface Timestamp {
  /** Seconds since the epoch (may be negative). */
  sec: number;
  /** Nanoseconds, 0..999999999. */
  nsec: number;
}

/**
 * Where a regular file's bytes come from; read in any order, any number of times. The bytes
 * returned belong to the caller, except after readAhead (below).
 */
export interface FileContent {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  /** The source behind this content, when it can read ahead (see readAhead). */
  readonly source?: ContentSource;
  /**
   * Where the data is, when the source knows (a tar's sparse map): [offset, length] pairs in
   * increasing order; every byte outside them reads as zero, so a writer need not read it.
   */
  dataRanges?(): readonly (readonly [number, number])[];
}

/** A source that can fetch contents in the background once told the order they will be read in. */
export interface ContentSource {
  /** `contents` (all from this source) will next be read whole, front to back, in this order; see readAhead. */
  readAhead(contents: readonly FileContent[]): void;
}

/**
 * A hint from a writer: it is about to read these contents whole, in this order. Each source
 * that can read ahead is told about its own contents; reads in any other order still work,
 * they are just not served ahead. In return the caller is done with the bytes of each read
 * of these contents by the time it makes its next read (it writes them out at once): the
 * source may then reuse that memory.
 */
export function readAhead(contents: readonly FileContent[]): void {
  const bySource = new Map<ContentSource, FileContent[]>();
  for (const c of contents) {
    if (!c.source) continue;
    let list = bySource.get(c.source);
    if (!list) bySource.set(c.source, (list = []));
    list.push(c);
  }
  for (const [source, list] of bySource) source.readAhead(list);
}

export interface TreeEntry {
  path: string;
  type: EntryType;
  /** Permission bits including setuid, setgid and sticky (mask 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  atime: Timestamp;
  mtime: Timestamp;
  ctime: Timestamp;
  /** Content size for files, target length for symlinks, 0 otherwise. */
  size: number;
  /** Device numbers of char and block devices. */
  rdevMajor: number;
  rdevMinor: number;
  /** Target of a symlink. */
  linkTarget?: string;
  /** Extended attributes by full name ('user.x', 'security.capability', 'system.posix_acl_access'). */
  xattrs: Map<string, Uint8Array>;
  /**
   * Entries with the same key are hard links to one inode. The first such entry in tree
   * order carries the content; later ones repeat its metadata.
   */
  hardlinkKey?: string;
  /** Content of a regular file. */
  content?: FileContent;
}

export interface FileTree {
  /** Every entry, '/' first, parents before their children, siblings sorted by name (bytewise). */
  readonly entries: readonly TreeEntry[];
  get(path: string): TreeEntry | undefined;
  /** Releases spool files or descriptors the source holds. */
  close(): void;
}

/**
 * Unprivileged builds cannot make device nodes; an empty regular file carrying this extended
 * attribute ("c 1 3": type, major, minor) stands in for one (src/pipeline/device-shim.ts), and
 * the directory source reads it as that device when asked to (DirTreeOptions.devicePlaceholders).
 */
export const DEVICE_PLACEHOLDER_XATTR = 'user.diskimage-ts.device';

/** The mode's file-type bits (S_IFMT) for an entry type. */
export const S_IFMT: Record<EntryType, number> = {
  socket: 0o140000,
  symlink: 0o120000,
  file: 0o100000,
  blockdev: 0o060000,
  dir: 0o040000,
  chardev: 0o020000,
  fifo: 0o010000,
};

const TYPE_BY_IFMT = new Map<number, EntryType>(Object.entries(S_IFMT).map(([t, bits]) => [bits, t as EntryType]));

/** The entry type a mode's file-type bits (mode & 0o170000) name; undefined for unknown bits. */
export function entryTypeOfMode(mode: number): EntryType | undefined {
  return TYPE_BY_IFMT.get(mode & 0o170000);
}

export function parentOf(path: string): string {
  if (path === '/') return '/';
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Compares two paths so that a parent sorts before its children and siblings sort bytewise. */
export function comparePaths(a: string, b: string): number {
  const pa = a === '/' ? [] : a.slice(1).split('/');
  const pb = b === '/' ? [] : b.slice(1).split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    if (pa[i] !== pb[i]) return Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
  }
  return pa.length - pb.length;
}

/** Content held in memory (small generated files: grub.cfg, fstab). */
export function bufferContent(data: Uint8Array): FileContent {
  return {
    size: data.length,
    read: (offset, length) => data.subarray(offset, Math.min(data.length, offset + length)),
  };
}
