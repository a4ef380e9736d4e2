// SIGTERM while disk-image-create copies or unpacks the given root tree (before any hook): the
// copy runs as a tracked child, so the build reacts at once, kills it and removes the build
// folder. How soon is bounded by the code (CleanupStack sends SIGTERM to tracked children, then
// SIGKILL after 3 s) and observed here as outcomes: the build exits 143 on its own (runCli's
// watchdog would SIGKILL it instead), tar is gone, nothing is left. A FIFO as --root-tar makes tar wait forever, like a huge tree being read. And SIGKILL
// of the build during assembly: the orphaned writer process deletes its half-written image.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';

let work: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-sig-'));
  env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS };
});
afterAll(() => { fs.rmSync(work, { recursive: true, force: true }); });

describe('disk-image-create signals while the root tree is copied', () => {
  it('SIGTERM during --root-tar unpacking: the build exits 143 itself, tar gone, no build folder, no output', async () => {
    const fifo = path.join(work, 'never.tar');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli(['-t', 'raw', '-o', path.join(work, 'img'), '--root-tar', fifo, 'test-markers'], env, {
      timeoutMs: 30_000,
      signalOn: { marker: 'unpacking --root-tar', signal: 'SIGTERM' },
    });
    expect(r.signalled).toBe(true);
    expect([r.code, r.signal], r.stderr).toEqual([143, null]);
    expect(r.stderr).toContain('received SIGTERM');
    expect(fs.readdirSync(work).filter((n) => n.startsWith('dib_build.') || n.includes('img'))).toEqual([]);
    const tars = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(fifo));
    expect(tars).toEqual([]);
  }, 40_000);
});

describe('disk-image-create killed (SIGKILL) while the image is written', () => {
  it('the orphaned writer removes its hidden .NAME.raw.dib-ts-PID files and exits', async () => {
    const src = path.join(work, 'bigroot');
    fs.mkdirSync(src);
    for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(src, `noise${i}`), randomBytes(16 << 20));
    const r = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'killed')], env, {
      timeoutMs: 60_000, signalOn: { marker: 'assembling: ext4', signal: 'SIGKILL' },
    });
    expect(r.signalled).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    const leftovers = (): string[] => fs.readdirSync(work).filter((n) => n.includes('killed.raw'));
    // The orphan removes them when it notices its parent is gone: wait for that event; the
    // test's timeout is the harness's bound, not an assertion about speed.
    while (leftovers().length > 0) await new Promise((res) => setTimeout(res, 100));
    expect(leftovers()).toEqual([]);
  }, 90_000);
});
