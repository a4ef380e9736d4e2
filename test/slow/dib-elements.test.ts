// Slow (network on first run): DIB's own element library, unmodified, on ELEMENTS_PATH.
// `disk-image-create vm debian-minimal growroot devuser openssh-server journal-to-console`
// (DIB's boot-test set less what needs the network) builds as root; the image is then made
// 1 GiB larger and booted in QEMU, where a probe unit (a test element, run after the
// elements' own services) prints on the serial console: sshd's state, the host keys (made
// at first boot: runtime-ssh-host-keys removes them from the image), whether the dev user
// may sudo without a password, and the size of / (growroot grew it past the old image size).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debugfsCat } from '../boot/check.js';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { runCli } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { dibElementsDir, dibLibraryUnavailable } from '../helpers/dib-library.js';
import { hasTool } from '../helpers/tools.js';

const DONE = 'DIB-ELEMENTS-PROBE-DONE';
const why = process.getuid?.() !== 0 ? 'needs root (a root build)'
  : !hasTool('mmdebstrap') ? 'mmdebstrap is not installed'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed'
  : dibLibraryUnavailable();

let work: string;
/** The bootstrap is cached outside the repository (keyed by its inputs), shared by both builds and trixie-boot's bookworm case. */
const imageCache = () => path.join(testCacheDir(), 'image-cache');
/**
 * Debian 12: DIB's boot-test set runs unmodified there. On Debian 13 (debian-minimal's default)
 * two things still fail and are open in issue 19: sshd finds no host keys at first boot, and
 * dhcp-all-interfaces' package map names a package trixie no longer has (apt exit 100).
 */
const RELEASE = 'bookworm';
beforeAll(() => { if (!why) work = fs.mkdtempSync(path.join(os.tmpdir(), 'dib-elements-')); });
afterAll(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

/** Test elements (the probe) for this file. */
const TEST_ELEMENTS = new URL('../../fixtures/dib-elements', import.meta.url).pathname;

describe.skipIf(why !== undefined)(`DIB's element library${why ? ` (skipped: ${why})` : ''}`, () => {
  it('vm debian-minimal growroot devuser openssh-server journal-to-console builds as root and boots', async () => {
    const elements = dibElementsDir();
    const img = path.join(work, 'x');
    const r = await runCli(['-o', img, '-t', 'raw', '--image-cache', imageCache(), 'vm', 'debian-minimal', 'growroot', 'devuser', 'openssh-server', 'journal-to-console', 'dib-elements-probe'], {
      PATH: process.env.PATH, HOME: work, ELEMENTS_PATH: `${elements}:${TEST_ELEMENTS}`, DIB_GRUB_TIMEOUT: '1', DIB_RELEASE: RELEASE,
      DIB_DEV_USER_USERNAME: 'devuser', DIB_DEV_USER_PWDLESS_SUDO: 'yes', DIB_DEV_USER_SHELL: '/bin/bash',
      ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}),
    }, { cwd: work, timeoutMs: 1_500_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    for (const name of ['vm', 'debian-minimal', 'package-installs', 'pkg-map', 'dib-init-system']) {
      expect(r.stderr).toContain(`element ${name} from ${path.join(elements, name)} is replaced by the built-in flavour`);
    }
    expect(r.stderr).toMatch(/running post-install.d\/80-growroot \(growroot\)/);
    const raw = `${img}.raw`;
    const before = fs.statSync(raw).size;
    execFileSync('truncate', ['-s', `+${2 ** 30}`, raw]);
    const boot = await bootUntil(raw, DONE, { uefi: false, workDir: work, timeoutSec: 300, format: 'raw' });
    expect(boot.found, boot.log.slice(-4000)).toBe(true);
    const value = (key: string) => new RegExp(`${key}=(\\S*)`).exec(boot.log)?.[1];
    expect(value('PROBE_SSHD'), boot.log.slice(-4000)).toBe('active');
    expect(Number(value('PROBE_HOSTKEYS'))).toBeGreaterThan(0);
    expect(value('PROBE_KEYS_AT_FIRST_BOOT')).toBe('yes');
    expect(value('PROBE_DEVUSER_SUDO')).toBe('ok');
    expect(Number(value('PROBE_ROOT_BYTES'))).toBeGreaterThan(before);
  }, 2_400_000);

  // stable-interface-names is left out: it installs biosdevname, which Debian does not ship (DIB's own build fails the same way).
  it('cloud-init-datasources, dhcp-all-interfaces, sysctl, modprobe, enable-serial-console run unmodified', async () => {
    const elements = dibElementsDir();
    const img = path.join(work, 'more');
    const r = await runCli(['-o', img, '-t', 'raw', '--image-cache', imageCache(), 'vm', 'debian-minimal', 'cloud-init-datasources', 'dhcp-all-interfaces',
      'sysctl', 'modprobe', 'enable-serial-console'], {
      PATH: process.env.PATH, HOME: work, ELEMENTS_PATH: elements, DIB_RELEASE: RELEASE,
      DIB_CLOUD_INIT_DATASOURCES: 'NoCloud', DIB_MODPROBE_BLACKLIST: 'floppy',
      ...(process.env.DIB_DISTRIBUTION_MIRROR ? { DIB_DISTRIBUTION_MIRROR: process.env.DIB_DISTRIBUTION_MIRROR } : {}),
    }, { cwd: work, timeoutMs: 1_500_000 });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    // block-device-mbr: the root filesystem starts at 1 MiB.
    const cat = (file: string) => debugfsCat(`${img}.raw`, 2 ** 20, file);
    expect(cat('/etc/modprobe.d/blacklist.conf')).toContain('blacklist floppy');
    expect(cat('/usr/lib/systemd/system/dhcp-interface@.service').length).toBeGreaterThan(0);
    expect(cat('/etc/udev/rules.d/99-dhcp-all-interfaces.rules').length).toBeGreaterThan(0);
    expect(cat('/usr/local/bin/sysctl-set-value').length).toBeGreaterThan(0);
  }, 1_800_000);
});
