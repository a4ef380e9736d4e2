/**
 * Input plumbing of the tar source: exact-length reads over a chunk stream (seekable when the
 * archive is a plain file, so member data can be skipped and served in place), compression
 * recognised by magic number (gzip is decompressed with node:zlib; zstd, xz and bzip2 are
 * refused with a hint), and the one unlinked spool file that holds content read from a
 * stream (zero chunks are not written, so holes stay holes).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { isZero } from '../binary/block-device.js';
import { InputError } from '../errors.js';
import type { FileContent } from './model.js';

/** A chunk source; a seekable one (a plain tar file) can skip member data without reading it. */
export interface ChunkSource extends AsyncIterator<Buffer> {
  /** Skips up to `n` bytes; returns how many there were. */
  skip?(n: number): number;
}

/** Positional reads of an open file, 1 MiB at a time. */
export class FdSource implements ChunkSource {
  private pos = 0;
  constructor(private readonly fd: number, private readonly size: number) {}
  async next(): Promise<IteratorResult<Buffer>> {
    if (this.pos >= this.size) return { done: true, value: undefined };
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, this.size - this.pos));
    const n = fs.readSync(this.fd, buf, 0, buf.length, this.pos);
    if (n === 0) return { done: true, value: undefined };
    this.pos += n;
    return { done: false, value: buf.subarray(0, n) };
  }
  skip(n: number): number {
    const s = Math.min(n, this.size - this.pos);
    this.pos += s;
    return s;
  }
}

/** Exact-length reads over an async chunk source, counting the offset for error messages. */
export class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  offset = 0;
  private done = false;
  constructor(private readonly it: ChunkSource, private readonly label: string) {}

  /** Skips `n` bytes (member data that is read later from the file itself). */
  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0 && this.buffered > 0) {
      const c = await this.take(left);
      left -= c.length;
    }
    if (left > 0 && this.it.skip) {
      const s = this.it.skip(left);
      this.offset += s;
      left -= s;
    }
    if (left > 0) await this.stream(left, what, () => {});
  }

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      let r: IteratorResult<Buffer>;
      try {
        r = await this.it.next();
      } catch (e) {
        throw new InputError(`${this.label}: cannot read the archive at offset ${this.offset + this.buffered}: ${(e as Error).message}`,
          'the file is damaged or not in the format its first bytes claim');
      }
      if (r.done) this.done = true;
      else if (r.value.length) {
        this.chunks.push(r.value);
        this.buffered += r.value.length;
      }
    }
  }

  /** Up to `n` bytes at once (fewer only at the end of input), in at most one buffer. */
  async take(n: number): Promise<Buffer> {
    await this.fill(Math.min(n, 1));
    if (this.buffered === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length <= n) {
      out = first;
      this.chunks.shift();
    } else {
      out = first.subarray(0, n);
      this.chunks[0] = first.subarray(n);
    }
    this.buffered -= out.length;
    this.offset += out.length;
    return out;
  }

  /** Exactly `n` bytes, or null at a clean end of input; a short read is a truncated archive. */
  async exact(n: number, what: string): Promise<Buffer | null> {
    await this.fill(n);
    if (this.buffered === 0 && n > 0) return null;
    if (this.buffered < n) {
      throw new InputError(`${this.label}: truncated archive: ${what} at offset ${this.offset} needs ${n} bytes but only ${this.buffered} remain`,
        'the archive was cut short; recreate or re-download it');
    }
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length > n) this.chunks[0] = first.subarray(n);
      else this.chunks.shift();
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  /** Reads to the end of input (record padding), so a damaged compressed stream still fails. */
  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (!this.done) {
      await this.fill(1);
      this.offset += this.buffered;
      this.chunks = [];
      this.buffered = 0;
    }
  }

  /** Passes `n` bytes to `sink` chunk by chunk. */
  async stream(n: number, what: string, sink: (chunk: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      const c = await this.take(Math.min(left, 1 << 20));
      if (c.length === 0) {
        throw new InputError(`${this.label}: truncated archive: ${what} needs ${n} bytes of data but the input ends after ${n - left}`,
          'the archive was cut short; recreate or re-download it');
      }
      sink(c);
      left -= c.length;
    }
  }
}

const MAGIC: Array<[bytes: number[], name: string, hint: string]> = [
  [[0x28, 0xb5, 0x2f, 0xfd], 'zstd', 'zstd -d'],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz', 'xz -d'],
  [[0x42, 0x5a, 0x68], 'bzip2', 'bzip2 -d'],
];

function checkMagic(head: Uint8Array, label: string): 'gzip' | 'plain' {
  for (const [magic, name, cmd] of MAGIC) {
    if (magic.every((b, i) => head[i] === b)) {
      throw new InputError(`${label}: ${name}-compressed archives are not read directly`,
        `decompress it first (${cmd} < ARCHIVE | …) and pass the .tar, or use gzip (.tar.gz)`);
    }
  }
  return head[0] === 0x1f && head[1] === 0x8b ? 'gzip' : 'plain';
}

/**
 * What an archive path names: a regular file is read in place, a FIFO as a stream; anything
 * else (a directory, a character device such as /dev/zero, a socket) can never be a tar.
 */
function archiveKind(file: string, label: string): 'file' | 'fifo' {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new InputError(`${label}: cannot open the archive: ${(e as Error).message}`);
  }
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'fifo';
  const what = st.isDirectory() ? 'a directory' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : 'a socket';
  throw new InputError(`${label}: expected a tar archive (a regular file, a FIFO or - for stdin) but it is ${what}`,
    'give the archive file itself, or pipe it in with --root-tar -');
}

/** A plain tar file: read in place, content served from the file itself (no spool). */
export function openPlainFile(file: string, label: string): { fd: number; size: number } | undefined {
  // A FIFO is not opened here: a blocking open would wait for its writer on this thread,
  // where no signal can end the wait (openChunks opens it without blocking).
  if (archiveKind(file, label) !== 'file') return undefined;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new InputError(`${label}: cannot open the archive: ${(e as Error).message}`);
  }
  const st = fs.fstatSync(fd);
  const head = Buffer.alloc(6);
  const n = st.isFile() ? fs.readSync(fd, head, 0, 6, 0) : 0;
  if (st.isFile() && checkMagic(head.subarray(0, n), label) === 'plain') return { fd, size: st.size };
  fs.closeSync(fd);
  return undefined;
}

/**
 * A named archive as a stream. A FIFO is opened non-blocking and read through the event loop
 * (epoll), never by a blocked read on a pool thread: such a read keeps the process from
 * exiting (Node joins its pool and worker threads at exit) when a signal ends the build while
 * the FIFO's writer is silent.
 */
function archiveStream(file: string, label: string): NodeJS.ReadableStream {
  if (archiveKind(file, label) === 'file') return fs.createReadStream(file, { highWaterMark: 1 << 20 });
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}

export async function openChunks(input: string | NodeJS.ReadableStream, label: string): Promise<ChunkSource> {
  const stream: NodeJS.ReadableStream = typeof input === 'string' ? archiveStream(input, label) : input;
  const it = (stream as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  // Peek at the first bytes to recognise compression.
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 6) {
    let r: IteratorResult<Buffer | string>;
    try {
      r = await it.next();
    } catch (e) {
      throw new InputError(`${label}: cannot read the archive: ${(e as Error).message}`);
    }
    if (r.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (ended) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.from(r.value);
  }
  if (checkMagic(head, label) === 'gzip') {
    return Readable.from(rest()).pipe(zlib.createGunzip({ chunkSize: 1 << 20 }))[Symbol.asyncIterator]();
  }
  return rest();
}

/** One spool file for every member's content; unlinked at once, so nothing is left behind. */
export class Spool {
  readonly fd: number;
  end = 0;
  private closed = false;
  constructor(dir: string) {
    const file = path.join(dir, `dit-tar-spool-${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
    this.fd = fs.openSync(file, 'wx+', 0o600);
    fs.unlinkSync(file);
  }
  append(chunk: Buffer): void {
    if (!isZero(chunk)) fs.writeSync(this.fd, chunk, 0, chunk.length, this.end);
    this.end += chunk.length;
  }
  finish(): void {
    fs.ftruncateSync(this.fd, this.end);
  }
  /** Bytes [start, start + size) of the spool; `ranges`, if given, are where data was appended. */
  content(start: number, size: number, label: string, ranges?: readonly (readonly [number, number])[]): FileContent {
    return {
      size,
      ...(ranges ? { dataRanges: () => ranges } : {}),
      read: (offset, length) => {
        if (this.closed) throw new InputError(`${label}: the tar tree was closed before its content was read`);
        const n = Math.max(0, Math.min(length, size - offset));
        const buf = new Uint8Array(n);
        let got = 0;
        while (got < n) {
          const r = fs.readSync(this.fd, buf, got, n - got, start + offset + got);
          if (r === 0) throw new InputError(`${label}: spool file ended early`);
          got += r;
        }
        return buf;
      },
    };
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

export function rangeContent(fd: number, start: number, size: number, label: string, isClosed: () => boolean): FileContent {
  return {
    size,
    read: (offset, length) => {
      if (isClosed()) throw new InputError(`${label}: the tar tree was closed before its content was read`);
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const r = fs.readSync(fd, buf, got, n - got, start + offset + got);
        if (r === 0) throw new InputError(`${label}: the archive shrank while the tree was in use`);
        got += r;
      }
      return buf;
    },
  };
}
