// "No root privileges needed at all when the input is a tar": disk-image-create run as the
// unprivileged user nobody (setpriv) turns a tar archive with foreign owners and a device node
// into a GPT disk whose root filesystem holds grub.cfg. Checked with sgdisk -v, e2fsck -fn
// and debugfs on the root partition; nothing boots it here (its kernel is a stand-in):
// test/slow/unprivileged.test.ts boots an image built without root.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';

const NOBODY = 65534;
const why = process.getuid?.() !== 0
  ? 'needs root to make the archive and to drop to the user nobody'
  : ['setpriv', 'sgdisk', 'e2fsck', 'debugfs', 'mknod'].find((t) => !hasTool(t));
const hostGrub = fs.existsSync('/usr/lib/grub/i386-pc/boot.img');

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-unpriv-'));
  fs.chmodSync(work, 0o755);
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('disk-image-create without root', () => {
  it.skipIf(Boolean(why) || !hostGrub)(`--root-tar vm block-device-gpt as the user nobody${why ? ` (skipped: ${why})` : ''}`, () => {
    const src = path.join(work, 'src');
    for (const d of ['boot', 'dev', 'srv', 'etc']) fs.mkdirSync(path.join(src, d), { recursive: true });
    fs.writeFileSync(path.join(src, 'boot/vmlinuz-6.1.0-test'), 'not a real kernel, enough to assemble\n');
    fs.writeFileSync(path.join(src, 'boot/initrd.img-6.1.0-test'), 'initrd\n');
    fs.writeFileSync(path.join(src, 'srv/data'), 'owned by 1234:5678\n');
    execFileSync('chown', ['1234:5678', path.join(src, 'srv/data')]);
    execFileSync('mknod', ['-m', '0666', path.join(src, 'dev/null'), 'c', '1', '3']);
    const tar = path.join(work, 'root.tar');
    execFileSync('tar', ['-C', src, '--numeric-owner', '-cpf', tar, '.']);

    const out = path.join(work, 'out');
    fs.mkdirSync(out);
    fs.chownSync(out, NOBODY, NOBODY);
    const tsx = pathToFileURL(path.join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
    const r = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups',
      process.execPath, '--import', tsx, path.join(REPO, 'src/cli/disk-image-create.ts'),
      '-n', '-t', 'raw', '-o', path.join(out, 'disk'), '--root-tar', tar, 'vm', 'block-device-gpt'], {
      encoding: 'utf8', cwd: out,
      env: { PATH: process.env.PATH, HOME: out, TMPDIR: out, NODE_OPTIONS: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    const img = path.join(out, 'disk.raw');
    expect(fs.statSync(img).uid).toBe(NOBODY);
    expect(execFileSync('sgdisk', ['-v', img], { encoding: 'utf8' })).toContain('No problems found');

    const table = JSON.parse(execFileSync('sfdisk', ['--json', img], { encoding: 'utf8' })) as
      { partitiontable: { partitions: { start: number }[] } };
    const root = `${img}?offset=${table.partitiontable.partitions.at(-1)!.start * 512}`;
    execFileSync('e2fsck', ['-fn', root], { stdio: 'pipe' });
    const stat = (p: string): string => execFileSync('debugfs', ['-R', `stat ${p}`, root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(stat('/srv/data')).toMatch(/User:\s+1234\s+Group:\s+5678/);
    expect(stat('/dev/null')).toMatch(/Type: character special/);
    expect(stat('/dev/null')).toMatch(/Device major\/minor number: 01:03/);
    expect(stat('/boot/grub/grub.cfg')).toMatch(/Type: regular/);
  });
});
