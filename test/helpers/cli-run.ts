// Test helper: runs disk-image-create as a child process (node --import tsx, one process, so
// signals reach our handlers directly) and watches its output for a marker line.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TEST_FLAVOURS = path.join(REPO, 'fixtures/flavours');
const CLI = path.join(REPO, 'src/cli/disk-image-create.ts');
/** tsx's loader by absolute URL, so a TypeScript entry point runs from any working directory. */
export const TSX = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

export interface CliRun {
  code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; signalled: boolean;
  /** Without `opts.cwd`: the names the command left in the fresh working folder it ran in (removed after). */
  leftInCwd: string[];
}

/**
 * Runs the CLI (disk-image-create, or `opts.command`; from the TypeScript sources, or with
 * `installed` as installed); when `signalOn.marker` shows up in its output, sends
 * `signalOn.signal` once. `asUser`: a prefix that execs the rest as another user
 * (setpriv), so signals still reach the CLI. Without `opts.cwd` it runs in a fresh temporary
 * folder, never the checkout, so a command that writes into its working folder by mistake
 * (an image without -o) cannot touch the user's files; what it left there is returned.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; signalOn?: { marker: string | RegExp; signal: NodeJS.Signals; before?: () => void }; timeoutMs?: number; command?: 'ramdisk-image-create'; asUser?: string[]; installed?: boolean } = {}): Promise<CliRun> {
  const cli = opts.command ? path.join(REPO, `src/cli/${opts.command}.ts`) : CLI;
  return new Promise((resolve) => {
    // installed: the command as npm installs it (bin/ over the bundles in dist/bundle/, which
    // runs the image writer on a thread), not the TypeScript sources.
    const run = opts.installed ? [path.join(REPO, 'bin', `${opts.command ?? 'disk-image-create'}.js`)] : ['--import', TSX, cli];
    const argv = [...(opts.asUser ?? []), process.execPath, ...run, ...args];
    const cwd = opts.cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cwd-'));
    if (!opts.cwd && opts.asUser) fs.chmodSync(cwd, 0o755); // the other user may enter it, not write it
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd, env: { ...env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const check = (): void => {
      const m = opts.signalOn;
      if (!m || signalled) return;
      const all = stdout + stderr;
      if (typeof m.marker === 'string' ? all.includes(m.marker) : m.marker.test(all)) {
        signalled = true;
        m.before?.();
        child.kill(m.signal);
      }
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; check(); });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; check(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let leftInCwd: string[] = [];
      if (!opts.cwd) {
        leftInCwd = fs.readdirSync(cwd);
        fs.rmSync(cwd, { recursive: true, force: true });
      }
      resolve({ code, signal, stdout, stderr, signalled, leftInCwd });
    });
  });
}

/** Mount points at or below `dir` (from findmnt, the reference tool). */
export function mountsBelow(dir: string): string[] {
  const out = execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' });
  return out.split('\n').filter((t) => t === dir || t.startsWith(dir + '/'));
}

/** PIDs of processes whose root directory lies below `dir`. */
export function processesRootedBelow(dir: string): number[] {
  const pids: number[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const r = fs.readlinkSync(`/proc/${n}/root`);
      if (r.startsWith(dir + '/')) pids.push(Number(n));
    } catch { /* gone */ }
  }
  return pids;
}
