// End to end (root, network on first run): disk-image-create -o IMG vm debian-minimal
// local-config test-markers. The image is checked with sfdisk -V and e2fsck -fn (at the
// partition's offset), then booted in QEMU (TCG, BIOS, 180 s); the serial log must show the
// first-boot.d marker carrying the install.d marker. The debootstrap tarball is cached
// outside the repo (/var/cache/diskimage-ts-test/image-cache) so later runs reuse it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { debugfsCat, run } from '../boot/check.js';
import { mountsBelow, REPO, runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { hasTool } from '../helpers/tools.js';

const has = hasTool;
const why = process.getuid?.() !== 0 ? 'needs root (chroot, mmdebstrap)'
  : !has('mmdebstrap') && !has('debootstrap') ? 'mmdebstrap/debootstrap is not installed'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed'
  : !has('sfdisk') || !has('e2fsck') || !has('debugfs') ? 'fdisk and e2fsprogs are needed'
  : !fs.existsSync(path.join(REPO, 'src/assemble/assemble.ts')) ? 'the assembler is not in this checkout' : undefined;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-e2e-')); });
afterAll(() => { if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true }); });

describe.skipIf(why !== undefined)(`pipeline end to end${why ? ` (skipped: ${why})` : ''}`, () => {
  it('builds vm debian-minimal local-config with hooks, and the image boots running first-boot.d', async () => {
    const cache = path.join(testCacheDir(), 'image-cache');
    const img = path.join(work, 'debian');
    const tmpdir = path.join(work, 'tmp');
    fs.mkdirSync(tmpdir);
    const keys = path.join(work, 'keys');
    fs.writeFileSync(keys, 'ssh-ed25519 AAAAE2E e2e@host\n');
    const r = await runCli(['-t', 'raw', '-o', img, '--image-cache', cache, '-p', 'less', 'vm', 'debian-minimal', 'local-config', 'test-markers'], {
      PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir, FLAVOURS_PATH: TEST_FLAVOURS, DIB_GRUB_TIMEOUT: '1',
      DIB_LOCAL_CONFIG_AUTHORIZED_KEYS: keys, ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}),
    }, { timeoutMs: 1_500_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(r.stdout).toContain('DIB-TS-INSTALL-MARKER');
    expect(r.stderr).toMatch(/Hook timings/);
    // nothing left of the build
    expect(mountsBelow(tmpdir)).toEqual([]);
    expect(fs.readdirSync(tmpdir).filter((n) => n.startsWith('dib_'))).toEqual([]);
    const file = `${img}.raw`;
    expect(run('sfdisk', ['-V', file]).status).toBe(0);
    const table = JSON.parse(execFileSync('sfdisk', ['--json', file], { encoding: 'utf8' })) as { partitiontable: { label: string; sectorsize?: number; partitions: { start: number }[] } };
    expect(table.partitiontable.label).toBe('dos');
    const offset = table.partitiontable.partitions[0]!.start * 512;
    const fsck = run('e2fsck', ['-fn', `${file}?offset=${offset}`]);
    expect(fsck.status, fsck.out).toBe(0);
    expect(debugfsCat(file, offset, '/etc/dib-ts-install-marker')).toBe('install-marker-0\n');
    expect(debugfsCat(file, offset, '/root/.ssh/authorized_keys')).toBe('ssh-ed25519 AAAAE2E e2e@host\n');
    // the build's policy-rc.d (no daemons started while it ran) is gone from the image; debugfs's
    // cat prints nothing for a missing file too, so ask for the inode instead
    expect(run('debugfs', ['-R', 'stat /usr/sbin/policy-rc.d', `${file}?offset=${offset}`]).out).toContain('File not found by ext2_lookup');
    expect(run('debugfs', ['-R', 'stat /usr/bin/less', `${file}?offset=${offset}`]).out).toContain('Type: regular'); // -p less
    expect(debugfsCat(file, offset, '/etc/systemd/system/dib-first-boot.service')).toContain('Before=rc-local.service');
    // the stamp that makes the unit run once (the runner removes it)
    expect(run('debugfs', ['-R', 'stat /var/lib/dib-first-boot/pending', `${file}?offset=${offset}`]).out).toContain('Type: regular');

    const boot = await bootUntil(file, 'DIB-TS-FIRST-BOOT-MARKER install-marker-0', { uefi: false, workDir: work, timeoutSec: 180 });
    expect(boot.found, boot.log.slice(-3000)).toBe(true);
  }, 1_800_000);
});
