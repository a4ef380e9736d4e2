/**
 * What `disk-image-create` shows while it works: on a terminal, one status line redrawn in
 * place (phase, hook, bytes written by the assembler) above the scrolling log; otherwise
 * plain timestamped log lines. `--logfile` gets every line with a timestamp as well.
 */
import * as fs from 'node:fs';
import { ConfigError, DiskImageError } from '../errors.js';

/**
 * Opens the log for appending. A FIFO is first opened without blocking, so that one nobody
 * reads is refused (ENXIO) instead of waiting for a reader forever.
 */
function openLog(file: string): number {
  if (fs.statSync(file, { throwIfNoEntry: false })?.isFIFO()) {
    try {
      fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENXIO') {
        throw new ConfigError('--logfile', `${file} is a FIFO that nobody reads`, 'start its reader first, or name a regular file');
      }
      throw e;
    }
  }
  return fs.openSync(file, 'a');
}

export class Progress {
  private status = '';
  /** False while a hook's output has an unfinished line; the status line waits for it. */
  private atLineStart = true;
  private readonly tty: boolean;
  private logFd: number | null;
  /** Why writing the log file failed, once it has; the log then goes on to the terminal only. */
  logFailure: DiskImageError | undefined;
  /** Called once when a write to the log file fails (the command ends the build). */
  onLogFailure: ((e: DiskImageError) => void) | undefined;

  constructor(private readonly command: string, private readonly logfile?: string, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = !!stream.isTTY && process.env.TERM !== 'dumb';
    try {
      this.logFd = logfile ? openLog(logfile) : null;
    } catch (e) {
      if (e instanceof DiskImageError) throw e;
      throw new ConfigError('--logfile', `cannot open ${logfile} to append the log (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'name a writable file');
    }
  }

  private clearStatus(): void {
    if (this.tty && this.status && this.atLineStart) this.stream.write('\r\x1b[K');
  }

  private drawStatus(): void {
    if (this.tty && this.status && this.atLineStart) this.stream.write(this.status.slice(0, Math.max(20, (this.stream.columns || 80) - 1)));
  }

  private toFile(text: string): void {
    if (this.logFd === null) return;
    const ts = new Date().toISOString();
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    try {
      fs.writeSync(this.logFd, body.split('\n').map((l) => `${ts} ${l}`).join('\n') + '\n');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      fs.closeSync(this.logFd);
      this.logFd = null;
      this.logFailure = new DiskImageError(code === 'ENOSPC' ? 'NO_SPACE' : 'IO', `--logfile ${this.logfile}: writing the log failed (${code})`,
        'free space where the log is written, or name another --logfile');
      this.onLogFailure?.(this.logFailure);
    }
  }

  /** A line from the build itself. */
  log = (line: string): void => {
    this.clearStatus();
    this.stream.write(`${this.tty ? '' : new Date().toISOString() + ' '}${this.command}: ${line}\n`);
    this.drawStatus();
    this.toFile(line);
  };

  /** Output of a hook, passed through as it comes (stdout to stdout, stderr to stderr). */
  output = (chunk: string, which: 'stdout' | 'stderr'): void => {
    this.clearStatus();
    (which === 'stdout' ? process.stdout : process.stderr).write(chunk);
    if (chunk.length > 0) this.atLineStart = chunk.endsWith('\n');
    this.drawStatus();
    this.toFile(chunk);
  };

  progress = (ev: { stage: string; detail: string; done?: number; total?: number }): void => {
    let s = `[${ev.stage}] ${ev.detail}`;
    if (ev.total) {
      const mib = (n: number): string => (n / 2 ** 20).toFixed(0);
      s += ev.total > 1 ? ` ${mib(ev.done ?? 0)}/${mib(ev.total)} MiB` : '';
    }
    if (!this.tty) {
      // Without a terminal, only phase/hook changes are worth a line (hooks already log theirs).
      if (ev.stage === 'assemble' && ev.done === 0) this.log(`assembling: ${ev.detail}`);
      return;
    }
    this.clearStatus();
    this.status = s;
    this.drawStatus();
  };

  close(): void {
    this.clearStatus();
    this.status = '';
    if (this.logFd !== null) fs.closeSync(this.logFd);
    this.logFd = null;
  }
}
