/**
 * Flush-behind for a file being filled: after every `every` bytes written, a helper thread
 * calls fdatasync on its own descriptor of the file, so the kernel writes the image out while
 * we go on producing it, on the other core, and the final fsync only has the tail left.
 * Without it the closing fsync of a large image writes it all out after the work is done
 * (docs/benchmarks.md).
 *
 * Node's asynchronous fs.fdatasync cannot do this: its callbacks only run when the event
 * loop turns, which a synchronous writer never lets happen, so completion cannot be seen and
 * calls would pile up; and it would act on our descriptor number, which may be reused once
 * we close it. The helper opens the file itself, runs at most one flush at a time, folds
 * requests that arrive meanwhile into the next flush, and is started only when the first
 * `every` bytes have been written (small images never start it).
 */
import type { Worker } from 'node:worker_threads';

/** Control words shared with the helper. */
const REQUESTS = 0;
const STOP = 1;

/** The helper, as CommonJS source evaluated in the worker (no module resolution needed). */
const HELPER = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ctl = new Int32Array(workerData.control);
let fd = -1;
try {
  fd = fs.openSync(workerData.path, 'r');
  for (;;) {
    Atomics.wait(ctl, ${REQUESTS}, 0);
    if (Atomics.load(ctl, ${STOP}) !== 0) break;
    Atomics.store(ctl, ${REQUESTS}, 0);
    fs.fdatasyncSync(fd);
  }
} catch {
  // The file went away or cannot be flushed: the owner's own fsync decides.
} finally {
  if (fd >= 0) fs.closeSync(fd);
}
`;

export class FlushBehind {
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private pending = 0;
  private stopped = false;

  constructor(private readonly path: string, private readonly every: number) {}

  /** Counts `n` bytes written; asks for a flush each time `every` bytes have accumulated. */
  wrote(n: number): void {
    if (this.stopped) return;
    this.pending += n;
    if (this.pending < this.every) return;
    this.pending = 0;
    if (!this.worker) {
      // Loaded here, not at import: commands that only read (the inspection ones) never start it.
      const { Worker } = process.getBuiltinModule('node:worker_threads');
      this.worker = new Worker(HELPER, { eval: true, workerData: { path: this.path, control: this.control.buffer } });
      this.worker.unref();
      this.worker.on('error', () => {}); // a helper that fails only loses the head start
      const worker = this.worker;
      this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    }
    Atomics.store(this.control, REQUESTS, 1);
    Atomics.notify(this.control, REQUESTS);
  }

  /** Whether the helper thread has been started (it starts once `every` bytes are written). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  /** Settles when the helper thread has ended (at once if it never started). */
  ended(): Promise<void> {
    return this.exited ?? Promise.resolve();
  }

  /** Ends the helper after its current flush; later writes are not flushed behind. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (!this.worker) return;
    Atomics.store(this.control, STOP, 1);
    Atomics.store(this.control, REQUESTS, 1);
    Atomics.notify(this.control, REQUESTS);
  }
}
