/**
 * The extended-attribute helper as a worker thread (started by xattr-thread.ts): reads each
 * batch of paths posted to it with @napi-rs/xattr, counts what it has answered in ANSWERED,
 * and once the last batch is in (ENDED) replies with the outcomes of the files that have
 * attributes or could not be read. Whatever it leaves unanswered, the walk reads itself.
 */
import { createRequire } from 'node:module';
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ANSWERED, DONE, ENDED, FED, STARTED, STOP, type XattrReply, type XattrWorkerData } from './xattr-control.js';
import { type GetFn, type ListFn, type XattrOutcome, xattrOutcome } from './xattr-outcome.js';

const { xattrModule, port, control } = workerData as XattrWorkerData;
const ctl = new Int32Array(control);
const found: [number, XattrOutcome][] = [];
Atomics.store(ctl, STARTED, 1);

/** Answers batches until the last one is in; returns how many paths were answered. */
function answer(list: ListFn, get: GetFn): number {
  let n = 0;
  for (;;) {
    if (Atomics.load(ctl, STOP) !== 0) break;
    // ENDED is set after the last batch is posted: once it is seen, every batch can be received.
    const seen = Atomics.load(ctl, FED);
    const ended = Atomics.load(ctl, ENDED) !== 0;
    const m = receiveMessageOnPort(port);
    if (m) {
      for (const file of m.message as string[]) {
        const o = xattrOutcome(list, get, file);
        if ('failed' in o || o.names.length > 0) found.push([n, o]);
        n++;
      }
      Atomics.store(ctl, ANSWERED, n);
      continue;
    }
    if (ended) break;
    Atomics.wait(ctl, FED, seen, 1000);
  }
  return n;
}

try {
  const xattr = createRequire(import.meta.url)(xattrModule) as { listAttributesSync: ListFn; getAttributeSync: GetFn };
  const reply: XattrReply = { found, answered: answer(xattr.listAttributesSync, xattr.getAttributeSync) };
  port.postMessage(reply);
} catch (e) {
  const reply: XattrReply = { found, answered: 0, error: String(e) };
  port.postMessage(reply);
} finally {
  Atomics.store(ctl, DONE, 1);
  Atomics.notify(ctl, DONE);
}
