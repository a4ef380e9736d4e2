/**
 * The image writer runs in a child process (src/assemble/writer-child.ts), so that a signal
 * to the build reaches the pipeline at once and the writer can be stopped and cleaned up
 * after; this side starts it, relays its progress and turns its result or error back into
 * ours.
 */
import { type ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiskImageError, reviveError } from '../errors.js';
import type { WriterJob, WriterMessage } from '../assemble/writer-child.js';
import type { CleanupStack } from './cleanup.js';
import type { UserNamespace } from './userns.js';
import type { PipelineIO } from './pipeline.js';

/** The writer child's module: the .js next to this file (dist), or the .ts (run through tsx). */
function writerModule(): string {
  const js = fileURLToPath(new URL('../assemble/writer-child.js', import.meta.url));
  return fs.existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

type WriterDone = Extract<WriterMessage, { type: 'done' }>;

/** A started writer child, waiting for its job. */
export interface WriterProcess {
  /** Sends the job and resolves with the written file once the child has finished and exited. */
  run(job: WriterJob, io: Pick<PipelineIO, 'progress'>): Promise<WriterDone>;
}

/** Forks the writer child; in an unprivileged build, inside the build's user namespace. */
function forkWriter(o: { stdinTar: boolean; ns?: UserNamespace }): ChildProcess {
  // In an unprivileged build the writer reads the tree from inside the build's user namespace
  // (see README "Unprivileged builds": owners, capabilities and ACLs then read as in the image).
  const inNs = o.ns?.wrap(process.execPath, process.execArgv, { pid: false, mount: false, keepGroups: true });
  return fork(writerModule(), [], {
    serialization: 'advanced', detached: true, stdio: [o.stdinTar ? 'inherit' : 'ignore', 'inherit', 'inherit', 'ipc'],
    ...(inNs ? { execPath: inNs[0], execArgv: inNs[1] } : {}),
  });
}

/**
 * Where a writer child started by prestartWriter waits for startWriter: a process-wide slot,
 * because the installed command loads prestartWriter and the pipeline from separate bundles.
 */
const PRESTARTED = Symbol.for('diskimage-ts.prestarted-writer');
type Slot = { [PRESTARTED]?: ChildProcess };

/**
 * Forks the writer child at the very start of `disk-image-create` (bin/disk-image-create.js
 * calls this before it loads the command), so that the child's start-up overlaps the loading
 * of the command as well: some 30 ms sooner than startWriter could. Only where the build is
 * sure to take it as it is: run as root (no user namespace) and not reading the tree from
 * stdin; not for --help, --version, --dry-run or --unprivileged. A child nobody takes ends
 * when this process does (it watches its IPC channel: writer-child.ts).
 */
export function prestartWriter(argv: readonly string[]): void {
  if (process.getuid?.() !== 0) return;
  const skip = new Set(['-h', '--help', '--version', '--dry-run', '--unprivileged']);
  if (argv.some((a, i) => skip.has(a) || a === '--root-tar=-' || (a === '--root-tar' && argv[i + 1] === '-'))) return;
  (globalThis as Slot)[PRESTARTED] = forkWriter({ stdinTar: false });
}

/**
 * Starts the writer child before it is needed (see writer-child.ts): Node's start-up and the
 * loading of the writers' modules then overlap the build's own work instead of delaying the
 * image. A child prestartWriter started is taken when it suits this build, else ended. A
 * build that fails before assembly kills it with the rest (cleanup tracks it).
 */
export function startWriter(cleanup: CleanupStack, o: { stdinTar: boolean; ns?: UserNamespace }): WriterProcess {
  const early = (globalThis as Slot)[PRESTARTED];
  delete (globalThis as Slot)[PRESTARTED];
  const usable = early !== undefined && early.exitCode === null && early.signalCode === null && early.connected && !o.ns && !o.stdinTar;
  if (early && !usable) early.kill('SIGTERM');
  const child = usable ? early : forkWriter(o);
  cleanup.track(child);
  let exited: string | undefined;
  child.once('exit', (code, sig) => { exited = `exit ${code ?? sig}`; });
  return {
    run: (job, io) => new Promise((resolve, reject) => {
      if (exited !== undefined) {
        reject(new DiskImageError('IO', `the image writer process ended before it was given its job (${exited})`, 'see its output above'));
        return;
      }
      let settled = false;
      child.on('message', (m: WriterMessage) => {
        if (m.type === 'progress') io.progress?.({ stage: 'assemble', detail: m.stage, done: m.done, total: m.total });
        else {
          // The child writes nothing after its result: the build goes on at once while it exits
          // (cleanup ends it if it has not by then).
          settled = true;
          if (m.type === 'done') resolve(m);
          else reject(writerError(m));
        }
      });
      child.on('error', reject);
      child.on('exit', (code, sig) => {
        if (!settled) reject(new DiskImageError('IO', `the image writer process ended without a result (exit ${code ?? sig})`, 'see its output above'));
      });
      child.send(job);
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
  const e = new Error(`${m.message} (in the image writer process)`);
  if (m.stack) e.stack = m.stack;
  return e;
}
