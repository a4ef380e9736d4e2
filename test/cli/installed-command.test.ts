// disk-image-create as npm installs it: bin/disk-image-create.js over the bundles in
// dist/bundle/ (built by npm ci), which starts the image writer on a thread before the command
// loads (src/cli/writer-prestart.ts) - where the TypeScript sources under tsx, as the other CLI
// tests run them, use the writer's child process. The same image either way; SIGINT during
// assembly ends the thread and leaves nothing; SIGKILL of the build leaves nothing either (the
// watchdog removes the private files); a build that fails before assembly ends its idle
// writer thread and exits.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';

const bundled = fs.existsSync(path.join(REPO, 'dist/bundle/assemble/writer-thread.js'));

let work: string;
let env: NodeJS.ProcessEnv;
let src: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-installed-'));
  env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS, SOURCE_DATE_EPOCH: '1700000000' };
  src = path.join(work, 'root');
  fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(src, 'etc/hostname'), 'installed\n');
  fs.symlinkSync('hostname', path.join(src, 'etc/link'));
  for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(src, `noise${i}`), randomBytes(16 << 20));
});
afterAll(() => { fs.rmSync(work, { recursive: true, force: true }); });

const sha256 = (f: string): string => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const leftovers = (name: string): string[] => fs.readdirSync(work).filter((n) => n.includes(name));

describe.skipIf(!bundled)('the installed disk-image-create (npm ci builds dist/bundle)', () => {
  it('writes the same image with its writer thread as the child process and the TypeScript sources do', async () => {
    const thread = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'thread')], env, { installed: true });
    expect(thread.code, thread.stderr).toBe(0);
    const child = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'child')], { ...env, DIB_TS_WRITER: 'process' }, { installed: true });
    expect(child.code, child.stderr).toBe(0);
    const sources = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'sources')], env);
    expect(sources.code, sources.stderr).toBe(0);
    const sum = sha256(path.join(work, 'thread.raw'));
    expect(sha256(path.join(work, 'child.raw'))).toBe(sum);
    expect(sha256(path.join(work, 'sources.raw'))).toBe(sum);
    expect(execFileSync('e2fsck', ['-fn', path.join(work, 'thread.raw')], { encoding: 'utf8' })).toMatch(/cloudimg-rootfs: \d+\/\d+ files/); // exit 0: clean
    for (const n of ['thread', 'child', 'sources']) fs.rmSync(path.join(work, `${n}.raw`));
  }, 120_000);

  it('SIGINT while the image is written: exit 130, the thread stopped, nothing left', async () => {
    const r = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'interrupted')], env, {
      installed: true, timeoutMs: 60_000, signalOn: { marker: 'assembling: ext4', signal: 'SIGINT' },
    });
    expect(r.signalled).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('received SIGINT');
    expect(leftovers('interrupted')).toEqual([]);
    expect(fs.readdirSync(work).filter((n) => n.startsWith('dib_build.'))).toEqual([]);
  }, 90_000);

  it('SIGKILL of the build while the image is written: the watchdog removes the private files and ends', async () => {
    const r = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'killed')], env, {
      installed: true, timeoutMs: 60_000, signalOn: { marker: 'assembling: ext4', signal: 'SIGKILL' },
    });
    expect(r.signalled).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    // wait for the orphaned writer to remove them (the test's timeout is the only bound)
    while (leftovers('killed.raw').length > 0) await new Promise((res) => setTimeout(res, 100));
    expect(leftovers('killed.raw')).toEqual([]);
    const watchdogs = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('dib-ts-watchdog') && l.includes(work));
    expect(watchdogs).toEqual([]);
  }, 90_000);

  it('a build that fails before assembly ends its idle writer thread and exits', async () => {
    const r = await runCli(['-t', 'raw', '-n', '-o', path.join(work, 'failed'), '--root-dir', path.join(work, 'no-such-root')], env, { installed: true, timeoutMs: 30_000 });
    expect(r.signalled).toBe(false);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/--root-dir: .*no-such-root does not exist/);
    expect(leftovers('failed')).toEqual([]);
  }, 60_000);
});
