/**
 * The inspect commands on images our own disk-image-create makes from the cached Debian 13 (trixie)
 * root (GPT + BIOS, /boot on its own ext4 partition, fixtures/layouts/gpt_separate_boot.yaml),
 * as raw and as its default compressed qcow2: disk-image-get-kernel writes the root's newest
 * kernel and its initrd byte for byte from both, and every entry of the source tree is in the
 * qcow2 image with its type, mode, owner, size, link target and (for every regular file but
 * the few the build writes) its sha256.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectImage, type InspectedImage } from '../../src/inspect/index.js';
import { compareVersions } from '../../src/inspect/version-order.js';
import { REPO, runCli, TSX } from '../helpers/cli-run.js';
import { debianRootDir, debianRootUnavailable } from '../helpers/debian-root.js';
import { hasTool } from '../helpers/tools.js';
import { hostType } from '../inspect/fixtures.js';

const why = debianRootUnavailable() ?? (!hasTool('sgdisk') ? 'gdisk is needed' : undefined);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Files the build writes into the tree (fstab, grub's files), compared by presence only. */
const WRITTEN = /^\/(etc\/fstab|boot\/grub(\/|$))/;

describe.skipIf(why !== undefined)(`inspect on a disk-image-create Debian image${why ? ` (skipped: ${why})` : ''}`, () => {
  let work: string;
  let img: string;
  let root: string;
  beforeAll(async () => {
    root = debianRootDir();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-debian-'));
    const layout = path.join(REPO, 'fixtures/layouts/gpt_separate_boot.yaml');
    const r = await runCli(['-n', '-t', 'qcow2,raw', '-o', path.join(work, 'debian'), '--root-dir', root, 'vm'], {
      PATH: process.env.PATH, HOME: work, TMPDIR: work, DIB_BLOCK_DEVICE_CONFIG: `file://${layout}`, SOURCE_DATE_EPOCH: '1700000000',
    }, { timeoutMs: 900_000 });
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    img = path.join(work, 'debian.qcow2');
  }, 900_000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const type of ['raw', 'qcow2']) {
    it(`disk-image-get-kernel writes the newest kernel and its initrd from the separate /boot (${type})`, () => {
      const kernels = fs.readdirSync(path.join(root, 'boot')).filter((n) => /^vmlinuz-/.test(n)).sort(compareVersions);
      const newest = kernels[kernels.length - 1]!;
      const version = newest.slice('vmlinuz-'.length);
      const out = path.join(work, `out-${type}`);
      fs.mkdirSync(out);
      const r = spawnSync(process.execPath, ['--import', TSX, path.join(REPO, 'src/cli/disk-image-get-kernel.ts'), '-i', path.join(work, `debian.${type}`), '-d', out, '-x'],
        { cwd: work, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`debian\\.${type}: ${type}, gpt partition table`));
      expect(r.stderr).toMatch(/\/boot: partition 2 \(fstab: /);
      expect(sha(fs.readFileSync(path.join(out, 'baremetal-vmlinuz')))).toBe(sha(fs.readFileSync(path.join(root, 'boot', newest))));
      expect(sha(fs.readFileSync(path.join(out, 'baremetal-initrd')))).toBe(sha(fs.readFileSync(path.join(root, 'boot', `initrd.img-${version}`))));
    }, 120_000);
  }

  it('every entry of the source tree is in the qcow2 image, alike, and every file reads back with its sha256', () => {
    let inspected: InspectedImage | undefined;
    try {
      inspected = inspectImage(img);
      const fsys = inspected.mounted().fs;
      let entries = 0;
      let files = 0;
      const problems: string[] = [];
      const visit = (host: string, p: string): void => {
        const st = fs.lstatSync(host);
        const s = fsys.lstat(p);
        entries++;
        const type = hostType(st);
        const want = [type, st.mode & 0o7777, st.uid, st.gid, type === 'file' || type === 'symlink' ? st.size : 0, type === 'symlink' ? fs.readlinkSync(host) : undefined];
        const got = [s.type, s.mode, s.uid, s.gid, s.size, s.linkTarget];
        if (!WRITTEN.test(p) && JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${p}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
        if (type === 'file' && !WRITTEN.test(p)) {
          const c = fsys.open(p);
          if (sha(c.read(0, c.size)) !== sha(fs.readFileSync(host))) problems.push(`${p}: content differs`);
          files++;
        }
        if (type === 'dir') for (const n of fs.readdirSync(host)) visit(path.join(host, n), p === '/' ? `/${n}` : `${p}/${n}`);
      };
      visit(root, '/');
      expect(problems.slice(0, 20)).toEqual([]);
      expect(entries).toBeGreaterThan(10_000);
      expect(files).toBeGreaterThan(5_000);
    } finally {
      inspected?.close();
    }
  }, 600_000);
});
