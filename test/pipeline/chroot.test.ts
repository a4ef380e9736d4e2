// The chroot module on its own (root): mounts as findmnt sees them, a symlinked resolv.conf
// swapped without touching the host, and a busy mount released lazily.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chroot } from '../../src/pipeline/chroot.js';
import { CleanupStack } from '../../src/pipeline/cleanup.js';
import { mountsBelow, TEST_FLAVOURS } from '../helpers/cli-run.js';

const skip = process.getuid?.() !== 0 ? 'needs root (mount)' : undefined;
let work: string;
let root: string;
let hooks: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'chroot-'));
  root = path.join(work, 'mnt');
  hooks = path.join(work, 'hooks');
  fs.mkdirSync(root);
  fs.mkdirSync(hooks);
  if (!skip) execFileSync(path.join(TEST_FLAVOURS, 'busybox-os/root.d/10-busybox-root'), { env: { ...process.env, TARGET_ROOT: root } });
});
afterEach(() => { if (mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true }); });

describe.skipIf(skip !== undefined)('chroot', () => {
  it('mounts proc, sys (ro), dev, dev/pts and the hooks (ro); leave() releases all of them', () => {
    const lines: string[] = [];
    const stack = new CleanupStack((l) => lines.push(l));
    fs.rmSync(path.join(root, 'etc/resolv.conf'));
    fs.symlinkSync('/run/systemd/resolve/stub-resolv.conf', path.join(root, 'etc/resolv.conf'));
    const c = new Chroot(root, stack, (l) => lines.push(l));
    c.enter(hooks);
    try {
      const opts = new Map(execFileSync('findmnt', ['-rn', '-o', 'TARGET,OPTIONS'], { encoding: 'utf8' }).trim().split('\n')
        .map((l) => l.split(' ') as [string, string]).filter(([t]) => t.startsWith(root + '/')));
      expect([...opts.keys()].sort()).toEqual(['dev', 'dev/pts', 'proc', 'sys', 'tmp/in_target.d'].map((p) => path.join(root, p)));
      expect(opts.get(path.join(root, 'sys'))!.split(',')[0]).toBe('ro');
      expect(opts.get(path.join(root, 'tmp/in_target.d'))!.split(',')[0]).toBe('ro');
      expect(fs.lstatSync(path.join(root, 'etc/resolv.conf')).isSymbolicLink()).toBe(false);
      expect(fs.readFileSync(path.join(root, 'etc/resolv.conf'), 'utf8')).toBe(fs.readFileSync('/etc/resolv.conf', 'utf8'));
      expect(fs.readFileSync(path.join(root, 'usr/sbin/policy-rc.d'), 'utf8')).toContain('exit 101');
    } finally {
      c.leave();
    }
    expect(mountsBelow(root)).toEqual([]);
    expect(fs.readlinkSync(path.join(root, 'etc/resolv.conf'))).toBe('/run/systemd/resolve/stub-resolv.conf');
    expect(fs.existsSync(path.join(root, 'usr/sbin/policy-rc.d'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'tmp/in_target.d'))).toBe(false);
    stack.run(); // nothing left to undo
  });

  it('a mount kept busy by a host process outside the chroot is detached lazily', async () => {
    const lines: string[] = [];
    const stack = new CleanupStack((l) => lines.push(l));
    const c = new Chroot(root, stack, (l) => lines.push(l));
    c.enter(hooks);
    // A host process (its root is /, so it is not ended) with its working directory in proc.
    const holder = spawn('sleep', ['30'], { cwd: path.join(root, 'proc'), stdio: 'ignore' });
    try {
      // wait until the holder really has its working directory there, rather than a fixed time
      const inProc = path.join(root, 'proc');
      const cwdOf = (): string => { try { return fs.readlinkSync(`/proc/${holder.pid}/cwd`); } catch { return ''; } };
      while (cwdOf() !== inProc) await new Promise((r) => setTimeout(r, 20));
      c.leave();
      expect(mountsBelow(root)).toEqual([]);
      expect(lines.some((l) => l.includes('stays busy: detaching it lazily (umount -l)'))).toBe(true);
    } finally {
      holder.kill('SIGKILL');
      stack.run();
    }
  });
});
