/**
 * The inspect readers through qcow2 (src/container/qcow2/reader.ts): every reference image of
 * fixtures/inspect/make.sh converted by `qemu-img convert -O qcow2`, plain and with `-c`
 * (deflate-compressed clusters), and one with zstd clusters, reads exactly as the raw image: same volumes, the same kernel
 * and initrd, every entry and file of the source tree; and disk-image-get-kernel extracts
 * byte-identical files from a compressed one.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectImage, selectKernel } from '../../src/inspect/index.js';
import { TSX } from '../helpers/cli-run.js';
import { hasTool, mustRun } from '../helpers/tools.js';
import { compareWithSource, expected, fixturesUnavailable, IMAGES, inspectFixtures, sourceView } from './fixtures.js';

const why = fixturesUnavailable() ?? (!hasTool('qemu-img') ? 'qemu-img is not installed (qemu-utils)' : undefined);
const ROOT = new URL('../../', import.meta.url).pathname;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.skipIf(why !== undefined)(`inspect through qcow2 (${why ?? 'qemu-img convert -O qcow2 [-c]'})`, () => {
  let dir: string;
  let work: string;
  beforeAll(() => {
    dir = inspectFixtures();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-inspect-qcow2-'));
    for (const name of IMAGES) {
      mustRun('qemu-img', ['convert', '-O', 'qcow2', path.join(dir, `${name}.img`), path.join(work, `${name}.qcow2`)]);
      mustRun('qemu-img', ['convert', '-c', '-O', 'qcow2', path.join(dir, `${name}.img`), path.join(work, `${name}.c.qcow2`)]);
    }
    mustRun('qemu-img', ['convert', '-c', '-O', 'qcow2', '-o', 'compression_type=zstd', path.join(dir, 'bare.img'), path.join(work, 'bare.zstd.qcow2')]);
  }, 120_000);
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const name of IMAGES) {
    for (const kind of name === 'bare' ? ['qcow2', 'c.qcow2', 'zstd.qcow2'] : ['qcow2', 'c.qcow2']) {
      it(`${name}.${kind}: the same volumes, kernel, entries and files as the raw image`, () => {
        const raw = inspectImage(path.join(dir, `${name}.img`));
        const q = inspectImage(path.join(work, `${name}.${kind}`));
        try {
          expect(q.image.format).toBe('qcow2');
          const describe = (v: typeof q.layout.volumes[number]) => [v.name, v.start, v.size, v.fsType, v.uuid, v.label];
          expect(q.layout.volumes.map(describe)).toEqual(raw.layout.volumes.map(describe));
          const fsys = q.mounted().fs;
          const c = selectKernel(fsys);
          const want = expected(dir, name);
          expect([c.kernel.realPath, c.initrd.realPath]).toEqual([want.kernel, want.initrd]);
          const r = compareWithSource(fsys, sourceView(dir, name));
          expect(r.problems).toEqual([]);
          expect(r.files).toBeGreaterThan(8);
        } finally {
          raw.close();
          q.close();
        }
      });
    }
  }

  it('disk-image-get-kernel on a compressed qcow2 writes byte-identical files', () => {
    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    const r = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/disk-image-get-kernel.ts'), '-i', path.join(work, 'gpt-boot.c.qcow2'), '-d', out, '-x'],
      { cwd: work, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/gpt-boot\.c\.qcow2: qcow2, gpt partition table/);
    const view = sourceView(dir, 'gpt-boot');
    const want = expected(dir, 'gpt-boot');
    expect(sha(fs.readFileSync(path.join(out, 'baremetal-vmlinuz')))).toBe(sha(fs.readFileSync(view.get(want.kernel)!)));
    expect(sha(fs.readFileSync(path.join(out, 'baremetal-initrd')))).toBe(sha(fs.readFileSync(view.get(want.initrd)!)));
  });
});
