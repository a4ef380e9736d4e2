// debian-minimal's releases through the whole pipeline (root, network on first run):
// `disk-image-create vm block-device-efi debian-minimal` with no DIB_RELEASE bootstraps
// Debian stable, which is 13 "trixie" (grub 2.12, whose boot code and modules come from the
// image), and the one hybrid image boots under UEFI (OVMF, BOOTX64.EFI on the ESP) and under
// BIOS (core.img in the BIOS boot partition) to the login prompt of Debian 13;
// DIB_RELEASE=bookworm with `vm debian-minimal` (MBR) still boots, to Debian 12's prompt.
// The MBR and GPT layouts with trixie's grub boot in test/slow/boot.test.ts (the test root
// is trixie). The bootstrap tarballs are cached outside the repo
// (/var/cache/diskimage-ts-test/image-cache), shared with the pipeline and ramdisk tests:
// one bootstrap per release.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootUntil, OVMF_CODE, qemuReady } from '../boot/qemu.js';
import { mountsBelow, runCli } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { hasTool } from '../helpers/tools.js';

const why = process.getuid?.() !== 0 ? 'needs root (chroot, mmdebstrap)'
  : !hasTool('mmdebstrap') && !hasTool('debootstrap') ? 'mmdebstrap/debootstrap is not installed'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed'
  : !fs.existsSync(OVMF_CODE) ? 'OVMF is not installed (scripts/setup-host.sh)' : undefined;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'releases-e2e-')); });
afterAll(() => { if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true }); });

async function build(name: string, flavours: string[], env: NodeJS.ProcessEnv) {
  const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
  const img = path.join(work, name);
  const r = await runCli(['-t', 'raw', '-o', img, '--image-cache', path.join(testCacheDir(), 'image-cache'), ...flavours], {
    PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir, DIB_GRUB_TIMEOUT: '1',
    ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}), ...env,
  }, { timeoutMs: 1_500_000 });
  expect(r.code, r.stderr.slice(-4000)).toBe(0);
  expect(mountsBelow(tmpdir)).toEqual([]);
  return { file: `${img}.raw`, out: r.stdout + r.stderr };
}

describe.skipIf(why !== undefined)(`debian-minimal releases, built and booted${why ? ` (skipped: ${why})` : ''}`, () => {
  it('no DIB_RELEASE: Debian 13 trixie, the efi image boots under UEFI and under BIOS', async () => {
    const { file, out } = await build('trixie', ['vm', 'block-device-efi', 'debian-minimal'], {});
    expect(out).toMatch(/debian-minimal: release trixie \(DIB_RELEASE=stable\)/);
    const uefi = await bootUntil(file, 'login:', { uefi: true, workDir: work, timeoutSec: 600 });
    expect(uefi.found, uefi.log.slice(-3000)).toBe(true);
    expect(uefi.log).toContain('Debian GNU/Linux 13');
    const bios = await bootUntil(file, 'login:', { uefi: false, workDir: work, timeoutSec: 600 });
    expect(bios.found, bios.log.slice(-3000)).toBe(true);
    expect(bios.log).toContain('Debian GNU/Linux 13');
  }, 2_400_000);

  it('DIB_RELEASE=bookworm: Debian 12 on MBR boots under BIOS', async () => {
    const { file, out } = await build('bookworm', ['vm', 'debian-minimal'], { DIB_RELEASE: 'bookworm' });
    expect(out).toMatch(/debian-minimal: release bookworm \(DIB_RELEASE=bookworm\)/);
    const bios = await bootUntil(file, 'login:', { uefi: false, workDir: work, timeoutSec: 600 });
    expect(bios.found, bios.log.slice(-3000)).toBe(true);
    expect(bios.log).toContain('Debian GNU/Linux 12');
  }, 2_400_000);
});
