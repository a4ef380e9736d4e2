/**
 * What the extended-attribute helper thread (xattr-worker.ts) and the walk's side
 * (xattr-thread.ts) share: the control words of their Int32Array, the worker's start data and
 * its one reply.
 */
import type { MessagePort } from 'node:worker_threads';
import type { XattrOutcome } from './xattr-outcome.js';

/** Counts batches of paths posted (the helper waits on it). */
export const FED = 0;
/** Non-zero: the last batch is posted. */
export const ENDED = 1;
/** Non-zero: the walk gave up on the helper; it ends. */
export const STOP = 2;
/** Non-zero: the helper has posted its reply. */
export const DONE = 3;
/** Paths the helper has answered, so far. */
export const ANSWERED = 4;
/** The helper's module loaded and began. */
export const STARTED = 5;
/** Words in the control array. */
export const CONTROL_WORDS = 6;

export interface XattrWorkerData {
  /** The resolved path of @napi-rs/xattr. */
  xattrModule: string;
  /** Batches of paths (string[]) come in here; the reply goes out. */
  port: MessagePort;
  /** CONTROL_WORDS Int32 words. */
  control: SharedArrayBuffer;
}

/** The helper's answer: by path number, the outcome of each file with attributes or an error. */
export interface XattrReply {
  found: [number, XattrOutcome][];
  /** Paths answered, numbered from 0; the rest are read on the walk's thread. */
  answered: number;
  /** Why the helper stopped early (its module or @napi-rs/xattr failed to load). */
  error?: string;
}
