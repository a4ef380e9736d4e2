/**
 * Guaranteed cleanup for a build: a LIFO stack of synchronous undo steps (release mounts,
 * remove the build folder, delete a half-written output) that runs exactly once, whether the
 * build succeeds, a hook fails, an exception escapes, or SIGINT/SIGTERM/SIGHUP arrives.
 * Steps are synchronous so that a signal handler can run them to the end before exiting,
 * and each step's failure is reported without stopping the ones after it.
 * Child processes registered here (running hooks) are sent SIGTERM, then SIGKILL, in their
 * whole process group, before the undo steps run.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

export type Logger = (line: string) => void;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** The stacks whose signal handlers are installed (CleanupStack.stopListening). */
const LISTENING = new Set<CleanupStack>();

export class CleanupStack {
  private readonly steps: { label: string; fn: () => void }[] = [];
  private readonly children = new Set<ChildProcess>();
  private done = false;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();
  /** Set when a signal arrived; the pipeline checks it between steps. */
  interrupted: NodeJS.Signals | null = null;

  constructor(private readonly log: Logger) {}

  /** Adds an undo step; returns a function that removes it (after doing the work normally). */
  push(label: string, fn: () => void): () => void {
    const step = { label, fn };
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) this.steps.splice(i, 1);
    };
  }

  /** Tracks a running child; it is killed (with its process group) if cleanup runs first. */
  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /**
   * Installs the signal handlers: on a signal, kill children, undo everything, then call
   * `afterCleanup` (the command decides whether and how to exit; build code never exits).
   */
  installSignalHandlers(afterCleanup?: (sig: NodeJS.Signals) => void): void {
    for (const sig of SIGNALS) {
      const h = (): void => this.stop(sig, `received ${sig}`, afterCleanup);
      this.handlers.set(sig, h);
      process.on(sig, h);
    }
    this.afterCleanup = afterCleanup;
    LISTENING.add(this);
  }

  private afterCleanup: ((sig: NodeJS.Signals) => void) | undefined;

  private stop(sig: NodeJS.Signals, why: string, afterCleanup?: (sig: NodeJS.Signals) => void): void {
    if (this.interrupted) return;
    this.interrupted = sig;
    this.log(`${why}: stopping the build and cleaning up`);
    this.run();
    afterCleanup?.(sig);
  }

  /**
   * Stops every build that listens for signals as SIGTERM would, saying `why` (the build's
   * log cannot be written, say). Returns false when there is none (the caller then fails in
   * its own way).
   */
  static stopListening(why: string): boolean {
    const stacks = [...LISTENING];
    for (const s of stacks) s.stop('SIGTERM', why, s.afterCleanup);
    return stacks.length > 0;
  }

  private killChildren(): void {
    for (const child of this.children) {
      if (child.pid === undefined || child.exitCode !== null) continue;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    const deadline = Date.now() + 3000;
    while ([...this.children].some((c) => alive(c.pid)) && Date.now() < deadline) {
      sleepMs(5);
    }
    for (const child of this.children) {
      if (child.pid !== undefined && alive(child.pid)) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }

  /** Runs every undo step once, newest first. Safe to call more than once. */
  run(): void {
    if (this.done) return;
    this.done = true;
    this.killChildren();
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        step.fn();
      } catch (e) {
        this.log(`cleanup step '${step.label}' failed: ${(e as Error).message}`);
      }
    }
    for (const [sig, h] of this.handlers) process.off(sig, h);
    this.handlers.clear();
    LISTENING.delete(this);
  }
}

/** True while the process exists and is not a zombie (a zombie waits for our event loop to reap it). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread (cleanup must finish inside a signal handler). */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
