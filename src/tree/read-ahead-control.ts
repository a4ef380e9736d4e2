/**
 * What the read-ahead's worker thread (read-ahead-worker.ts) and the consumer's side
 * (read-ahead.ts) share: the control words of their Int32Array, the worker's start data and the
 * message that hands a filled batch over.
 */
import type { MessagePort } from 'node:worker_threads';

/** Bytes of batches posted and not yet taken. */
export const IN_FLIGHT = 0;
/** Counts posted batches (the consumer waits on it). */
export const POSTED = 1;
/** Non-zero: the consumer stopped; the worker ends. */
export const STOP = 2;
/** Non-zero: the worker has posted its last batch. */
export const DONE = 3;
/** Words in the control array. */
export const CONTROL_WORDS = 4;

export interface ReadAheadWorkerData {
  paths: string[];
  sizes: number[];
  /** Batches go out here; finished ones come back to be refilled. */
  port: MessagePort;
  /** CONTROL_WORDS Int32 words. */
  control: SharedArrayBuffer;
  /** Bytes per batch. */
  batch: number;
  /** Bytes read ahead and not yet taken, at most. */
  budget: number;
}

/** One filled batch: four numbers per piece (file, offset, length, at), all in `buf`. */
export interface BatchMessage {
  pieces: number[];
  buf: ArrayBuffer;
  bytes: number;
}
