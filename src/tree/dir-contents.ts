/**
 * The contents of a directory walk's regular files (dir-source.ts): read lazily through a
 * few descriptors opened on demand, so a tree of any size holds at most FD_CACHE of them, or,
 * once a writer announces its reading order (readAhead in model.ts), from a helper thread
 * that reads ahead (read-ahead.ts).
 */
import * as fs from 'node:fs';
import { InputError } from '../errors.js';
import type { ContentSource, FileContent } from './model.js';
import { type AheadFile, ReadAhead, type ReadAheadOptions } from './read-ahead.js';

const FD_CACHE = 8;

/** Descriptors opened on demand and closed least-recently-used first. */
class FdCache {
  private readonly open = new Map<string, number>();
  private closed = false;
  get(file: string): number {
    if (this.closed) throw new InputError(`${file}: the directory tree was closed before its content was read`);
    let fd = this.open.get(file);
    if (fd !== undefined) {
      this.open.delete(file);
      this.open.set(file, fd);
      return fd;
    }
    if (this.open.size >= FD_CACHE) {
      const [oldest, ofd] = this.open.entries().next().value as [string, number];
      this.open.delete(oldest);
      fs.closeSync(ofd);
    }
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    this.open.set(file, fd);
    return fd;
  }
  closeAll(): void {
    for (const fd of this.open.values()) fs.closeSync(fd);
    this.open.clear();
    this.closed = true;
  }
}

/** A regular file's content in the host directory. */
export class DirFile implements FileContent {
  /** Its place in the current read-ahead's list, or -1. */
  aheadIndex = -1;
  constructor(readonly file: string, readonly size: number, readonly source: DirContents) {}
  read(offset: number, length: number): Uint8Array {
    return this.source.read(this, offset, length);
  }
}

/** Contents of one walk: read directly through the descriptor cache, or from a read-ahead. */
export class DirContents implements ContentSource {
  private readonly fds = new FdCache();
  private ahead: ReadAhead | undefined;
  private aheadFiles: DirFile[] = [];

  constructor(private readonly minAhead: number, private readonly reader: ReadAheadOptions['reader']) {}

  readAhead(contents: readonly FileContent[]): void {
    this.stopAhead();
    const files: AheadFile[] = [];
    let bytes = 0;
    for (const c of contents) {
      if (!(c instanceof DirFile) || c.source !== this || c.size === 0 || c.aheadIndex >= 0) continue;
      c.aheadIndex = files.length;
      this.aheadFiles.push(c);
      files.push({ path: c.file, size: c.size });
      bytes += c.size;
    }
    if (bytes >= this.minAhead && files.length > 0) this.ahead = new ReadAhead(files, { reader: this.reader });
    else this.stopAhead();
  }

  close(): void {
    this.stopAhead();
    this.fds.closeAll();
  }

  read(c: DirFile, offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, c.size - offset));
    const early = c.aheadIndex >= 0 ? this.ahead?.take(c.aheadIndex, offset, n) : undefined;
    if (early) return early;
    const pooled = Buffer.allocUnsafe(n); // not zero-filled: every byte is read into
    const buf = new Uint8Array(pooled.buffer, pooled.byteOffset, n);
    let got = 0;
    const fd = this.fds.get(c.file);
    while (got < n) {
      const r = fs.readSync(fd, buf, got, n - got, offset + got);
      if (r === 0) {
        throw new InputError(`${c.file}: file shrank while the tree was being read (size was ${c.size}, got EOF at ${offset + got})`,
          'do not modify the source directory while an image is built from it');
      }
      got += r;
    }
    return buf;
  }

  private stopAhead(): void {
    this.ahead?.close();
    this.ahead = undefined;
    for (const c of this.aheadFiles) c.aheadIndex = -1;
    this.aheadFiles = [];
  }
}
