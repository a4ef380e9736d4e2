/**
 * The words a build shares with its writer thread (writer-thread.ts, writer-process.ts), in an
 * Int32Array over a SharedArrayBuffer: the build raises STOP; the thread raises STOPPED once
 * its job has ended, stopped or not. A module of its own so that the build can name them
 * without loading the writer.
 */
export const THREAD_STOP = 0;
export const THREAD_STOPPED = 1;
/** Words in the array. */
export const THREAD_CONTROL_WORDS = 2;
