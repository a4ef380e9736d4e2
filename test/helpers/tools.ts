/**
 * Reference tools for tests, written once: whether a tool is installed (`command -v`), running
 * one (`run` reports, `mustRun` throws with the tool's output when it fails), and a loop device
 * over an image file (`losetup [-r] [-o OFFSET --sizelimit SIZE] [--sector-size N] --show -f`)
 * that is always detached (`losetup -d`) after the callback, sync or async, whatever it does.
 */
import { spawnSync } from 'node:child_process';

/** True when `name` is on PATH (POSIX `command -v`). */
export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface ToolResult {
  /** Exit status; null when the tool could not start or was killed by a signal. */
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the tool's stdin. */
  input?: string | Uint8Array;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a tool and reports its exit status and output; never throws for a failing tool. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, cwd: opts.cwd, env: opts.env });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

/** Runs a tool that must succeed and returns its stdout; otherwise throws with its stdout and stderr. */
export function mustRun(cmd: string, args: string[], opts: RunOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export interface LoopOptions {
  /** Attach read-only (losetup -r); default true. */
  readOnly?: boolean;
  /** Logical sector size of the loop device (losetup --sector-size). */
  sectorSize?: number;
  /** Byte offset of the window in the image (losetup -o). */
  offset?: number;
  /** Size in bytes of the window (losetup --sizelimit). */
  size?: number;
}

function detach(dev: string, pending?: unknown): void {
  const r = run('losetup', ['-d', dev]);
  if (r.status === 0) return;
  const msg = `losetup -d ${dev} exited ${r.status}: ${r.stderr.trim()}`;
  throw new Error(pending === undefined ? msg : `${msg} (after: ${pending instanceof Error ? pending.message : String(pending)})`);
}

/**
 * Attaches `image` as a loop device, runs `fn` with its path, and detaches it afterwards, also
 * when `fn` throws or its promise rejects. A failing detach is an error.
 */
export function withLoop<T>(image: string, opts: LoopOptions, fn: (dev: string) => T): T {
  const args = ['--show', '-f', image];
  if (opts.size !== undefined) args.unshift('--sizelimit', String(opts.size));
  if (opts.offset !== undefined) args.unshift('-o', String(opts.offset));
  if (opts.sectorSize !== undefined) args.unshift('--sector-size', String(opts.sectorSize));
  if (opts.readOnly ?? true) args.unshift('-r');
  const dev = mustRun('losetup', args).trim();
  let result: T;
  try {
    result = fn(dev);
  } catch (e) {
    detach(dev, e);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        detach(dev);
        return v;
      },
      (e) => {
        detach(dev, e);
        throw e;
      },
    ) as T;
  }
  detach(dev);
  return result;
}
