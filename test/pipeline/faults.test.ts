// Fault injection (root): the build is cut short by a failing hook, SIGINT inside a chroot hook,
// SIGTERM in an outside hook and SIGTERM during assembly. Afterwards findmnt shows nothing
// mounted under the build folder, the build folder is gone, no process runs inside it, no
// output exists, and a previous image of the same name is byte-for-byte untouched (and not
// renamed: DIB's rule renames it only at the end of a successful build).
// Uses the busybox-os test flavour (host busybox-static) instead of Debian, to be fast.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsBelow, processesRootedBelow, runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (chroot and bind mounts)';
  for (const t of ['busybox', 'findmnt', 'chroot', 'mount']) {
    if (!hasTool(t)) return `${t} is not installed`;
  }
  try {
    if (!execFileSync('file', ['-L', execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim()], { encoding: 'utf8' }).includes('statically linked')) {
      return 'busybox is not statically linked (apt-get install busybox-static)';
    }
  } catch { return 'cannot inspect busybox (file missing)'; }
  return undefined;
}
const skip = missing();

let work: string;
let tmpdir: string;
let baseEnv: NodeJS.ProcessEnv;
const OLD = Buffer.from('previous image, must survive\n'.repeat(100));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-faults-'));
  tmpdir = path.join(work, 'tmp');
  fs.mkdirSync(tmpdir);
  baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root', TMPDIR: tmpdir, FLAVOURS_PATH: TEST_FLAVOURS };
});
afterAll(() => {
  if (!work) return;
  if (mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
});

/** Everything that must hold after a build that did not succeed. */
function expectNoLeftovers(imageBase: string): void {
  expect(mountsBelow(tmpdir)).toEqual([]);
  expect(fs.readdirSync(tmpdir).filter((n) => n.startsWith('dib_build.'))).toEqual([]);
  expect(processesRootedBelow(tmpdir)).toEqual([]);
  expect(sha(fs.readFileSync(`${imageBase}.raw`))).toBe(sha(OLD));
  // Nothing added next to it: no temporary, no checksum, no old image renamed NAME-DATE.raw.
  expect(fs.readdirSync(path.dirname(imageBase)).filter((n) => n.startsWith(`${path.basename(imageBase)}.raw.`)
    || n.startsWith(`.${path.basename(imageBase)}.raw`) || n.startsWith(`${path.basename(imageBase)}-`))).toEqual([]);
}

describe.skipIf(skip !== undefined)(`pipeline faults${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('a failing install.d hook: HookError, exit 1, nothing left behind', async () => {
    const img = path.join(work, 'fail');
    fs.writeFileSync(`${img}.raw`, OLD);
    const r = await runCli(['-t', 'raw', '-o', img, 'busybox-os', 'test-markers'], { ...baseEnv, DIB_TEST_FAIL_IN: 'install.d' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: hook install.d/50-test-markers of flavour 'test-markers' failed with exit code 3");
    expect(r.stdout).toContain('DIB-TS-INSTALL-MARKER');
    expect(r.stdout).not.toContain('base: installed'); // post-install.d never ran
    expectNoLeftovers(img);
  });

  it('SIGINT while an install.d hook runs in the chroot (with a background process inside)', async () => {
    const img = path.join(work, 'sigint');
    fs.writeFileSync(`${img}.raw`, OLD);
    const r = await runCli(['-t', 'raw', '-o', img, 'busybox-os', 'test-markers'], { ...baseEnv, DIB_TEST_SLEEP_IN: 'install.d' },
      { signalOn: { marker: 'DIB-TS-SLEEPING in install.d', signal: 'SIGINT' } });
    expect(r.signalled).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('received SIGINT');
    expectNoLeftovers(img);
  });

  it('SIGTERM while a post-root.d hook runs outside', async () => {
    const img = path.join(work, 'sigterm');
    fs.writeFileSync(`${img}.raw`, OLD);
    const r = await runCli(['-t', 'raw', '-o', img, 'busybox-os', 'test-markers'], { ...baseEnv, DIB_TEST_SLEEP_IN: 'post-root.d' },
      { signalOn: { marker: 'DIB-TS-SLEEPING in post-root.d', signal: 'SIGTERM' } });
    expect(r.signalled).toBe(true);
    expect(r.code).toBe(143);
    expectNoLeftovers(img);
  });

  it('a failing cleanup.d hook (after the chroot phases) leaves nothing either', async () => {
    const img = path.join(work, 'cleanupfail');
    fs.writeFileSync(`${img}.raw`, OLD);
    const r = await runCli(['-t', 'raw', '-o', img, 'busybox-os', 'test-markers'], { ...baseEnv, DIB_TEST_FAIL_IN: 'cleanup.d' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cleanup.d/50-test-markers');
    expectNoLeftovers(img);
  });

  it('SIGTERM during assembly: no output, old image intact', async () => {
    const img = path.join(work, 'assembly');
    let atSignal: string[] = [];
    fs.writeFileSync(`${img}.raw`, OLD);
    const r = await runCli(['-t', 'raw', '-o', img, 'busybox-os', 'test-markers'], { ...baseEnv, DIB_TEST_BIG_MB: '300' },
      { signalOn: { marker: 'assembling: ext4', signal: 'SIGTERM', before: () => { atSignal = fs.readdirSync(work).filter((n) => n.startsWith('.assembly.raw.')); } } });
    expect(r.signalled).toBe(true);
    expect(atSignal.length, 'the half-written image existed when the signal was sent').toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).not.toContain(' wrote ');
    expectNoLeftovers(img);
  }, 120_000);

  it('the chroot as hooks see it, and the tree afterwards (--keep-build-dir)', async () => {
    const img = path.join(work, 'ok');
    const r = await runCli(['-t', 'raw', '-o', img, '--keep-build-dir', 'busybox-os', 'test-markers'], { ...baseEnv, OVERWRITE_OLD_IMAGE: '' });
    const m = /build folder (\S+);/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const build = m![1]!;
    try {
      expect(mountsBelow(tmpdir)).toEqual([]);
      const root = path.join(build, 'mnt');
      const read = (p: string): string => fs.readFileSync(path.join(root, p), 'utf8');
      expect(read('etc/dib-ts-install-marker')).toBe('install-marker-0\n');
      expect(read('etc/dib-ts-hooks-seen')).toBe('50-test-markers\n');
      expect(read('etc/dib-ts-hooks-rw')).toBe('read-only\n');
      expect(read('etc/dib-ts-policy-seen')).toContain('exit 101');
      expect(fs.existsSync(path.join(root, 'usr/sbin/policy-rc.d'))).toBe(false);
      expect(read('etc/dib-ts-resolv-seen')).toBe(fs.readFileSync('/etc/resolv.conf', 'utf8'));
      expect(read('etc/resolv.conf')).toBe('# image resolv.conf\n');
      expect(fs.existsSync(path.join(root, 'etc/resolv.conf.ORIG'))).toBe(false);
      expect(fs.existsSync(path.join(root, 'tmp/in_target.d'))).toBe(false);
      expect(read('etc/dib-ts-post-root')).toBe(`post-root saw TARGET_ROOT=${root}\n`);
      // first-boot.d installed by base
      expect(read('usr/local/lib/dib-first-boot.d/50-marker')).toContain('DIB-TS-FIRST-BOOT-MARKER');
      expect(fs.readlinkSync(path.join(root, 'etc/systemd/system/multi-user.target.wants/dib-first-boot.service'))).toBe('/etc/systemd/system/dib-first-boot.service');
      expect(read('etc/systemd/system/dib-first-boot.service')).toMatch(/Before=rc-local\.service[\s\S]*ConditionPathExists|ConditionPathExists[\s\S]*Before=rc-local\.service/);
      expect(fs.existsSync(path.join(root, 'var/lib/dib-first-boot/pending'))).toBe(true);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/install\.d\/50-test-markers\s+test-markers\s+\d+\.\d{3}/);
      expect(fs.existsSync(`${img}.raw`)).toBe(true);
      execFileSync('e2fsck', ['-fn', `${img}.raw`], { stdio: 'pipe' });
    } finally {
      if (mountsBelow(build).length === 0) fs.rmSync(build, { recursive: true, force: true });
    }
  });
});
