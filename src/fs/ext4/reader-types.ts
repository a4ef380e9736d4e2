/**
 * The shapes the ext4 reader (reader.ts) hands out: directory entries, stat() results, file
 * contents, the filesystem's summary, and the inode as it is loaded.
 */
import type { EntryType } from '../../tree/model.js';
import type { FsDirEntry, FsFileContent, FsStat } from '../readable.js';
import type { InodeValue } from './inode.js';

/** A directory entry; its type from the entry's file_type (filetype feature), or the inode when the feature is off. */
export type Ext4DirEntry = FsDirEntry;

/** What stat() says of an inode: the shared fields plus the inode's flags. */
export interface Ext4Stat extends FsStat {
  flags: number;
}

export type Ext4FileContent = FsFileContent;

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
