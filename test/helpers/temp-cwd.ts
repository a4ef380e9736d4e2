/**
 * vitest setupFiles: each test file runs with a fresh temporary folder as its working folder
 * (the forks pool gives each its own process), so a command a test starts without a `cwd`, or
 * a relative path in a test, never reaches the checkout. A test file that leaves anything in
 * that folder fails, with the names: nothing is meant to be written there.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'test-cwd-'));
process.chdir(cwd);

afterAll(() => {
  const left = fs.readdirSync(cwd);
  process.chdir(os.tmpdir());
  fs.rmSync(cwd, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(`this test file left ${left.join(', ')} in its working folder ${cwd}: give its commands and paths a folder of their own`);
  }
});
