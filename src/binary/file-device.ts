/**
 * A block device backed by a file. A file this module creates is sized with ftruncate and is
 * known to read as zeros, so runs of zero bytes are never written: the output stays sparse.
 * An existing file opened for update gets every byte written, zeros included.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskImageError, InputError, InternalError } from '../errors.js';
import { type BlockDevice, isZero } from './block-device.js';
import { FlushBehind } from './flush-behind.js';

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** An errno error from writing `path` as a DiskImageError: NO_SPACE for a full disk/quota, else IO. */
export function fileError(e: unknown, path: string, doing: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code !== 'string' || !code.startsWith('E')) return e;
  const detail = `${doing} ${path} failed: ${code} (${(e as Error).message})`;
  if (NO_SPACE.has(code)) {
    return new DiskImageError('NO_SPACE', detail, 'free space on that filesystem (or raise the quota), or write the image elsewhere', { cause: e });
  }
  const hint = code === 'EACCES' || code === 'EPERM' ? 'choose a folder you may write to, or fix its permissions'
    : code === 'EROFS' ? 'that filesystem is read-only: write the image elsewhere'
      : code === 'ENOENT' ? 'the folder does not exist (any more): create it or choose another'
        : code === 'EEXIST' ? 'remove the file or choose another name' : undefined;
  return new DiskImageError('IO', detail, hint, { cause: e });
}

/** Zero runs shorter than this are written anyway: a hole below 4 KiB saves nothing. */
const SPARSE_GRAIN = 4096;

export interface CreateOptions {
  /**
   * Bytes written between background flushes of a created file (flush-behind.ts), so that
   * the closing fsync finds little left to do; 0 turns it off. Default 64 MiB.
   */
  flushEvery?: number;
}

const FLUSH_EVERY = 64 << 20;

/** Granule of the record of written ranges (writtenRanges): qcow2's default cluster. */
const WRITTEN_GRAIN = 65536;

export class FileBlockDevice implements BlockDevice {
  private closed = false;
  /** Of a created file: one byte per WRITTEN_GRAIN, set where non-zero bytes were written. */
  private written: Uint8Array | undefined;
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly size: number,
    /** The file reads as zeros wherever we have not written: zero runs may be skipped. */
    private readonly freshlyZeroed: boolean,
    readonly writable: boolean,
    private readonly flush?: FlushBehind,
  ) {}

  /** The write-behind flusher of a created file (none when flushEvery is 0 or the file was opened). */
  get flushBehind(): FlushBehind | undefined {
    return this.flush;
  }

  /** Creates a new sparse file of `size` bytes; fails if it exists. */
  static create(path: string, size: number, opts: CreateOptions = {}): FileBlockDevice {
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx+', 0o644);
    } catch (e) {
      throw fileError(e, path, 'creating');
    }
    try {
      fs.ftruncateSync(fd, size);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(path, { force: true });
      throw fileError(e, path, `sizing to ${size} bytes`);
    }
    const every = opts.flushEvery ?? FLUSH_EVERY;
    const dev = new FileBlockDevice(path, fd, size, true, true, every > 0 ? new FlushBehind(path, every) : undefined);
    dev.written = new Uint8Array(Math.ceil(size / WRITTEN_GRAIN));
    return dev;
  }

  /** Opens an existing file read-only or for update; its size is kept. */
  static open(path: string, mode: 'r' | 'r+' = 'r'): FileBlockDevice {
    const fd = fs.openSync(path, mode);
    const size = fs.fstatSync(fd).size;
    return new FileBlockDevice(path, fd, size, false, mode === 'r+');
  }

  readAt(offset: number, length: number): Uint8Array {
    // Not zero-filled first (readInto reads or zeroes every byte): large reads skip a memset.
    const b = Buffer.allocUnsafe(length);
    const out = new Uint8Array(b.buffer, b.byteOffset, length);
    this.readInto(offset, out);
    return out;
  }

  readInto(offset: number, target: Uint8Array): void {
    const length = target.length;
    this.check(offset, length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, target, done, length - done, offset + done);
      if (n === 0) break; // past EOF of a short file: zeros
      done += n;
    }
    if (done < length) target.fill(0, done);
  }

  writeAt(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    if (!this.writable) throw new InternalError(`${this.path} was opened read-only`);
    if (!this.freshlyZeroed) {
      this.writeAll(offset, data, 0, data.length);
      return;
    }
    // Write only the non-zero grains, merging neighbours into one write.
    const grainStart = (i: number) => i - ((offset + i) % SPARSE_GRAIN);
    let i = 0;
    let runStart = -1;
    while (i < data.length) {
      const g0 = Math.max(0, grainStart(i));
      const g1 = Math.min(data.length, g0 + SPARSE_GRAIN - ((offset + g0) % SPARSE_GRAIN));
      const zero = isZero(data, g0, g1);
      if (!zero && runStart < 0) runStart = g0;
      if (zero && runStart >= 0) {
        this.writeAll(offset, data, runStart, g0);
        runStart = -1;
      }
      i = g1;
    }
    if (runStart >= 0) this.writeAll(offset, data, runStart, data.length);
  }

  /**
   * Of a created file: ascending [start, end) byte ranges (in 64 KiB grains) holding every byte
   * written that was not zero; the rest of the file reads as zeros. Lets a container writer
   * read only the data (Node has no SEEK_DATA). Undefined for an opened file.
   */
  writtenRanges(): [number, number][] | undefined {
    if (!this.written) return undefined;
    const out: [number, number][] = [];
    const w = this.written;
    for (let i = 0; i < w.length; i++) {
      if (!w[i]) continue;
      let j = i;
      while (j + 1 < w.length && w[j + 1]) j++;
      out.push([i * WRITTEN_GRAIN, Math.min(this.size, (j + 1) * WRITTEN_GRAIN)]);
      i = j;
    }
    return out;
  }

  sync(): void {
    fs.fsyncSync(this.fd);
  }

  close(): void {
    if (!this.closed) {
      this.closed = true;
      this.flush?.stop();
      fs.closeSync(this.fd);
    }
  }

  private writeAll(base: number, data: Uint8Array, from: number, to: number): void {
    if (this.written) this.written.fill(1, Math.floor((base + from) / WRITTEN_GRAIN), Math.floor((base + to - 1) / WRITTEN_GRAIN) + 1);
    let p = from;
    try {
      while (p < to) p += fs.writeSync(this.fd, data, p, to - p, base + p);
      this.flush?.wrote(to - from);
    } catch (e) {
      throw fileError(e, this.path, `writing ${to - p} bytes at offset ${base + p} of`);
    }
  }

  private check(offset: number, length: number): void {
    if (this.closed) throw new InternalError(`${this.path} is closed`);
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new InternalError(`${this.path}: access of ${length} bytes at offset ${offset} is outside the file of ${this.size} bytes`);
    }
  }
}

/**
 * Puts a finished temporary file at its final name, the one way every writer does it:
 * with `overwrite`, rename() (atomic replace); otherwise link() then unlink the temporary,
 * because link() never replaces: a `dest` that appeared while we wrote is left alone and
 * reported (InputError). Other errno failures become DiskImageError IO/NO_SPACE. On failure
 * `tmp` is left for the caller's cleanup.
 */
export function publishFile(tmp: string, dest: string, o: { overwrite: boolean }): void {
  try {
    if (o.overwrite) {
      fs.renameSync(tmp, dest);
      return;
    }
    fs.linkSync(tmp, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new InputError(`${dest} appeared while it was being written; it was left alone`, 'remove or rename it, then run the command again');
    }
    throw fileError(e, dest, o.overwrite ? 'renaming the finished file to' : 'linking the finished file to');
  }
  fs.rmSync(tmp, { force: true });
}

/**
 * Deletes a private (not yet published) output and every file named after it next to it:
 * the assembler's temporaries (PRIVATE.tmp-XXXX) and its checksum files (PRIVATE.md5, ...).
 * Used by the build's cleanup and by an orphaned writer child.
 */
export function removeTempOutputs(privateOutput: string): void {
  const dir = path.dirname(privateOutput);
  const prefix = path.basename(privateOutput);
  for (const n of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    if (n === prefix || n.startsWith(prefix + '.')) fs.rmSync(path.join(dir, n), { force: true });
  }
}
