/**
 * Reads host files on a helper thread ahead of a consumer that reads them in a known order
 * (the ext4 writer, file after file), so that opening, reading and closing some 15,000 files
 * happens on the other core while the consumer lays out and writes blocks.
 *
 * The helper fills 1 MiB batches (small files packed together; a file of 1 MiB or more starts
 * its own batch, so its 1 MiB reads line up) and hands each over without a copy. The consumer
 * takes them synchronously, so a synchronous writer needs no event loop. At most BUDGET bytes
 * are read but not yet taken. A batch goes back to the helper to be refilled once the consumer
 * has moved on to the next one: bytes from take() stay valid only until the take() after them,
 * which is what a caller of readAhead (model.ts) promises to live with. The stream never
 * decides an outcome: a file it could not read, or read only in part, simply has pieces
 * missing, and take() returns undefined so the caller reads those bytes itself and reports any
 * error as it would without read-ahead. The same holds for reads out of order.
 *
 * The helper is our C addon's thread (native/read-ahead.c) when it is built, else a worker
 * thread (read-ahead-worker.ts, WorkerFeed below), its TypeScript twin: both fill the same batches. The worker costs
 * more CPU (its start-up, Node's fs bindings per call, the messages), which the consumer,
 * short of CPU on two cores, pays for.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { loadAddon } from '../binary/native-addon.js';
import { startWorker } from '../binary/worker-module.js';
import { type BatchMessage, CONTROL_WORDS, DONE, IN_FLIGHT, POSTED, type ReadAheadWorkerData, STOP } from './read-ahead-control.js';

export interface AheadFile {
  path: string;
  size: number;
}

/** Batch size; equal to the ext4 writer's read size, so its reads take whole pieces. */
export const BATCH = 1 << 20;
/** Bytes read ahead and not yet taken. */
const BUDGET = 16 << 20;
/** With no batch for this long the helper is taken to be stuck; reads go direct. */
const STALL_MS = 60_000;

interface Piece {
  file: number;
  offset: number;
  bytes: Uint8Array;
}

/** One batch: its pieces, four numbers each (file, offset, length, at), all in `buf`. */
interface Batch {
  pieces: ArrayLike<number>;
  buf: ArrayBuffer;
}

/** Where the batches come from. */
interface BatchFeed {
  /**
   * The next batch; the one before it goes back to be refilled. Undefined when there are no
   * more, or when none came for STALL_MS (the helper is taken to be stuck).
   */
  next(): Batch | undefined;
  close(): void;
}

/** The helper as a worker thread: batches come by transfer over a port. */
class WorkerFeed implements BatchFeed {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly port: MessagePort;
  /** The buffer of the batch the consumer holds, handed back on the next call. */
  private current: ArrayBuffer | undefined;
  private closed = false;

  constructor(files: readonly AheadFile[]) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: ReadAheadWorkerData = {
      paths: files.map((f) => f.path), sizes: files.map((f) => f.size), port: port2, control: this.control.buffer as SharedArrayBuffer, batch: BATCH, budget: BUDGET,
    };
    // The URL resolves beside this module in src/ and dist/, and from dist/bundle/*/ to dist/bundle/tree/.
    const worker = startWorker(new URL('../tree/read-ahead-worker.js', import.meta.url), { workerData, transferList: [port2] });
    worker.unref();
    worker.on('error', () => {}); // a failed helper only means direct reads
  }

  next(): Batch | undefined {
    if (this.current && !this.closed) this.port.postMessage(this.current, [this.current]);
    this.current = undefined;
    const ctl = this.control;
    for (;;) {
      if (this.closed) return undefined;
      const seen = Atomics.load(ctl, POSTED);
      let m = receiveMessageOnPort(this.port);
      if (!m && Atomics.load(ctl, DONE) !== 0) m = receiveMessageOnPort(this.port);
      if (m) {
        const b = m.message as BatchMessage;
        Atomics.sub(ctl, IN_FLIGHT, b.bytes);
        Atomics.notify(ctl, IN_FLIGHT);
        this.current = b.buf;
        return b;
      }
      if (Atomics.load(ctl, DONE) !== 0) return undefined;
      if (Atomics.wait(ctl, POSTED, seen, STALL_MS) === 'timed-out') return undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, IN_FLIGHT);
    this.port.close();
  }
}

/** native/read-ahead.c's functions. */
interface ReadAheadAddon {
  start(paths: string[], sizes: number[], buffers: ArrayBuffer[]): unknown;
  /** [buffer index, bytes, then four numbers per piece], null when done, undefined after timeoutMs. */
  next(handle: unknown, give: number, timeoutMs: number): Float64Array | null | undefined;
  stop(handle: unknown): void;
}

/** The C read-ahead, or undefined when the addon is not built (or does not load). */
export function nativeReadAhead(): ReadAheadAddon | undefined {
  return loadAddon<ReadAheadAddon>('read_ahead');
}

/** The helper as our C addon's thread: it fills buffers of ours, which it holds until stop. */
class NativeFeed implements BatchFeed {
  private readonly buffers = Array.from({ length: BUDGET / BATCH }, () => new ArrayBuffer(BATCH));
  private readonly handle: unknown;
  /** The buffer the consumer holds (-1: none). */
  private held = -1;
  private closed = false;

  constructor(private readonly fns: ReadAheadAddon, files: readonly AheadFile[]) {
    this.handle = fns.start(files.map((f) => f.path), files.map((f) => f.size), this.buffers);
  }

  next(): Batch | undefined {
    if (this.closed) return undefined;
    const r = this.fns.next(this.handle, this.held, STALL_MS);
    this.held = r ? r[0]! : -1;
    return r ? { pieces: r.subarray(2), buf: this.buffers[r[0]!]! } : undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fns.stop(this.handle);
  }
}

export interface ReadAheadOptions {
  /**
   * Which helper reads: our C addon's thread when it is built, else a worker thread ('auto',
   * the default); or that one ('native': an error when it is not built, 'typescript').
   */
  reader?: 'auto' | 'native' | 'typescript';
}

export class ReadAhead {
  private readonly feed: BatchFeed;
  private queue: Piece[] = [];
  private head = 0;
  private closed = false;

  constructor(files: readonly AheadFile[], opts: ReadAheadOptions = {}) {
    const fns = opts.reader === 'typescript' ? undefined : nativeReadAhead();
    if (!fns && opts.reader === 'native') throw new InputError('the native read-ahead is not built (build/Release/read_ahead.node)', 'run npm ci (it builds it with node-gyp)');
    this.feed = fns ? new NativeFeed(fns, files) : new WorkerFeed(files);
  }

  /**
   * Bytes [offset, offset + length) of file number `file` (its index in the list given to the
   * constructor), when the stream has them next; undefined means: read them directly. Pieces
   * of earlier files, or earlier parts of this one, are dropped (the consumer skipped them).
   */
  take(file: number, offset: number, length: number): Uint8Array | undefined {
    const p = this.seek(file, offset);
    if (!p) return undefined;
    const skip = offset - p.offset;
    if (p.bytes.length - skip >= length) return this.consume(p, skip, length);
    // The range spans pieces (a short read, or a read size other than BATCH): gather them.
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const q = this.seek(file, offset + got);
      if (!q) return undefined;
      const n = Math.min(length - got, q.bytes.length - (offset + got - q.offset));
      out.set(this.consume(q, offset + got - q.offset, n), got);
      got += n;
    }
    return out;
  }

  /** Stops the helper; later take() calls return undefined. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.head = 0;
    this.feed.close();
  }

  /** The piece holding byte `offset` of `file`, dropping what lies before it; undefined if not next. */
  private seek(file: number, offset: number): Piece | undefined {
    for (;;) {
      if (this.head >= this.queue.length && !this.refill()) return undefined;
      const p = this.queue[this.head]!;
      if (p.file < file || (p.file === file && p.offset + p.bytes.length <= offset)) {
        this.head++;
        continue;
      }
      return p.file === file && p.offset <= offset ? p : undefined;
    }
  }

  private consume(p: Piece, skip: number, length: number): Uint8Array {
    if (skip === 0 && length === p.bytes.length) {
      this.head++;
      return p.bytes; // the usual case: a whole piece, no new view
    }
    const v = p.bytes.subarray(skip, skip + length);
    if (skip + length === p.bytes.length) this.head++;
    else {
      p.offset += skip + length;
      p.bytes = p.bytes.subarray(skip + length);
    }
    return v;
  }

  private refill(): boolean {
    const b = this.closed ? undefined : this.feed.next();
    if (!b) {
      this.close();
      return false;
    }
    const q: Piece[] = [];
    const ps = b.pieces;
    for (let i = 0; i < ps.length; i += 4) q.push({ file: ps[i]!, offset: ps[i + 1]!, bytes: new Uint8Array(b.buf, ps[i + 3]!, ps[i + 2]!) });
    this.queue = q;
    this.head = 0;
    return true;
  }
}
