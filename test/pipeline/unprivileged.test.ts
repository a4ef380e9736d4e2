// Unprivileged builds end to end, fast (busybox-os instead of Debian): an ordinary test user
// (made here, with subordinate ids, and removed afterwards) builds busybox-os + owners-test.
// The image's owners, modes, device numbers, capability and xattr, read with our ext4 reader,
// are what the hooks made (the capability compared with what the host's setcap writes); e2fsck
// accepts it. Without subordinate ids the build refuses at once, exit 1, and leaves nothing.
// SIGINT while install.d runs leaves no process of the user or its subordinate ids, no build
// folder, and the old image untouched; so does SIGKILL of the build process (its namespace
// cleans up after it).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { openExt4 } from '../../src/fs/ext4/reader.js';
import { mountsBelow, runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { asUser, makeTestUser, removeTestUser, setSubIds, type TestUser } from '../helpers/test-user.js';
import { hasTool } from '../helpers/tools.js';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create the test user and its subordinate ids';
  for (const t of ['busybox', 'setpriv', 'useradd', 'unshare', 'nsenter', 'newuidmap', 'newgidmap', 'setcap', 'setfattr', 'getfattr', 'e2fsck']) {
    if (!hasTool(t)) return `${t} is not installed (run scripts/setup-host.sh)`;
  }
  return undefined;
}
const skip = missing();

let work: string;
let tmpdir: string;
let user: TestUser;
let env: NodeJS.ProcessEnv;
const OLD = Buffer.from('previous image, must survive\n'.repeat(100));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  if (skip) return;
  user = makeTestUser();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-unpriv-'));
  fs.chmodSync(work, 0o755);
  tmpdir = path.join(work, 'tmp');
  fs.mkdirSync(tmpdir);
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, work]);
  env = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: work, TMPDIR: tmpdir, FLAVOURS_PATH: TEST_FLAVOURS };
});
afterAll(() => {
  if (skip) return;
  if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
  removeTestUser();
});

/** Processes of the user or of its subordinate ids (real uid, from /proc/PID/status), with their command lines. */
function processesOf(u: TestUser): string[] {
  const out: string[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const status = fs.readFileSync(`/proc/${n}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) continue; // exited, waiting for init to reap it: holds nothing
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
      if (uid === u.uid || (uid >= u.subStart && uid < u.subStart + 65536)) out.push(`${n} uid ${uid}: ${fs.readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch { /* gone */ }
  }
  return out;
}

function expectNothingLeft(imageBase: string): void {
  expect(fs.readdirSync(tmpdir).filter((n) => n.startsWith('dib_build.'))).toEqual([]);
  expect(processesOf(user)).toEqual([]);
  expect(sha(fs.readFileSync(`${imageBase}.raw`))).toBe(sha(OLD));
  expect(fs.readdirSync(work).filter((n) => n.startsWith(`.${path.basename(imageBase)}.raw`) || n.startsWith(`${path.basename(imageBase)}-`))).toEqual([]);
}

describe.skipIf(skip !== undefined)(`unprivileged build as an ordinary user${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('keeps every owner, mode, device, capability and xattr the hooks made', async () => {
    const img = path.join(work, 'owners');
    const r = await runCli(['-o', img, '-t', 'raw', 'busybox-os', 'owners-test'], env, { asUser: asUser(user), cwd: work });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toContain(`maps 0 to ${user.name} and 1..65536 to subordinate uids from ${user.subStart}`);
    expect(r.stdout).toContain('DIB-TS-OWNERS-DONE uid=0');
    expect(fs.statSync(`${img}.raw`).uid).toBe(user.uid);
    const fsck = execFileSync('e2fsck', ['-fn', `${img}.raw`], { encoding: 'utf8' });
    expect(fsck).toContain('cloudimg-rootfs');

    // What the host's setcap writes for the same capability, as root of the initial namespace.
    const ref = path.join(work, 'cap-ref');
    fs.writeFileSync(ref, 'x');
    execFileSync('setcap', ['cap_net_raw+ep', ref]);
    const refCap = Buffer.from(execFileSync('getfattr', ['--only-values', '-n', 'security.capability', ref]));

    const dev = FileBlockDevice.open(`${img}.raw`);
    try {
      const ext4 = openExt4(dev);
      const st = (p: string): { type: string; uid: number; gid: number; mode: string; dev?: string } => {
        const s = ext4.stat(`/srv/owners-test/${p}`);
        return { type: s.type, uid: s.uid, gid: s.gid, mode: s.mode.toString(8), ...(s.type.endsWith('dev') ? { dev: `${s.rdevMajor}:${s.rdevMinor}` } : {}) };
      };
      expect(st('root-file')).toEqual({ type: 'file', uid: 0, gid: 0, mode: '644' });
      expect(st('user-1000')).toEqual({ type: 'file', uid: 1000, gid: 1000, mode: '644' });
      expect(st('nobody')).toEqual({ type: 'file', uid: 65534, gid: 65534, mode: '600' });
      expect(st('private')).toEqual({ type: 'dir', uid: 42, gid: 42, mode: '700' });
      expect(st('private/inside')).toEqual({ type: 'file', uid: 42, gid: 42, mode: '640' });
      expect(new TextDecoder().decode(ext4.readFile('/srv/owners-test/private/inside'))).toBe('inside\n');
      expect(st('setuid-tool')).toEqual({ type: 'file', uid: 0, gid: 0, mode: '4755' });
      expect(st('setgid-tool')).toEqual({ type: 'file', uid: 0, gid: 5, mode: '2750' });
      expect(st('blockdev')).toEqual({ type: 'blockdev', uid: 0, gid: 6, mode: '640', dev: '8:1' });
      expect(st('chardev')).toEqual({ type: 'chardev', uid: 0, gid: 0, mode: '644', dev: '1:3' });
      expect(st('fifo')).toEqual({ type: 'fifo', uid: 0, gid: 0, mode: '600' });
      const cap = ext4.stat('/srv/owners-test/cap-file').xattrs.get('security.capability');
      expect(Buffer.from(cap!).toString('hex')).toBe(refCap.toString('hex'));
      expect(new TextDecoder().decode(ext4.stat('/srv/owners-test/root-file').xattrs.get('user.owners-test'))).toBe('kept');
      expect(ext4.stat('/srv/owners-test/chardev').xattrs.size).toBe(0); // the placeholder's mark is gone
    } finally {
      dev.close();
    }
    expect(fs.readdirSync(tmpdir).filter((n) => n.startsWith('dib_build.'))).toEqual([]);
    expect(processesOf(user)).toEqual([]);
  }, 120_000);

  it('without subordinate ids: a clear error naming the fix, exit 1, nothing left', async () => {
    const img = path.join(work, 'nosubid');
    fs.writeFileSync(`${img}.raw`, OLD);
    execFileSync('chown', [`${user.uid}:${user.gid}`, `${img}.raw`]);
    setSubIds(user, false);
    try {
      const r = await runCli(['-o', img, '-t', 'raw', 'busybox-os', 'owners-test'], env, { asUser: asUser(user), cwd: work });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`error: /etc/subuid: no entry for ${user.name} (uid ${user.uid})`);
      expect(r.stderr).toContain(`hint: as root: usermod --add-subuids 100000-165535 ${user.name}`);
      expect(r.stderr).not.toContain('build folder');
      expectNothingLeft(img);
    } finally {
      setSubIds(user, true);
    }
  });

  it('SIGINT while install.d runs: no process, no build folder, the old image untouched', async () => {
    const img = path.join(work, 'sigint');
    fs.writeFileSync(`${img}.raw`, OLD);
    execFileSync('chown', [`${user.uid}:${user.gid}`, `${img}.raw`]);
    const r = await runCli(['-o', img, '-t', 'raw', 'busybox-os', 'owners-test', 'test-markers'], { ...env, DIB_TEST_SLEEP_IN: 'install.d' },
      { asUser: asUser(user), cwd: work, signalOn: { marker: 'DIB-TS-SLEEPING in install.d', signal: 'SIGINT' } });
    expect(r.signalled).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('received SIGINT');
    expectNothingLeft(img);
  });

  it('SIGKILL while install.d runs: the namespace ends its processes and removes the build folder itself', async () => {
    const img = path.join(work, 'sigkill');
    fs.writeFileSync(`${img}.raw`, OLD);
    execFileSync('chown', [`${user.uid}:${user.gid}`, `${img}.raw`]);
    const r = await runCli(['-o', img, '-t', 'raw', 'busybox-os', 'owners-test', 'test-markers'], { ...env, DIB_TEST_SLEEP_IN: 'install.d' },
      { asUser: asUser(user), cwd: work, signalOn: { marker: 'DIB-TS-SLEEPING in install.d', signal: 'SIGKILL' } });
    expect(r.signalled).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    // No cleanup ran in the build process; the namespace's pid 1 does it once its stdin closes.
    // Wait for that to end (the test's timeout is the only bound), then check what is left.
    while (processesOf(user).length > 0 || fs.readdirSync(tmpdir).some((n) => n.startsWith('dib_build.'))) {
      await new Promise((res) => setTimeout(res, 100));
    }
    expectNothingLeft(img);
  });
});
