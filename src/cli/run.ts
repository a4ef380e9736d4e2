/**
 * The one place that turns a command's result into an exit code and prints errors.
 * Known errors (DiskImageError) print as "NAME: error: MESSAGE" plus a hint line and exit 1
 * (2 for usage errors); InternalError and anything else is a bug and is printed with its
 * stack, exit 70.
 */
import { spawn } from 'node:child_process';
import { DiskImageError } from '../errors.js';

export function formatError(command: string, err: unknown): { text: string; exitCode: number } {
  if (err instanceof DiskImageError && err.code !== 'INTERNAL') {
    let text = `${command}: error: ${err.message}\n`;
    if (err.hint) text += `${command}: hint: ${err.hint}\n`;
    return { text, exitCode: err.code === 'USAGE' ? 2 : 1 };
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { text: `${command}: internal error (this is a bug, please report it):\n${stack}\n`, exitCode: 70 };
}

/** Runs a command's main function and exits with its code. */
export function runMain(command: string, main: (argv: string[]) => Promise<number | void>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      const { text, exitCode } = formatError(command, err);
      process.stderr.write(text);
      process.exitCode = exitCode;
    },
  );
}

/** How long exitSurely lets the orderly exit take before the process is killed. */
const EXIT_GRACE_S = 5;

/**
 * Exits with `code` once cleanup has run (after a signal). Node's exit joins every worker and
 * pool thread, so a thread blocked in a system call (a read of a device that never answers)
 * would keep the process alive: a watchdog holding a pipe to this process kills it
 * EXIT_GRACE_S seconds later should it still be there; it ends by itself when the pipe closes.
 */
export function exitSurely(code: number): never {
  const script = `timeout ${EXIT_GRACE_S} cat >/dev/null; [ $? = 124 ] && kill -KILL "$1"`;
  try {
    const dog = spawn('sh', ['-c', script, 'dib-ts-exit-watchdog', String(process.pid)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    dog.on('error', () => {});
    dog.unref();
  } catch {
    /* no sh: the orderly exit alone */
  }
  process.exit(code);
}
