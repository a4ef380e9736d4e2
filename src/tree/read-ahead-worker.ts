/**
 * The read-ahead's TypeScript twin of native/read-ahead.c, as a worker thread (started by
 * read-ahead.ts): reads the files in order into batches of `batch` bytes (a file of `batch`
 * bytes or more starts a batch of its own) and posts each by transfer, keeping at most
 * `budget` bytes posted and not yet taken. A file it cannot read is skipped: the consumer reads
 * it itself and reports any error.
 */
import * as fs from 'node:fs';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type BatchMessage, DONE, IN_FLIGHT, POSTED, type ReadAheadWorkerData, STOP } from './read-ahead-control.js';

const { paths, sizes, port, control, batch, budget } = workerData as ReadAheadWorkerData;
const ctl = new Int32Array(control);
const stopped = (): boolean => Atomics.load(ctl, STOP) !== 0;
/** A batch the consumer has finished with comes back over the port and is filled again. */
const fresh = (): ArrayBuffer => (receiveMessageOnPort(port)?.message as ArrayBuffer | undefined) ?? (Buffer.allocUnsafeSlow(batch).buffer as ArrayBuffer);

let buf = fresh();
let used = 0;
let pieces: number[] = [];

/** Hands the batch over, then waits while the budget is spent. */
function post(): void {
  if (used === 0) return;
  const m: BatchMessage = { pieces, buf, bytes: used };
  port.postMessage(m, [buf]);
  Atomics.add(ctl, IN_FLIGHT, used);
  Atomics.add(ctl, POSTED, 1);
  Atomics.notify(ctl, POSTED);
  buf = fresh();
  used = 0;
  pieces = [];
  for (;;) {
    const f = Atomics.load(ctl, IN_FLIGHT);
    if (f < budget || stopped()) break;
    Atomics.wait(ctl, IN_FLIGHT, f, 1000);
  }
}

/** Reads file `i` into batches; a failure leaves the rest of it to the consumer. */
function readFile(i: number): void {
  const size = sizes[i]!;
  if (size >= batch) post();
  let fd = -1;
  try {
    fd = fs.openSync(paths[i]!, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    let off = 0;
    while (off < size && !stopped()) {
      if (used === batch) post();
      const n = Math.min(size - off, batch - used);
      const r = fs.readSync(fd, new Uint8Array(buf, used, n), 0, n, off);
      if (r === 0) break;
      pieces.push(i, off, r, used);
      used += r;
      off += r;
    }
  } catch {
    // Left to the consumer's own read, which reports it.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

try {
  for (let i = 0; i < paths.length && !stopped(); i++) readFile(i);
  post();
} finally {
  Atomics.store(ctl, DONE, 1);
  Atomics.notify(ctl, POSTED);
}
