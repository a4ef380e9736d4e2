// Test helper for the hostile-input tests (test/cli/hostile-*.test.ts): runs a command as it
// is installed (bin/ over the bundles in dist/) and checks that a refusal is a clear error:
// the expected exit code, the expected words, and neither "internal error" nor a stack trace.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect } from 'vitest';
import { REPO } from './cli-run.js';

export interface Ran { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `bin/COMMAND.js ARGS`; a generous timeout is the only bound (a hang fails the test). */
export function runBin(command: string, args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Ran {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', `${command}.js`), ...args], {
    cwd: o.cwd ?? os.tmpdir(), env: { PATH: process.env.PATH, HOME: os.tmpdir(), ...o.env, NODE_OPTIONS: '' },
    encoding: 'utf8', timeout: o.timeoutMs ?? 60_000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** The run ended with `code` and a message matching `words`, without an internal error or a stack. */
export function expectClearError(r: Ran, code: number, words: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.stderr).not.toMatch(/internal error|\n\s+at .+:\d+:\d+\)?\n/);
  expect(r.stderr).toMatch(words);
  expect(r.code, r.stderr).toBe(code);
}

/** A fresh folder for one test file, and what is left in it of a build (dib_build.* folders). */
export function workFolder(prefix: string): { dir: string; buildFolders(): string[]; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    buildFolders: () => fs.readdirSync(dir).filter((n) => n.startsWith('dib_build.')),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
