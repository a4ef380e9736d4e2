/**
 * The image writer as a child process (writer-job.ts does the work), for the builds whose
 * writer must be a process of its own: an unprivileged build's, which reads the tree from
 * inside the build's user namespace, and one that reads the tree from stdin (other builds
 * run it on a thread: writer-thread.ts). Assembly is long, synchronous work; in a child, the
 * build's own process stays free to react to SIGINT/SIGTERM at once: it kills this child,
 * deletes what the child wrote, and exits.
 * If the build process disappears (SIGKILL), nobody would ever link or delete what this child
 * writes: it notices (IPC 'disconnect' when idle, a changed parent pid between progress
 * reports while writing), removes its files and exits. SIGTERM keeps its default action (the
 * child ends at once, even inside synchronous writing); the parent then deletes the files.
 */
import * as fs from 'node:fs';
import { removeTempOutputs } from '../binary/file-device.js';
import { runWriterJob, WriterStopped, type WriterJob, type WriterMessage } from './writer-job.js';

/** The live parent pid (/proc/self/stat field 4; process.ppid is fixed at start). */
function parentPid(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

let orphaned: () => never = () => process.exit(1);

async function runJob(job: WriterJob): Promise<void> {
  const parent = parentPid();
  orphaned = (): never => {
    for (const f of [job.options.output, ...(job.options.containers ?? []).map((c) => c.path)]) removeTempOutputs(f);
    process.exit(1);
  };
  const link = {
    send: (m: WriterMessage): void => {
      if (!process.connected) orphaned();
      process.send?.(m);
    },
    check: (): void => {
      if (parentPid() !== parent) throw new WriterStopped('the build process is gone');
    },
  };
  try {
    await runWriterJob(job, link);
  } catch {
    orphaned(); // WriterStopped: the build is gone
  }
}

const onDisconnect = (): void => { orphaned(); };
process.once('disconnect', onDisconnect);
process.once('message', (job: WriterJob) => {
  void runJob(job).finally(() => {
    process.off('disconnect', onDisconnect);
    process.disconnect?.();
  });
});
