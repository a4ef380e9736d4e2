// DIB's own ramdisk element, unmodified, on our ramdisk flavour (root, network on first run):
// with a copy of DIB's `hwburnin` (from Debian's python3-diskimage-builder) on ELEMENTS_PATH,
// `ramdisk-image-create -o r debian-minimal hwburnin` gives r.kernel and r.initramfs; the
// programs hwburnin's binary-deps.d names (spew, memtester: installed from their packages,
// as hwburnin itself installs nothing) are in the archive with their libraries, /init is
// bash with /init-func and hwburnin's fragment; QEMU boots it (TCG, -kernel/-initrd) and
// the fragment runs: "Starting HW Burnin" on the serial console, then memtester's banner.
// The bootstrap tarball is shared with the other slow tests (test cache image-cache).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { mountsBelow, runCli } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { copyDibElements, dibLibraryUnavailable } from '../helpers/dib-library.js';
import { hasTool, mustRun } from '../helpers/tools.js';

const why = process.getuid?.() !== 0 ? 'needs root (chroot, mmdebstrap)'
  : !hasTool('mmdebstrap') && !hasTool('debootstrap') ? 'mmdebstrap/debootstrap is not installed'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed'
  : !hasTool('zstd') || !hasTool('cpio') ? 'zstd and cpio are needed (run scripts/setup-host.sh)'
  : dibLibraryUnavailable();

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'dib-ramdisk-')); });
afterAll(() => { if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true }); });

describe.skipIf(why !== undefined)(`DIB's hwburnin on our ramdisk flavour${why ? ` (skipped: ${why})` : ''}`, () => {
  it('ramdisk-image-create -o r debian-minimal hwburnin boots and runs the element\'s init.d step', async () => {
    const elements = copyDibElements(['hwburnin'], path.join(work, 'elements'));
    const tmpdir = path.join(work, 'tmp');
    fs.mkdirSync(tmpdir);
    const r = await runCli(['-o', path.join(work, 'r'), '--image-cache', path.join(testCacheDir(), 'image-cache'), 'debian-minimal', 'hwburnin'], {
      PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir, ELEMENTS_PATH: elements,
      ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}),
    }, { timeoutMs: 1_500_000, command: 'ramdisk-image-create' });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(mountsBelow(tmpdir)).toEqual([]);
    const kernel = path.join(work, 'r.kernel');
    const initramfs = path.join(work, 'r.initramfs');
    expect(mustRun('file', ['-b', kernel])).toMatch(/Linux kernel x86 boot executable/);

    const listing = mustRun('sh', ['-c', 'zstd -dc "$1" | cpio -it --quiet', 'list', initramfs]).split('\n');
    for (const p of ['init', 'init-func', 'bin/bash', 'bin/busybox', 'bin/spew', 'bin/memtester']) expect(listing, p).toContain(p);
    const init = mustRun('sh', ['-c', 'zstd -dc "$1" | cpio -i --quiet --to-stdout init', 'init', initramfs]);
    expect(init.split('\n')[0]).toBe('#!/bin/bash');
    expect(init).toMatch(/^source \/init-func$/m);
    expect(init).not.toMatch(/^set -e/m);
    expect(init).toContain('# init fragment from 70-hwburnin');
    expect(init.indexOf('# init fragment from 20-init-variables')).toBeLessThan(init.indexOf('# init fragment from 70-hwburnin'));

    const boot = await bootUntil({ kernel, initrd: initramfs, append: 'console=ttyS0,115200n8 panic=-1' }, 'memtester version',
      { uefi: false, workDir: work, memory: 2048, timeoutSec: 300 });
    expect(boot.found, boot.log.slice(-3000)).toBe(true);
    expect(boot.log).toContain('Starting HW Burnin');
    expect(boot.log).not.toContain('Kernel panic');
  }, 2_400_000);
});
