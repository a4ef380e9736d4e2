// With CI set, a test skipped for a missing tool fails the run (test/helpers/ci-skip-reporter.ts);
// without CI the same run passes and lists the skip.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLOWED_SKIPS, skipAllowed } from './allowed-skips.js';
import { REPO } from './cli-run.js';

let bin: string;
beforeAll(() => {
  // A PATH with node and sh only: mke2fs (and every other tool) is missing.
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-skip-'));
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
});
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

function runProbe(ci: boolean): { status: number | null; out: string } {
  // The probe's cache goes to a temporary folder, and it runs there: nothing lands in the checkout.
  const env: NodeJS.ProcessEnv = { PATH: bin, HOME: process.env.HOME, CI_SKIP_PROBE_CACHE: path.join(bin, 'vite-cache') };
  if (ci) env.CI = 'true';
  const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules/vitest/vitest.mjs'), 'run',
    '--root', path.join(REPO, 'fixtures/ci-skip'), '--config', path.join(REPO, 'fixtures/ci-skip/vitest.config.ts')],
  { cwd: bin, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('a skip for a missing tool', () => {
  it('passes outside CI, and lists the skip', () => {
    const r = runProbe(false);
    expect(r.out).toContain('1 test(s) skipped');
    expect(r.out).toContain('needs mke2fs');
    expect(r.status, r.out).toBe(0);
  });

  it('fails the run when CI is set', () => {
    const r = runProbe(true);
    expect(r.out).toContain('on CI every skip is a failure');
    expect(r.out).toContain('needs mke2fs');
    expect(r.status, r.out).toBe(1);
  });
});

describe('the allow-list', () => {
  it('allows each listed skip for its one reason only', () => {
    expect(ALLOWED_SKIPS.length).toBeGreaterThan(0);
    for (const a of ALLOWED_SKIPS) {
      expect(skipAllowed(`${a.describe} (skipped: ${a.reason}) > some test`)).toBe(true);
      expect(skipAllowed(`${a.describe} (skipped: needs root) > some test`)).toBe(false);
      expect(skipAllowed(`${a.describe} > some test`)).toBe(false);
    }
  });
});
