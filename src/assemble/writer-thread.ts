/**
 * The image writer on a thread of the build's process (writer-job.ts does the work): a thread
 * starts faster than a child process (docs/benchmarks.md), and its messages need no pipe. The
 * build's main thread stays free to react to SIGINT/SIGTERM: it raises the STOP word, which
 * the job checks between progress reports, waits for STOPPED, and deletes what was written.
 * If the build's process is killed outright (SIGKILL) this thread ends with it; the private
 * files are then removed by the build's watchdog (src/pipeline/writer-process.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { THREAD_CONTROL_WORDS, THREAD_STOP, THREAD_STOPPED } from './writer-control.js';
import { runWriterJob, WriterStopped, type WriterJob } from './writer-job.js';

const port = parentPort;
const control = new Int32Array((workerData as { control: SharedArrayBuffer } | undefined)?.control ?? new SharedArrayBuffer(THREAD_CONTROL_WORDS * 4));

port?.once('message', (job: WriterJob) => {
  const link = {
    send: (m: Parameters<typeof port.postMessage>[0]): void => port.postMessage(m),
    check: (): void => {
      if (Atomics.load(control, THREAD_STOP) !== 0) throw new WriterStopped('stopped by the build');
    },
  };
  runWriterJob(job, link).catch(() => { /* stopped: the build deletes the files */ }).finally(() => {
    Atomics.store(control, THREAD_STOPPED, 1);
    Atomics.notify(control, THREAD_STOPPED);
  });
});
