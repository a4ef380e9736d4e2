// End to end (root, network on first run): ramdisk-image-create -o RD debian-minimal
// ramdisk-marker builds NAME.kernel and NAME.initramfs (zstd); QEMU boots them (TCG, direct
// kernel boot, serial console) to the test fragment's marker, and the binary-deps.d program
// (findmnt and its libraries) runs; the udev.d rule and the ramdisk-install.d hook's file are
// in the archive. The ramdisk tree kept with --keep-build-dir then goes
// through `ramdisk-image-create --root-dir` with gzip (no chroot) behind an uncompressed
// --early-dir archive: it boots as well, and the early archive's file is there.
// One boot per compression. The Debian bootstrap tarball is cached outside the repo
// (/var/cache/diskimage-ts-test/image-cache), shared with test/slow/pipeline.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCpio } from '../../src/archive/cpio-reader.js';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { mountsBelow, runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { hasTool, mustRun } from '../helpers/tools.js';

const why = process.getuid?.() !== 0 ? 'needs root (chroot, mmdebstrap)'
  : !hasTool('mmdebstrap') && !hasTool('debootstrap') ? 'mmdebstrap/debootstrap is not installed'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed'
  : !hasTool('zstd') || !hasTool('gzip') || !hasTool('cpio') ? 'zstd, gzip and cpio are needed (run scripts/setup-host.sh)' : undefined;

const MARKER = 'DIB-TS-RAMDISK-MARKER';
const DEPS_OK = 'DIB-TS-RAMDISK-BINARY-DEPS-OK';
const APPEND = 'console=ttyS0,115200n8 panic=-1';

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'ramdisk-e2e-')); });
afterAll(() => { if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true }); });

describe.skipIf(why !== undefined)(`ramdisk-image-create end to end${why ? ` (skipped: ${why})` : ''}`, () => {
  it('debian-minimal + a marker flavour: the kernel and zstd initramfs boot to the marker; --root-dir with gzip boots too', async () => {
    const tmpdir = path.join(work, 'tmp');
    fs.mkdirSync(tmpdir);
    const rd = path.join(work, 'RD');
    const env = {
      PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir, FLAVOURS_PATH: TEST_FLAVOURS,
      ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}),
    };
    const r = await runCli(['-o', rd, '--image-cache', path.join(testCacheDir(), 'image-cache'), '--keep-build-dir', 'debian-minimal', 'ramdisk-marker'],
      env, { timeoutMs: 1_500_000, command: 'ramdisk-image-create' });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    expect(fs.readdirSync(work).filter((n) => n.startsWith('RD') || n.startsWith('.RD')).sort()).toEqual(['RD.initramfs', 'RD.kernel']);
    expect(mustRun('file', ['-b', `${rd}.kernel`])).toMatch(/Linux kernel x86 boot executable/);
    expect(mustRun('zstd', ['-t', '-q', `${rd}.initramfs`])).toBe('');

    // The archive as GNU cpio lists it: /init, busybox applets, findmnt's libraries, modules without video drivers.
    const listing = mustRun('sh', ['-c', 'zstd -dc "$1" | cpio -it --quiet', 'list', `${rd}.initramfs`]).split('\n');
    for (const p of ['init', 'bin/busybox', 'bin/sh', 'bin/findmnt', 'lib64/ld-linux-x86-64.so.2', 'etc/ld.so.cache',
      'etc/udev/rules.d/99-dib-ts-test.rules', 'etc/dib-ts-ramdisk-install']) expect(listing, p).toContain(p);
    expect(listing.some((p) => /^(usr\/)?lib\/x86_64-linux-gnu\/libmount\.so\.1$/.test(p))).toBe(true);
    expect(listing.some((p) => /^lib\/modules\/[^/]+\/kernel\/fs\//.test(p))).toBe(true);
    expect(listing.filter((p) => /\/drivers\/(gpu|video)\/|fb\.ko$/.test(p))).toEqual([]);

    const zstdBoot = await bootUntil({ kernel: `${rd}.kernel`, initrd: `${rd}.initramfs`, append: APPEND }, DEPS_OK,
      { uefi: false, workDir: work, memory: 2048, timeoutSec: 240 });
    expect(zstdBoot.found, zstdBoot.log.slice(-3000)).toBe(true);
    expect(zstdBoot.log).toContain(MARKER);

    // From the kept ramdisk tree, without a chroot: gzip, and it boots.
    const kept = /keeping the build folder (\S+)/.exec(r.stderr)?.[1];
    expect(kept, r.stderr.slice(-2000)).toBeDefined();
    const tree = path.join(kept!, 'mnt/tmp/ramdisk-build/root');
    const gz = path.join(work, 'GZ');
    // An early archive in front (uncompressed, as early microcode is): the kernel must unpack both.
    const early = path.join(work, 'early');
    fs.mkdirSync(path.join(early, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(early, 'etc/dib-ts-early'), 'CONCATENATED-OK\n');
    const g = await runCli(['-o', gz, '--root-dir', tree, '--compression', 'gzip', '--early-dir', early], env, { timeoutMs: 600_000, command: 'ramdisk-image-create' });
    expect(g.code, g.stderr).toBe(0);
    expect(fs.existsSync(`${gz}.kernel`)).toBe(false);
    const plain = mustRun('sh', ['-c', 'zstd -dc "$1" | sha256sum', 'h', `${rd}.initramfs`]);
    const gzFile = fs.readFileSync(`${gz}.initramfs`);
    // The early archive first (our reader reads it), then the gzip member.
    const gzStart = gzFile.indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
    expect(readCpio(gzFile.subarray(0, gzStart)).map((a) => a.entries.map((e) => e.name))).toEqual([['.', 'etc', 'etc/dib-ts-early']]);
    mustRun('sh', ['-c', 'tail -c +"$2" "$1" | gzip -t', 'h', `${gz}.initramfs`, String(gzStart + 1)]);
    expect(mustRun('sh', ['-c', 'tail -c +"$2" "$1" | gzip -dc | sha256sum', 'h', `${gz}.initramfs`, String(gzStart + 1)])).toBe(plain);
    const gzBoot = await bootUntil({ kernel: `${rd}.kernel`, initrd: `${gz}.initramfs`, append: APPEND }, DEPS_OK,
      { uefi: false, workDir: work, memory: 2048, timeoutSec: 240 });
    expect(gzBoot.found, gzBoot.log.slice(-3000)).toBe(true);
    expect(gzBoot.log).toContain('DIB-TS-RAMDISK-EARLY-CONCATENATED-OK');
    fs.rmSync(kept!, { recursive: true, force: true });
  }, 2_400_000);
});
