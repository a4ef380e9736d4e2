// Where the layout comes from: --block-device-config / DIB_BLOCK_DEVICE_CONFIG first, else a
// block-device.d hook that prints one; checked on the image with sfdisk --json.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';

const hasSfdisk = hasTool('sfdisk') && hasTool('busybox');

const GPT_LAYOUT = `- local_loop:
    name: image0
    size: 128MiB
- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: root
        type: '8300'
        size: 100%
        mkfs:
          type: ext4
          mount:
            mount_point: /
            fstab:
              options: defaults
              fsck-passno: 1
`;

let work: string;
let flavours: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-layout-'));
  flavours = path.join(work, 'flavours');
  const hook = path.join(flavours, 'print-layout', 'block-device.d');
  fs.mkdirSync(hook, { recursive: true });
  fs.writeFileSync(path.join(flavours, 'print-layout', 'README.md'), '# print-layout\n');
  fs.writeFileSync(path.join(hook, '10-print-layout'), `#!/bin/sh\ncat <<'YAML'\n${GPT_LAYOUT}YAML\n`, { mode: 0o755 });
});
afterAll(() => { fs.rmSync(work, { recursive: true, force: true }); });

function partitions(img: string): { label: string; parts: { type: string; name?: string }[] } {
  const j = JSON.parse(execFileSync('sfdisk', ['--json', img], { encoding: 'utf8' })) as { partitiontable: { label: string; partitions: { type: string; name?: string }[] } };
  return { label: j.partitiontable.label, parts: j.partitiontable.partitions };
}

describe.skipIf(!hasSfdisk)('layout sources', () => {
  it('a block-device.d hook that prints a layout decides the partition table', async () => {
    const img = path.join(work, 'printed');
    const r = await runCli(['-t', 'raw', '-n', '-o', img, 'busybox-os', 'print-layout'], { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: `${flavours}:${TEST_FLAVOURS}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('layout: printed by a block-device.d hook');
    const t = partitions(`${img}.raw`);
    expect(t.label).toBe('gpt');
    expect(t.parts.map((p) => p.name)).toEqual(['root']);
    expect(fs.statSync(`${img}.raw`).size).toBe(128 * 2 ** 20);
  });

  it('DIB_BLOCK_DEVICE_CONFIG=file://... is used when no hook prints one', async () => {
    const file = path.join(work, 'layout.yaml');
    fs.writeFileSync(file, GPT_LAYOUT.replace('128MiB', '112MiB'));
    const img = path.join(work, 'fromenv');
    const r = await runCli(['-t', 'raw', '-n', '-o', img, 'busybox-os'], { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS, DIB_BLOCK_DEVICE_CONFIG: `file://${file}` });
    expect(r.code, r.stderr).toBe(0);
    expect(partitions(`${img}.raw`).label).toBe('gpt');
    expect(fs.statSync(`${img}.raw`).size).toBe(112 * 2 ** 20);
  });

  it('--block-device-config wins over a block-device.d hook\'s printed layout', async () => {
    const img = path.join(work, 'cmdwins');
    const mbr = GPT_LAYOUT.replace('label: gpt', 'label: mbr').replace("type: '8300'", "type: '0x83'").replace('128MiB', '96MiB');
    const r = await runCli(['-t', 'raw', '-n', '-o', img, '--block-device-config', mbr, 'busybox-os', 'print-layout'], { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: `${flavours}:${TEST_FLAVOURS}` });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('a block-device.d hook printed a layout; --block-device-config / DIB_BLOCK_DEVICE_CONFIG wins');
    expect(partitions(`${img}.raw`).label).toBe('dos');
    expect(fs.statSync(`${img}.raw`).size).toBe(96 * 2 ** 20);
  });
});
