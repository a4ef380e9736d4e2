// Slow (network on first run): the README's main job as an ordinary user. A test user with
// subordinate ids (made here, removed afterwards) runs disk-image-create -o IMG vm
// debian-minimal owners-test test-markers: mmdebstrap --mode=unshare inside the build's user
// namespace, chroot hooks there, assembly reading the tree from inside it. The image passes
// sfdisk -V and e2fsck -fn, its owners, modes, devices (the hook's and the bootstrap's /dev)
// and capability read with our ext4 reader are what the hooks made, and it boots in QEMU to
// the first-boot marker. The bootstrap tarball is cached outside the repository
// (/var/cache/diskimage-ts-test/unprivileged, keyed by the hook's inputs), so a machine pays
// the mmdebstrap run once.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { SliceBlockDevice } from '../../src/binary/block-device.js';
import { openExt4 } from '../../src/fs/ext4/reader.js';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { run } from '../boot/check.js';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { asUser, makeTestUser, removeTestUser, type TestUser } from '../helpers/test-user.js';
import { hasTool } from '../helpers/tools.js';

const why = process.getuid?.() !== 0 ? 'needs root to create the test user and its subordinate ids'
  : !hasTool('mmdebstrap') ? 'mmdebstrap is not installed'
  : !hasTool('newuidmap') || !hasTool('setpriv') ? 'uidmap/util-linux are not installed'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed'
  : !hasTool('sfdisk') || !hasTool('e2fsck') ? 'fdisk and e2fsprogs are needed' : undefined;

let work: string;
let user: TestUser;
beforeAll(() => {
  if (why) return;
  user = makeTestUser();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-unpriv-slow-'));
  fs.chmodSync(work, 0o755);
  fs.mkdirSync(path.join(work, 'tmp'));
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, work]);
});
afterAll(() => {
  if (why) return;
  if (work) fs.rmSync(work, { recursive: true, force: true });
  removeTestUser();
});

describe.skipIf(why !== undefined)(`unprivileged Debian build${why ? ` (skipped: ${why})` : ''}`, () => {
  it('vm debian-minimal as an ordinary user: owners kept, boots to the first-boot marker', async () => {
    // The cache outlives the test user; it is handed to whoever the user is this time.
    const cache = path.join(testCacheDir(), 'unprivileged');
    fs.mkdirSync(cache, { recursive: true });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, cache]);
    const img = path.join(work, 'debian');
    const r = await runCli(['-o', img, '-t', 'raw', '--image-cache', path.join(cache, 'image-cache'), 'vm', 'debian-minimal', 'owners-test', 'test-markers'], {
      PATH: '/usr/local/bin:/usr/bin:/bin', HOME: work, TMPDIR: path.join(work, 'tmp'), FLAVOURS_PATH: TEST_FLAVOURS, DIB_GRUB_TIMEOUT: '1',
      ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}),
    }, { asUser: asUser(user), cwd: work, timeoutMs: 1_500_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(r.stderr).toContain('unprivileged build: user namespace');
    expect(r.stdout).toContain('DIB-TS-OWNERS-DONE uid=0');
    expect(fs.readdirSync(path.join(work, 'tmp')).filter((n) => n.startsWith('dib_'))).toEqual([]);
    const file = `${img}.raw`;
    expect(run('sfdisk', ['-V', file]).status).toBe(0);
    const table = JSON.parse(execFileSync('sfdisk', ['--json', file], { encoding: 'utf8' })) as { partitiontable: { partitions: { start: number; size: number }[] } };
    const part = table.partitiontable.partitions[0]!;
    const fsck = run('e2fsck', ['-fn', `${file}?offset=${part.start * 512}`]);
    expect(fsck.status, fsck.out).toBe(0);

    const dev = FileBlockDevice.open(file);
    try {
      const ext4 = openExt4(new SliceBlockDevice(dev, part.start * 512, part.size * 512));
      const st = (p: string): string => {
        const s = ext4.stat(p);
        return `${s.type} ${s.uid}:${s.gid} ${s.mode.toString(8)}${s.type.endsWith('dev') ? ` ${s.rdevMajor}:${s.rdevMinor}` : ''}`;
      };
      expect(st('/srv/owners-test/private/inside')).toBe('file 42:42 640');
      expect(st('/srv/owners-test/nobody')).toBe('file 65534:65534 600');
      expect(st('/srv/owners-test/setuid-tool')).toBe('file 0:0 4755');
      expect(st('/srv/owners-test/blockdev')).toBe('blockdev 0:6 640 8:1');
      expect(st('/srv/owners-test/chardev')).toBe('chardev 0:0 644 1:3');
      // the bootstrap's own devices, owners and setuid binaries
      expect(st('/dev/null')).toBe('chardev 0:0 666 1:3');
      expect(st('/dev/console')).toBe('chardev 0:0 666 5:1');
      expect(st('/usr/bin/passwd')).toBe('file 0:0 4755');
      expect(st('/etc/shadow')).toBe('file 0:42 640');
      expect(st('/var/cache/apt/archives/partial')).toMatch(/^dir 42:0 700$/); // _apt's, private
      expect(ext4.stat('/srv/owners-test/cap-file').xattrs.get('security.capability')?.[3]).toBe(2); // v2: the host uid is not in it
    } finally {
      dev.close();
    }
    const boot = await bootUntil(file, 'DIB-TS-FIRST-BOOT-MARKER install-marker-0', { uefi: false, workDir: work, timeoutSec: 240 });
    expect(boot.found, boot.log.slice(-3000)).toBe(true);
  }, 1_800_000);
});
