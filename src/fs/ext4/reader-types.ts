/**
 * The shapes the ext4 reader (reader.ts) hands out: directory entries, stat() results, file
 * contents, the filesystem's summary, and the inode as it is loaded.
 */
import type { EntryType, FileContent, TreeEntry } from '../../tree/model.js';
import type { InodeValue } from './inode.js';

export interface Ext4DirEntry {
  name: string;
  ino: number;
  /** From the entry's file_type (filetype feature), or the inode when the feature is off. */
  type: EntryType;
}

/** What stat() says of an inode: the tree model's fields plus inode number and link count. */
export interface Ext4Stat extends TreeEntry {
  ino: number;
  nlink: number;
  flags: number;
}

/** A file's content: the tree model's read(), and readInto() for copying a large file through one buffer. */
export interface Ext4FileContent extends FileContent {
  /** Fills `target` with the bytes from `offset` (zeros past the end of the file). */
  readInto(offset: number, target: Uint8Array): void;
}

export interface Ext4Info {
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  inodeSize: number;
  groups: number;
  uuid: Uint8Array;
  volumeName: string;
  featureCompat: number;
  featureIncompat: number;
  featureRoCompat: number;
}

/** An inode as the reader keeps it: where it is, its raw bytes, its decoded fields. */
export interface LoadedInode {
  ino: number;
  /** Byte offset of the inode in the filesystem. */
  at: number;
  raw: Uint8Array;
  v: InodeValue;
  type: EntryType;
  size: number;
}
