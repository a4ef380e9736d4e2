/**
 * The one place that turns a command's result into an exit code and prints errors.
 * Known errors (DiskImageError) print as "NAME: error: MESSAGE" plus a hint line and exit 1
 * (2 for usage errors); InternalError and anything else is a bug and is printed with its
 * stack, exit 70.
 */
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
