/**
 * The image writer runs apart from the build's main thread (src/assemble/writer-job.ts), so
 * that a signal to the build reaches the pipeline at once and the writer can be stopped and
 * cleaned up after: on a worker thread (writer-thread.ts), or as a child process
 * (writer-child.ts) where it must be a process of its own - an unprivileged build's writer
 * reads the tree inside the build's user namespace, one that reads the tree from stdin takes
 * our stdin - and where no compiled thread module exists (the TypeScript sources run under
 * tsx, whose loader a worker does not get). DIB_TS_WRITER=process always uses the child.
 * This side starts it, relays its progress and turns its result or error back into ours.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DiskImageError, InternalError, reviveError } from '../errors.js';
import { THREAD_CONTROL_WORDS, THREAD_STOP, THREAD_STOPPED } from '../assemble/writer-control.js';
import type { WriterJob, WriterMessage } from '../assemble/writer-job.js';
import type { CleanupStack } from './cleanup.js';
import type { UserNamespace } from './userns.js';
import type { PipelineIO } from './pipeline.js';
import { shellScript } from './shell-scripts.js';

/** A writer module: the .js next to this file (dist), or the .ts (run through tsx). */
function writerModule(name: 'writer-child' | 'writer-thread'): string {
  const js = fileURLToPath(new URL(`../assemble/${name}.js`, import.meta.url));
  return fs.existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

type WriterDone = Extract<WriterMessage, { type: 'done' }>;

/** A started writer, waiting for its job. */
export interface WriterProcess {
  /** Sends the job and resolves with the written file once the writer has sent its result. */
  run(job: WriterJob, io: Pick<PipelineIO, 'progress'>): Promise<WriterDone>;
}

/** The writer's end as the build sees it, a thread or a child process. */
interface Endpoint {
  post(job: WriterJob): void;
  on(event: 'message', fn: (m: WriterMessage) => void): void;
  /** Why it ended (an exit, a crash), once it has. */
  ended(): string | undefined;
  onEnd(fn: (why: string) => void): void;
}

/** How long a stop waits for the thread to reach its next progress report. */
const STOP_WAIT_MS = 3000;

/** The writer on a worker thread. */
class ThreadWriter implements Endpoint {
  private readonly control = new Int32Array(new SharedArrayBuffer(THREAD_CONTROL_WORDS * 4));
  private readonly worker: Worker;
  private why: string | undefined;
  private readonly endFns: ((why: string) => void)[] = [];
  private finished = false;
  private posted = false;

  constructor() {
    this.worker = new Worker(writerModule('writer-thread'), { workerData: { control: this.control.buffer } });
    // It keeps this process alive only while it has a job: a build that fails before
    // assembly (or a prestarted writer nobody takes) must not wait for it.
    this.worker.unref();
    this.worker.on('error', (e) => this.end(`failed: ${e.message}`));
    this.worker.on('exit', (code) => this.end(`exit ${code}`));
  }

  post(job: WriterJob): void {
    this.posted = true;
    this.worker.ref();
    this.worker.postMessage(job);
  }

  on(_event: 'message', fn: (m: WriterMessage) => void): void {
    this.worker.on('message', (m: WriterMessage) => {
      if (m.type !== 'progress') {
        this.finished = true;
        this.worker.unref();
      }
      fn(m);
    });
  }

  ended(): string | undefined {
    return this.why;
  }

  onEnd(fn: (why: string) => void): void {
    this.endFns.push(fn);
  }

  /**
   * Ends the thread. One still writing is asked to stop at its next progress report and
   * waited for (at most STOP_WAIT_MS), so that it writes nothing once its files are deleted.
   */
  stop(): void {
    if (this.posted && !this.finished && this.why === undefined) {
      Atomics.store(this.control, THREAD_STOP, 1);
      Atomics.wait(this.control, THREAD_STOPPED, 0, STOP_WAIT_MS);
    }
    this.worker.unref();
    void this.worker.terminate();
  }

  private end(why: string): void {
    if (this.why !== undefined) return;
    this.why = why;
    for (const fn of this.endFns) fn(why);
  }
}

/** The writer as a child process; in an unprivileged build, inside the build's user namespace. */
function forkWriter(o: { stdinTar: boolean; ns?: UserNamespace }): ChildProcess {
  // In an unprivileged build the writer reads the tree from inside the build's user namespace
  // (see docs/unprivileged.md: owners, capabilities and ACLs then read as in the image).
  const inNs = o.ns?.wrap(process.execPath, process.execArgv, { pid: false, mount: false, keepGroups: true });
  return fork(writerModule('writer-child'), [], {
    serialization: 'advanced', detached: true, stdio: [o.stdinTar ? 'inherit' : 'ignore', 'inherit', 'inherit', 'ipc'],
    ...(inNs ? { execPath: inNs[0], execArgv: inNs[1] } : {}),
  });
}

/** A child process as an Endpoint. */
function childEndpoint(child: ChildProcess): Endpoint {
  let why: string | undefined;
  const fns: ((why: string) => void)[] = [];
  child.once('exit', (code, sig) => {
    why = `exit ${code ?? sig}`;
    for (const fn of fns) fn(why);
  });
  child.on('error', (e) => {
    why ??= `failed: ${e.message}`;
  });
  return {
    post: (job) => { child.send(job); },
    on: (_event, fn) => { child.on('message', fn); },
    ended: () => why,
    onEnd: (fn) => { fns.push(fn); },
  };
}

/** True when this build's writer may be a thread (see the head of this file). */
function threadSuits(o: { stdinTar: boolean; ns?: UserNamespace }): boolean {
  return !o.ns && !o.stdinTar && process.env.DIB_TS_WRITER !== 'process' && writerModule('writer-thread').endsWith('.js');
}

/**
 * Removes the writer's private files should this process die without cleaning up (SIGKILL):
 * sh/writer-watchdog.sh, waiting on a pipe only this process holds, removes them unless it
 * reads "done" first. (A writer child does this itself: writer-child.ts.)
 */
function startWatchdog(files: readonly string[]): { release(): void } {
  const sh = spawn('sh', [shellScript('writer-watchdog.sh'), ...files], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  sh.on('error', () => {}); // no sh: only the SIGKILL case loses its cleanup
  sh.unref();
  (sh.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return { release: () => { sh.stdin?.end('done\n'); } };
}

/**
 * Where a writer started by prestartWriter waits for startWriter: a process-wide slot,
 * because the installed command loads prestartWriter and the pipeline from separate bundles.
 */
const PRESTARTED = Symbol.for('diskimage-ts.prestarted-writer');
type Slot = { [PRESTARTED]?: ThreadWriter };

/**
 * Starts the writer thread at the very start of `disk-image-create` (bin/disk-image-create.js
 * calls this before it loads the command), so that its start-up overlaps the loading of the
 * command as well. Only where the build is sure to take it: run as root (no user namespace)
 * and not reading the tree from stdin; not for --help, --version, --dry-run or --unprivileged.
 * A thread nobody takes is ended by startWriter, or with this process.
 */
export function prestartWriter(argv: readonly string[]): void {
  if (process.getuid?.() !== 0) return;
  const skip = new Set(['-h', '--help', '--version', '--dry-run', '--unprivileged']);
  if (argv.some((a, i) => skip.has(a) || a === '--root-tar=-' || (a === '--root-tar' && argv[i + 1] === '-'))) return;
  if (!threadSuits({ stdinTar: false })) return;
  const w = new ThreadWriter();
  (globalThis as Slot)[PRESTARTED] = w;
}

/**
 * Starts the writer before it is needed: its start-up and the loading of the writers' modules
 * then overlap the build's own work instead of delaying the image. A thread prestartWriter
 * started is taken when it suits this build, else ended. `privateFiles`: the outputs it
 * writes under private names (a thread's watchdog removes them if this process is killed).
 * A build that fails before assembly ends it with the rest (cleanup).
 */
export function startWriter(cleanup: CleanupStack, o: { stdinTar: boolean; ns?: UserNamespace; privateFiles: readonly string[] }): WriterProcess {
  const early = (globalThis as Slot)[PRESTARTED];
  delete (globalThis as Slot)[PRESTARTED];
  let end: Endpoint;
  if (threadSuits(o)) {
    const w = early && early.ended() === undefined ? early : new ThreadWriter();
    if (early && early !== w) early.stop();
    const watchdog = startWatchdog(o.privateFiles);
    cleanup.push('end the image writer thread', () => {
      w.stop();
      watchdog.release();
    });
    end = w;
  } else {
    early?.stop();
    const child = forkWriter(o);
    cleanup.track(child);
    end = childEndpoint(child);
  }
  return {
    run: (job, io) => new Promise((resolve, reject) => {
      const why = end.ended();
      if (why !== undefined) {
        reject(new DiskImageError('IO', `the image writer ended before it was given its job (${why})`, 'see its output above'));
        return;
      }
      let settled = false;
      end.on('message', (m: WriterMessage) => {
        if (m.type === 'progress') io.progress?.({ stage: 'assemble', detail: m.stage, done: m.done, total: m.total });
        else {
          // The writer writes nothing after its result: the build goes on at once (cleanup
          // ends the writer if it has not ended by then).
          settled = true;
          if (m.type === 'done') resolve(m);
          else reject(writerError(m));
        }
      });
      end.onEnd((w) => {
        if (!settled) reject(new DiskImageError('IO', `the image writer ended without a result (${w})`, 'see its output above'));
      });
      end.post(job);
    }),
  };
}

/** The writer child's error message as our error. */
function writerError(m: Extract<WriterMessage, { type: 'error' }>): Error {
  const revived = reviveError(m);
  if (revived instanceof DiskImageError) return revived;
  if (m.code && /^E[A-Z0-9]+$/.test(m.code)) {
    // An operating-system error (errno) while reading the tree or writing: not a bug.
    const full = m.code === 'ENOSPC' || m.code === 'EDQUOT';
    return new DiskImageError(full ? 'NO_SPACE' : 'IO', `the image writer failed: ${m.message}`,
      full ? 'free space where the image is written, or choose another -o' : 'check the named file or folder');
  }
  if (m.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(m.message)) {
    return new DiskImageError('UNSUPPORTED', `image assembly is not available in this build of diskimage-ts: ${m.message.split('\n')[0]}`,
      'the hooks ran; use --keep-build-dir to keep the built tree');
  }
  // Anything else is a bug of the writer: its stack is the writer's.
  const e = new InternalError(`${m.message} (in the image writer process)`);
  if (m.stack) e.stack = m.stack;
  return e;
}
