// End to end: the default disk-image-create path (qcow2, deflate-compressed) from the cached
// Debian root, with VHD and VMDK from the same build; the qcow2 boots in QEMU (TCG, BIOS) to
// the marker unit, the VHD and VMDK hold the same disk (qemu-img compare), and a second build
// with the same SOURCE_DATE_EPOCH gives the same bytes for every type.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { debianRootDir, debianRootUnavailable, MARKER } from '../helpers/debian-root.js';
import { hasTool, mustRun } from '../helpers/tools.js';

const why = debianRootUnavailable() ?? (!qemuReady() ? 'qemu-system-x86_64 is not installed' : undefined)
  ?? (!hasTool('qemu-img') ? 'qemu-img is not installed (qemu-utils)' : undefined);
/** sha256 of a file's bytes, read here (not the build's own .sha256 file). */
async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'formats-e2e-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe.skipIf(why !== undefined)(`output formats end to end${why ? ` (skipped: ${why})` : ''}`, () => {
  it('the default qcow2 boots; VHD and VMDK of the same build hold the same disk; a second build is byte-identical', async () => {
    const root = debianRootDir();
    const env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS, SOURCE_DATE_EPOCH: '1700000000', DIB_GRUB_TIMEOUT: '1' };
    for (const d of ['a', 'b']) {
      fs.mkdirSync(path.join(work, d));
      const r = await runCli(['-n', '-t', 'qcow2,vhd,vmdk', '--checksum', '--root-dir', root, '-o', path.join(work, d, 'debian'), 'vm'], env, { timeoutMs: 1_200_000 });
      expect(r.code, r.stderr.slice(-4000)).toBe(0);
    }
    const a = (ext: string) => path.join(work, 'a', `debian.${ext}`);
    for (const ext of ['qcow2', 'vhd', 'vmdk']) {
      // the two builds' bytes, hashed here, are the same; and the --checksum file names that hash
      const [ha, hb] = await Promise.all(['a', 'b'].map((d) => sha256Of(path.join(work, d, `debian.${ext}`))));
      expect(hb, ext).toBe(ha);
      expect(fs.readFileSync(a(`${ext}.sha256`), 'utf8').split(/\s/)[0], `${ext}.sha256`).toBe(ha);
    }
    expect(mustRun('qemu-img', ['check', a('qcow2')])).toContain('No errors were found on the image.');
    expect(mustRun('qemu-img', ['compare', '-f', 'qcow2', '-F', 'vpc', a('qcow2'), a('vhd')]).trim()).toBe('Images are identical.');
    expect(mustRun('qemu-img', ['compare', '-f', 'qcow2', '-F', 'vmdk', a('qcow2'), a('vmdk')]).trim()).toBe('Images are identical.');
    const boot = await bootUntil(a('qcow2'), MARKER, { uefi: false, workDir: work, timeoutSec: 240, format: 'qcow2' });
    expect(boot.found, boot.log.slice(-3000)).toBe(true);
  }, 2_400_000);
});
