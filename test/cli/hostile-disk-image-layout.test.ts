// Hostile inputs to disk-image-layout: layouts from endless or blocking files, impossible
// values, deep nesting, values that would break fstab, and --write through a symlink or at a
// folder. Each ends in a clear error (exit 1, 2 for usage) or a correct plan.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClearError, runBin, workFolder } from '../helpers/hostile.js';

const work = workFolder('hostile-dil-');
afterAll(() => work.remove());

/** Writes a layout YAML into the work folder and returns its path. */
function layoutFile(name: string, yaml: string): string {
  const f = path.join(work.dir, name);
  fs.writeFileSync(f, yaml);
  return f;
}
const layout = (...args: string[]) => runBin('disk-image-layout', args, { cwd: work.dir });

const gpt = (partType: string, extra = '') => `- local_loop:\n    name: image0\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - name: root\n        type: '${partType}'\n        size: 100%\n${extra}`;
const mbr = (partType: string) => `- local_loop:\n    name: image0\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n      - name: root\n        type: '${partType}'\n        size: 100%\n`;
const bare = (mkfs: string, mount = '/', fstab = 'defaults') =>
  `- local_loop:\n    name: image0\n- mkfs:\n    name: mkfs_root\n    base: image0\n${mkfs}    mount:\n      mount_point: ${JSON.stringify(mount)}\n      fstab:\n        options: ${JSON.stringify(fstab)}\n`;

describe('disk-image-layout layout files', () => {
  it('refuses /dev/zero and a FIFO without reading them, and a file over the size limit', () => {
    expectClearError(layout('/dev/zero', '--size', '4GiB'), 1, /\/dev\/zero is a character device, not a layout file/);
    const fifo = path.join(work.dir, 'l.fifo');
    execFileSync('mkfifo', [fifo]);
    expectClearError(layout(fifo, '--size', '1GiB'), 1, /is a FIFO, not a layout file/);
    expectClearError(layout(layoutFile('big.yaml', `#${' '.repeat(3 << 20)}\n`), '--size', '1GiB'), 1, /may have at most 1048576 bytes/);
    expectClearError(layout(work.dir, '--size', '1GiB'), 1, /is a directory, not a layout file/);
  });

  it('refuses 1,000 levels of nesting (flow and block) with the stated limit, not a stack overflow', () => {
    const flow = `- local_loop:\n    name: image0\n    x: ${'['.repeat(1000)}${']'.repeat(1000)}\n`;
    let block = '- local_loop:\n    name: image0\n';
    for (let i = 0, ind = '    '; i < 1000; i++, ind += '  ') block += `${ind}k:\n`;
    for (const yaml of [flow, block]) {
      const r = layout(layoutFile('deep.yaml', yaml), '--size', '1GiB');
      expectClearError(r, 1, /the YAML nests deeper than 64 levels/);
      expect(r.stderr).not.toMatch(/call stack/);
    }
  });
});

describe('disk-image-layout impossible values', () => {
  it.each([
    ['a size without a number', gpt('8300').replace('size: 100%', 'size: MiB'), /size 'MiB' has a unit but no number/],
    ['an unknown mkfs type', bare('    type: zz\n'), /filesystem type 'zz' is not one mkfs knows/],
    ['an empty mkfs type', bare("    type: ''\n"), /filesystem type '' is not one mkfs knows/],
    ['the all-zero GPT type', gpt('00000000-0000-0000-0000-000000000000'), /marks an unused entry, not a partition/],
    ['MBR type 0xee for a data partition', mbr('0xee'), /0xee marks a GPT protective MBR, not a data partition/],
    ['MBR type 0x00', mbr('0x00'), /MBR partition type 0x00 is reserved/],
  ])('refuses %s', (_what, yaml, words) => {
    expectClearError(layout(layoutFile('bad.yaml', yaml), '--size', '1GiB'), 1, words);
  });

  it('refuses --root-fs-type zz', () => {
    expectClearError(layout('bare', '--size', '1GiB', '--root-fs-type', 'zz'), 1, /filesystem type 'zz' is not one mkfs knows \(from --root-fs-type\)/);
  });
});

describe('disk-image-layout values written into fstab', () => {
  it('refuses a newline in fstab options, a label or a mount point', () => {
    expectClearError(layout(layoutFile('o.yaml', bare('    type: ext4\n', '/', 'defaults\n/dev/sdb /x ext4 defaults 0 0')), '--size', '1GiB'), 1, /fstab options .* holds a newline/);
    expectClearError(layout(layoutFile('l.yaml', bare('    type: ext4\n    label: "a\\nb"\n')), '--size', '1GiB'), 1, /label "a\\nb" holds a newline/);
    expectClearError(layout(layoutFile('m.yaml', bare('    type: ext4\n', '/srv\nx')), '--size', '1GiB'), 1, /mount_point "\/srv\\nx" holds a newline/);
    expectClearError(layout('bare', '--size', '1GiB', '--root-label', 'a\nb'), 1, /label "a\\nb" holds a newline/);
    expectClearError(layout(layoutFile('s.yaml', bare('    type: ext4\n', '/', 'noatime, ro')), '--size', '1GiB'), 1, /holds a space: fstab\(5\) takes them as one field/);
  });

  it('writes a space in a label and a mount point as fstab(5) \\040', () => {
    const yaml = `${bare('    type: ext4\n    label: "my root"\n')}- mkfs:\n    name: data\n    base: image0\n    type: ext4\n    label: data\n    mount:\n      mount_point: "/srv/my data"\n      fstab:\n        options: defaults\n`;
    // Two filesystems on one loop cannot be planned; give each a partition instead.
    const parted = `- local_loop:\n    name: image0\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n      - name: p1\n        type: '8300'\n        size: 50%\n      - name: p2\n        type: '8300'\n        size: 100%\n${yaml.split('\n').slice(2).join('\n').replace('base: image0', 'base: p1').replace('base: image0', 'base: p2')}`;
    const r = layout(layoutFile('space.yaml', parted), '--size', '1GiB', '--json');
    expect(r.code, r.stderr).toBe(0);
    const fstab = (JSON.parse(r.stdout) as { fstab: string }).fstab;
    expect(fstab).toContain('LABEL=my\\040root / ext4 defaults');
    expect(fstab).toContain('LABEL=data /srv/my\\040data ext4 defaults');
  });
});

describe('disk-image-layout --write', () => {
  it('never writes through a symlink (as disk-image-create), and refuses a folder name', () => {
    const target = path.join(work.dir, 'target.raw');
    fs.writeFileSync(target, Buffer.alloc(1 << 20));
    const link = path.join(work.dir, 'link.raw');
    fs.symlinkSync(target, link);
    expectClearError(layout('gpt', '--size', '1MiB', '--write', link), 1, /link\.raw is a symbolic link; the table is not written through links/);
    expect(fs.readFileSync(target).every((b) => b === 0)).toBe(true);
    expectClearError(layout('gpt', '--size', '1MiB', '--write', `${work.dir}/`), 2, /names a folder, not an image file/);
    expectClearError(layout('gpt', '--size', '1MiB', '--write', work.dir), 1, /exists and is not a regular file/);
  });
});
