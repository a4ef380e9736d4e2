/**
 * Running host tools from the build, in two ways:
 *  - runSync: short things (probes, small commands) where blocking the event loop briefly is fine;
 *  - runTracked: anything that can take long (copying a root tree, unpacking a tar, hooks,
 *    package installs). The child runs in its own process group, is tracked by the build's
 *    CleanupStack (so SIGINT/SIGTERM kill it at once and cleanup runs), and its output is
 *    streamed to the caller while it runs.
 * A missing tool is a MissingToolError; a failing one an InputError naming what was being done.
 */
import { spawn, spawnSync } from 'node:child_process';
import { InputError, MissingToolError } from '../errors.js';
import type { CleanupStack } from './cleanup.js';

/** True when `tool` is on PATH. */
/** Runs a short command to the end; stdout is returned, stderr goes into the error on failure. */
export function runSync(cmd: string, args: string[], what: string, o: { stdin?: 'inherit'; pkg?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20, ...(o.env ? { env: o.env } : {}) });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(cmd, what, o.pkg);
    throw new InputError(`${what} failed: ${cmd}: ${r.error.message}`);
  }
  if (r.status !== 0) throw new InputError(`${what} failed (${cmd} exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim()}`);
  return r.stdout;
}

export interface TrackedOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdin?: 'inherit' | 'ignore';
  /** Streams output as it comes; without it, stderr is collected for the error message. */
  output?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Debian package that has the tool (for the MissingToolError hint). */
  pkg?: string;
}

/**
 * Runs a command without blocking the event loop, tracked by `cleanup`; resolves with its exit
 * code (null when killed by a signal). A missing tool rejects with MissingToolError.
 */
export function runTracked(cmd: string, args: string[], o: TrackedOptions, cleanup: CleanupStack, what: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      ...(o.env ? { env: o.env } : {}), ...(o.cwd ? { cwd: o.cwd } : {}),
      stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'], detached: true,
    });
    cleanup.track(child);
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => o.output?.(d, 'stdout'));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (o.output) o.output(d, 'stderr');
      else if (stderr.length < 64 << 10) stderr += d;
    });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new MissingToolError(cmd, what, o.pkg) : e));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** runTracked that must succeed: a non-zero exit is an InputError naming `what`. */
export async function runTrackedOk(cmd: string, args: string[], o: TrackedOptions, cleanup: CleanupStack, what: string): Promise<void> {
  const r = await runTracked(cmd, args, o, cleanup, what);
  if (r.code !== 0) throw new InputError(`${what} failed (${cmd} exit ${r.code ?? 'by a signal'})${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`);
}
