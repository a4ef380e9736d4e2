/**
 * A container file being written: positional writes into a new file, with the file's
 * checksums (md5, sha256) computed from the bytes as they are written when the writer goes in
 * ascending order (gaps count as the zeros they read as). A writer that goes back (qcow2's
 * header, written last after compressed data) makes `finish` read the file once instead.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { InternalError } from '../errors.js';
import { fileError } from './file-device.js';
import { FlushBehind } from './flush-behind.js';

export type ChecksumKind = 'md5' | 'sha256';

const ZEROS = new Uint8Array(1 << 20);

export class FileSink {
  private readonly hashes: { kind: ChecksumKind; h: Hash }[];
  private hashedTo = 0;
  private inOrder = true;
  private closed = false;
  /** How the checksums were made: 'while writing' or 'read back' (for the log and tests). */
  checksumMode: 'while writing' | 'read back' | 'none' = 'none';

  private readonly flush: FlushBehind;

  private constructor(readonly path: string, private readonly fd: number, kinds: readonly ChecksumKind[]) {
    this.hashes = kinds.map((kind) => ({ kind, h: createHash(kind) }));
    // As the raw image: written out in the background, so the closing fsync has little left.
    this.flush = new FlushBehind(path, 64 << 20);
  }

  /** Creates `path` (it must not exist). */
  static create(path: string, checksums: readonly ChecksumKind[] = []): FileSink {
    try {
      return new FileSink(path, fs.openSync(path, 'wx+', 0o644), checksums);
    } catch (e) {
      throw fileError(e, path, 'creating');
    }
  }

  writeAt(offset: number, data: Uint8Array): void {
    if (this.closed) throw new InternalError(`${this.path} is closed`);
    let p = 0;
    try {
      while (p < data.length) p += fs.writeSync(this.fd, data, p, data.length - p, offset + p);
    } catch (e) {
      throw fileError(e, this.path, `writing ${data.length - p} bytes at offset ${offset + p} of`);
    }
    this.flush.wrote(data.length);
    if (this.hashes.length === 0 || !this.inOrder) return;
    if (offset < this.hashedTo) {
      this.inOrder = false;
      return;
    }
    this.hashZeros(offset - this.hashedTo);
    for (const { h } of this.hashes) h.update(data);
    this.hashedTo = offset + data.length;
  }

  /** Reads back what was written (zeros past the end). */
  readAt(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out;
  }

  /** Sets the file's length, syncs it, and returns its checksums (hex). */
  finish(length: number): Partial<Record<ChecksumKind, string>> {
    try {
      fs.ftruncateSync(this.fd, length);
      fs.fsyncSync(this.fd);
    } catch (e) {
      throw fileError(e, this.path, `finishing (${length} bytes)`);
    }
    if (this.hashes.length === 0) return {};
    if (this.inOrder && this.hashedTo <= length) {
      this.hashZeros(length - this.hashedTo);
      this.checksumMode = 'while writing';
    } else {
      for (const x of this.hashes) x.h = createHash(x.kind);
      const buf = new Uint8Array(4 << 20);
      for (let pos = 0; pos < length;) {
        const n = fs.readSync(this.fd, buf, 0, Math.min(buf.length, length - pos), pos);
        if (n === 0) break;
        for (const { h } of this.hashes) h.update(buf.subarray(0, n));
        pos += n;
      }
      this.checksumMode = 'read back';
    }
    return Object.fromEntries(this.hashes.map(({ kind, h }) => [kind, h.digest('hex')]));
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.flush.stop();
      fs.closeSync(this.fd);
    }
  }

  private hashZeros(n: number): void {
    for (let left = n; left > 0; left -= ZEROS.length) {
      const z = ZEROS.subarray(0, Math.min(left, ZEROS.length));
      for (const { h } of this.hashes) h.update(z);
    }
  }
}

/** Checksums of a whole file, read once (for an output no writer streamed, e.g. the raw image). */
export function hashFile(path: string, kinds: readonly ChecksumKind[]): Partial<Record<ChecksumKind, string>> {
  if (kinds.length === 0) return {};
  const hashes = kinds.map((kind) => ({ kind, h: createHash(kind) }));
  const fd = fs.openSync(path, 'r');
  try {
    const buf = new Uint8Array(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      for (const { h } of hashes) h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return Object.fromEntries(hashes.map(({ kind, h }) => [kind, h.digest('hex')]));
}
