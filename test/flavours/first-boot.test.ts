// base's first-boot runner: every script runs in dib-run-parts order, each one's real exit
// status is logged (a failing script is not logged as exit 0), and the stamp goes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';
import { run } from '../helpers/tools.js';

const RUNNER = path.join(REPO, 'flavours/base/first-boot-runner/dib-first-boot');
let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'first-boot-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function runner(scripts: Record<string, string>, shell: string[]) {
  const dir = fs.mkdtempSync(path.join(work, 'd-'));
  for (const [name, body] of Object.entries(scripts)) fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  const stamp = path.join(dir, '..', `${path.basename(dir)}.stamp`);
  fs.writeFileSync(stamp, '');
  const r = run(shell[0]!, [...shell.slice(1), RUNNER], { env: { PATH: process.env.PATH, DIB_FIRST_BOOT_DIR: dir, DIB_FIRST_BOOT_STAMP: stamp } });
  return { ...r, stampLeft: fs.existsSync(stamp) };
}

describe('dib-first-boot', () => {
  for (const shell of [['dash'], ['bash'], ['busybox', 'sh']]) {
    it(`logs each script's real exit status and runs them all in sort -n order (${shell.join(' ')})`, () => {
      const r = runner({ '10-fails': 'echo ten; exit 3', '9-ok': 'echo nine', '20-ok': 'echo twenty', 'not.run': 'echo bad' }, shell);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('dib-first-boot: running 9-ok\nnine\ndib-first-boot: 9-ok finished (exit 0)\n'
        + 'dib-first-boot: running 10-fails\nten\n'
        + 'dib-first-boot: running 20-ok\ntwenty\ndib-first-boot: 20-ok finished (exit 0)\n');
      expect(r.stderr).toBe('dib-first-boot: 10-fails failed (exit 3)\n');
      expect(r.stampLeft).toBe(false);
    });
  }

  it('exits 0 when every script succeeds, and when there are none', () => {
    expect(runner({ '1-a': 'true' }, ['dash']).status).toBe(0);
    expect(runner({}, ['dash'])).toMatchObject({ status: 0, stdout: '', stampLeft: false });
  });
});
