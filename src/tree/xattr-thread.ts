/**
 * Extended attributes of a directory walk's entries, read on a helper thread while the walk
 * goes on. Listing a file's attributes is one system call, some 5 µs through @napi-rs/xattr:
 * about a third of a walk's time, spent on a core that is otherwise idle, and nearly every file
 * has none. The walk hands paths over in batches (numbered in the order given) and collects the
 * answers at its end; only the entries that have attributes, or whose attributes could not be
 * read, come back. A helper that fails or stops answering leaves the remaining paths to be read
 * on the calling thread, so the outcome never depends on the helper.
 */
import { MessageChannel, type MessagePort, type Worker, receiveMessageOnPort } from 'node:worker_threads';
import { startWorker, workerFile } from '../binary/worker-module.js';
import { ANSWERED, CONTROL_WORDS, DONE, ENDED, FED, STARTED, STOP, type XattrReply, type XattrWorkerData } from './xattr-control.js';
import { type GetFn, type ListFn, type XattrOutcome, xattrOutcome } from './xattr-outcome.js';

export { type XattrOutcome, xattrOutcome } from './xattr-outcome.js';

/** Paths handed over per message. */
const STEP = 512;
/** Without a batch finished for this long the helper is taken to be stuck. */
const STALL_MS = 30_000;
/**
 * A helper not begun this long after the walk ended is taken to have failed to start; longer
 * where it starts from its TypeScript source (tsx transpiles it first: the tests).
 */
const START_MS = 5_000;
const START_FROM_SOURCE_MS = 60_000;

export class XattrThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  /** Every path handed over, by number (for reading here what the helper did not answer). */
  private readonly paths: string[] = [];
  private batch: string[] = [];
  private closed = false;
  private readonly startMs: number;
  /** Paths finish() had to read on this thread (the helper failed or fell behind for good). */
  readHere = 0;

  /** `xattrModule`: the resolved path of @napi-rs/xattr; `list`/`get`: its functions on this thread. */
  constructor(xattrModule: string, private readonly list: ListFn, private readonly get: GetFn) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData: XattrWorkerData = { xattrModule, port: port2, control: this.control.buffer as SharedArrayBuffer };
    // The URL resolves beside this module in src/ and dist/, and from dist/bundle/*/ to dist/bundle/tree/.
    const url = new URL('../tree/xattr-worker.js', import.meta.url);
    this.startMs = workerFile(url).endsWith('.ts') ? START_FROM_SOURCE_MS : START_MS;
    this.worker = startWorker(url, { workerData, transferList: [port2] });
    this.worker.unref();
    this.worker.on('error', () => {}); // a failed helper only means reading here
  }

  /** Hands `file` over; returns its number, under which finish() reports it. */
  add(file: string): number {
    this.paths.push(file);
    this.batch.push(file);
    if (this.batch.length >= STEP) this.send();
    return this.paths.length - 1;
  }

  /**
   * Waits for the helper's answers: by number, the outcome of each file that has attributes or
   * could not be read, in increasing number. Paths it did not answer are read here.
   */
  finish(): Map<number, XattrOutcome> {
    this.send();
    const ctl = this.control;
    Atomics.store(ctl, ENDED, 1);
    Atomics.add(ctl, FED, 1);
    Atomics.notify(ctl, FED);
    let answered = Atomics.load(ctl, ANSWERED);
    let since = Date.now();
    while (Atomics.load(ctl, DONE) === 0 && Date.now() - since < (Atomics.load(ctl, STARTED) ? STALL_MS : this.startMs)) {
      Atomics.wait(ctl, DONE, 0, 1000);
      const now = Atomics.load(ctl, ANSWERED);
      if (now !== answered) {
        answered = now;
        since = Date.now();
      }
    }
    const reply = Atomics.load(ctl, DONE) !== 0
      ? receiveMessageOnPort(this.port)?.message as XattrReply | undefined
      : undefined;
    this.close();
    const out = new Map<number, XattrOutcome>(reply?.found ?? []);
    for (let n = reply?.answered ?? 0; n < this.paths.length; n++) {
      this.readHere++;
      const o = xattrOutcome(this.list, this.get, this.paths[n]!);
      if ('failed' in o || o.names.length > 0) out.set(n, o);
    }
    return out;
  }

  /** Stops the helper (after finish, or when the walk failed). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, FED);
    this.port.close();
  }

  private send(): void {
    if (this.batch.length === 0 || this.closed) return;
    this.port.postMessage(this.batch);
    this.batch = [];
    Atomics.add(this.control, FED, 1);
    Atomics.notify(this.control, FED);
  }
}
