/**
 * Extended attributes of a directory walk's entries, read on a helper thread while the walk
 * goes on. Listing a file's attributes is one system call, some 5 µs through @napi-rs/xattr:
 * about a third of a walk's time, spent on a core that is otherwise idle, and nearly every file
 * has none. The walk hands paths over in batches (numbered in the order given) and collects the
 * answers at its end; only the entries that have attributes, or whose attributes could not be
 * read, come back. A helper that fails or stops answering leaves the remaining paths to be read
 * on the calling thread, so the outcome never depends on the helper.
 */
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';

/** One entry's attributes: names sorted bytewise with their values, or what could not be read. */
export type XattrOutcome =
  | { names: string[]; values: Uint8Array[] }
  | { failed: 'list' | 'get'; name?: string; message: string };

type ListFn = (file: string) => string[];
type GetFn = (file: string, name: string) => Uint8Array | null;

/**
 * Reads `file`'s attributes with @napi-rs/xattr's list and get (which do not follow symlinks).
 * ENOTSUP and ENODATA mean "none here", not a failure. Values are copied out of the addon's
 * buffers. Self-contained, because its source also runs on the helper thread.
 */
export function xattrOutcome(list: ListFn, get: GetFn, file: string): XattrOutcome {
  const none = (e: unknown): boolean => /os error (95|61)\b/.test(e instanceof Error ? e.message : String(e));
  let all: string[];
  try {
    all = list(file);
  } catch (e) {
    return none(e) ? { names: [], values: [] } : { failed: 'list', message: (e as Error).message };
  }
  all.sort();
  const names: string[] = [];
  const values: Uint8Array[] = [];
  for (const name of all) {
    let v: Uint8Array | null;
    try {
      v = get(file, name);
    } catch (e) {
      if (none(e)) continue;
      return { failed: 'get', name, message: (e as Error).message };
    }
    if (v) {
      names.push(name);
      values.push(new Uint8Array(v));
    }
  }
  return { names, values };
}

/** Paths handed over per message. */
const STEP = 512;
/** Without a batch finished for this long the helper is taken to be stuck. */
const STALL_MS = 30_000;
/** A helper not begun this long after the walk ended is taken to have failed to start. */
const START_MS = 5_000;

/** Control words shared with the helper. */
const FED = 0;
const ENDED = 1;
const STOP = 2;
const DONE = 3;
/** Paths the helper has answered, so far. */
const ANSWERED = 4;
/** The helper's source compiled and began. */
const STARTED = 5;

/** The helper, as CommonJS source evaluated in the worker (no module resolution needed). */
const HELPER = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const ctl = new Int32Array(workerData.control);
const port = workerData.port;
const found = [];
Atomics.store(ctl, ${STARTED}, 1);
try {
  const { listAttributesSync, getAttributeSync } = require(workerData.xattrModule);
  // A transpiler that keeps function names (esbuild's keepNames, as tsx runs it) wraps them in __name().
  const __name = (f) => f;
  // A transpiler that keeps function names (esbuild's keepNames, as tsx runs it) wraps them in __name().
  const outcome = ((__name) => (${xattrOutcome.toString()}))((f) => f);
  let n = 0;
  for (;;) {
    if (Atomics.load(ctl, ${STOP}) !== 0) break;
    // ENDED is set after the last batch is posted: once it is seen, every batch can be received.
    const seen = Atomics.load(ctl, ${FED});
    const ended = Atomics.load(ctl, ${ENDED}) !== 0;
    const m = receiveMessageOnPort(port);
    if (m) {
      for (const file of m.message) {
        const o = outcome(listAttributesSync, getAttributeSync, file);
        if (o.failed || o.names.length > 0) found.push([n, o]);
        n++;
      }
      Atomics.store(ctl, ${ANSWERED}, n);
      continue;
    }
    if (ended) break;
    Atomics.wait(ctl, ${FED}, seen, 1000);
  }
  port.postMessage({ found, answered: n });
} catch (e) {
  port.postMessage({ found, answered: 0, error: String(e) });
} finally {
  Atomics.store(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

export class XattrThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(6 * 4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  /** Every path handed over, by number (for reading here what the helper did not answer). */
  private readonly paths: string[] = [];
  private batch: string[] = [];
  private closed = false;
  /** Paths finish() had to read on this thread (the helper failed or fell behind for good). */
  readHere = 0;

  /** `xattrModule`: the resolved path of @napi-rs/xattr; `list`/`get`: its functions on this thread. */
  constructor(xattrModule: string, private readonly list: ListFn, private readonly get: GetFn) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(HELPER, {
      eval: true, workerData: { xattrModule, port: port2, control: this.control.buffer }, transferList: [port2],
    });
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
    while (Atomics.load(ctl, DONE) === 0 && Date.now() - since < (Atomics.load(ctl, STARTED) ? STALL_MS : START_MS)) {
      Atomics.wait(ctl, DONE, 0, 1000);
      const now = Atomics.load(ctl, ANSWERED);
      if (now !== answered) {
        answered = now;
        since = Date.now();
      }
    }
    const reply = Atomics.load(ctl, DONE) !== 0
      ? receiveMessageOnPort(this.port)?.message as { found: [number, XattrOutcome][]; answered: number } | undefined
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
