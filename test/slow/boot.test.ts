// End to end: the cached Debian 13 (trixie) root assembled by assembleImage into each shipped layout,
// checked by the reference tools, then booted in QEMU (TCG) until systemd's marker unit prints
// on the serial console: MBR + BIOS, GPT + BIOS, GPT + UEFI (OVMF), and the efi image under
// BIOS too. One assembly per layout; the efi image serves both of its boots.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleImage } from '../../src/assemble/assemble.js';
import { loadLayout, type LayoutPlan } from '../../src/layout/plan.js';
import { dirTree } from '../../src/tree/dir-source.js';
import { debianRootDir, debianRootUnavailable, MARKER } from '../helpers/debian-root.js';
import { bootUntil, OVMF_CODE, qemuReady } from '../boot/qemu.js';
import { checkImage, debugfsCat } from '../boot/check.js';
import { hasTool } from '../helpers/tools.js';

const why = debianRootUnavailable() ?? (!qemuReady() ? 'qemu-system-x86_64 is not installed' : undefined)
  ?? (!hasTool('e2fsck') || !hasTool('sgdisk') || !hasTool('fsck.fat') ? 'e2fsprogs, gdisk and dosfstools are needed' : undefined);
let dir: string;
// GPT + BIOS with /boot on its own ext4 partition: grub finds grub.cfg and the kernel on it.
const SEPARATE_BOOT = fs.readFileSync(new URL('../../fixtures/layouts/gpt_separate_boot.yaml', import.meta.url), 'utf8');
const images = new Map<string, { img: string; plan: LayoutPlan }>();

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-e2e-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function image(layout: 'mbr' | 'gpt' | 'efi' | typeof SEPARATE_BOOT) {
  const have = images.get(layout);
  if (have) return have;
  const tree = dirTree(debianRootDir());
  try {
    const img = path.join(dir, `${layout === SEPARATE_BOOT ? 'sepboot' : layout}.img`);
    const r = await assembleImage({ tree, output: img, layout: loadLayout(layout), bootloader: true, grubTimeout: 1,
      seed: '1700000000', format: 'raw' });
    checkImage(img, r.plan, dir);
    const root = r.plan.filesystems.find((f) => f.mountPoint === '/')!;
    const boot = r.plan.filesystems.find((f) => f.mountPoint === '/boot');
    expect(debugfsCat(img, root.offset, '/etc/fstab')).toBe(r.plan.fstab);
    expect(debugfsCat(img, (boot ?? root).offset, boot ? '/grub/grub.cfg' : '/boot/grub/grub.cfg')).toContain(`root=LABEL=${root.label} ro`);
    images.set(layout, { img, plan: r.plan });
    return { img, plan: r.plan };
  } finally {
    tree.close();
  }
}

describe.skipIf(why !== undefined)(`assembled Debian images boot in QEMU${why ? ` (skipped: ${why})` : ''}`, () => {
  it('MBR + BIOS', async () => {
    const { img } = await image('mbr');
    const r = await bootUntil(img, MARKER, { uefi: false, workDir: dir, timeoutSec: 600 });
    expect(r.found, r.log.slice(-3000)).toBe(true);
  }, 600_000);

  it('GPT + BIOS', async () => {
    const { img } = await image('gpt');
    const r = await bootUntil(img, MARKER, { uefi: false, workDir: dir, timeoutSec: 600 });
    expect(r.found, r.log.slice(-3000)).toBe(true);
  }, 600_000);

  it.skipIf(!fs.existsSync(OVMF_CODE))('GPT + UEFI (OVMF, BOOTX64.EFI on our FAT32 ESP)', async () => {
    const { img } = await image('efi');
    const r = await bootUntil(img, MARKER, { uefi: true, workDir: dir, timeoutSec: 600 });
    expect(r.found, r.log.slice(-3000)).toBe(true);
  }, 600_000);

  it('GPT + BIOS with a separate /boot filesystem', async () => {
    const { img } = await image(SEPARATE_BOOT);
    const r = await bootUntil(img, MARKER, { uefi: false, workDir: dir, timeoutSec: 600 });
    expect(r.found, r.log.slice(-3000)).toBe(true);
  }, 600_000);

  it('the efi image under BIOS (core.img in its BIOS boot partition)', async () => {
    const { img } = await image('efi');
    const r = await bootUntil(img, MARKER, { uefi: false, workDir: dir, timeoutSec: 600 });
    expect(r.found, r.log.slice(-3000)).toBe(true);
  }, 600_000);
});
