// disk-image-create as users run it: --help/--version, --dry-run, clear errors, and a build
// straight from --root-dir with no hooks (no root needed), checked with e2fsck and debugfs.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';

let work: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-cli-'));
  env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS };
});
afterAll(() => { fs.rmSync(work, { recursive: true, force: true }); });

const has = hasTool;

describe('disk-image-create command', () => {
  it('--help documents options and variables; --version prints the version', async () => {
    const h = await runCli(['--help'], env);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: disk-image-create [OPTION]... FLAVOUR...');
    expect(h.stdout).toContain('--image-size SIZE');
    expect(h.stdout).toContain('OVERWRITE_OLD_IMAGE');
    const v = await runCli(['--version'], env);
    expect(v.stdout).toMatch(/^disk-image-create \(diskimage-ts\) \d+\.\d+\.\d+\n$/);
  });

  it('--dry-run lists flavours, hooks per phase in run order, first-boot.d and the layout plan', async () => {
    const r = await runCli(['-t', 'raw', '--dry-run', '-o', path.join(work, 'x'), 'vm', 'busybox-os', 'test-markers'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('flavours: base block-device-mbr bootloader busybox-os test-markers vm');
    expect(r.stdout).toContain('operating-system provided by busybox-os');
    expect(r.stdout).toMatch(/root\.d \(outside\):\n {2}10-busybox-root {2}\[busybox-os\]/);
    expect(r.stdout).toMatch(/install\.d \(chroot\):\n {2}50-test-markers {2}\[test-markers\]/);
    expect(r.stdout).toContain('first-boot.d (at the image\'s first boot): 50-marker');
    expect(r.stdout).toContain('layout: flavour block-device-mbr (block-device-default.yaml)');
    expect(r.stdout).toContain('LABEL=cloudimg-rootfs / ext4 defaults 0 1');
    expect(fs.readdirSync(work).filter((n) => n.startsWith('dib_'))).toEqual([]);
  });

  it('errors: unknown flavour with nearest match, unsupported type, missing OS', async () => {
    const a = await runCli(['-t', 'raw', 'busybx-os'], env);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("disk-image-create: error: unknown flavour 'busybx-os'");
    expect(a.stderr).toContain("did you mean 'busybox-os'?");
    const b = await runCli(['-t', 'squashfs', 'busybox-os'], env);
    expect(b.stderr).toContain("output type 'squashfs' is not supported yet");
    const d = await runCli(['-t', 'raw', 'test-markers'], env);
    expect(d.stderr).toContain('no operating-system flavour selected');
    expect(d.stderr).toContain('busybox-os');
    // none of them got far enough to write an image into its working folder (no -o given)
    for (const r of [a, b, d]) expect(r.leftInCwd).toEqual([]);
  });

  it.skipIf(!has('e2fsck') || !has('debugfs'))('--root-dir without hooks goes straight to the assembler: a bare ext4 image, input untouched', async () => {
    const src = path.join(work, 'rootsrc');
    fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(src, 'etc/hello'), 'hello from root-dir\n');
    const before = execFileSync('find', [src, '-printf', '%p %s %m %T@\\n'], { encoding: 'utf8' });
    const out = path.join(work, 'bare');
    const logfile = path.join(work, 'build.log');
    const r = await runCli(['-t', 'raw', '-n', '-o', `${out}.raw`, '--root-dir', src, '--root-label', 'testroot', '--checksum', '--logfile', logfile], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('no flavour has hooks: the given root tree goes straight to the assembler');
    expect(fs.readFileSync(logfile, 'utf8')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z wrote .*bare\.raw \(\d+ bytes\)$/m);
    execFileSync('e2fsck', ['-fn', `${out}.raw`], { stdio: 'pipe' });
    expect(execFileSync('debugfs', ['-R', 'cat /etc/hello', `${out}.raw`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('hello from root-dir\n');
    expect(execFileSync('e2label', [`${out}.raw`], { encoding: 'utf8' }).trim()).toBe('testroot');
    const sha = execFileSync('sha256sum', [`${out}.raw`], { encoding: 'utf8' }).split(' ')[0];
    expect(fs.readFileSync(`${out}.raw.sha256`, 'utf8')).toBe(`${sha}  bare.raw\n`);
    expect(execFileSync('md5sum', ['-c', `${out}.raw.md5`], { cwd: work, encoding: 'utf8' })).toContain('bare.raw: OK');
    expect(execFileSync('find', [src, '-printf', '%p %s %m %T@\\n'], { encoding: 'utf8' })).toBe(before);
    expect(fs.readdirSync(work).filter((n) => n.startsWith('dib_build.') || n.startsWith('.bare'))).toEqual([]);
  });

  it.skipIf(!has('debugfs'))('--root-tar without hooks reads the archive directly', async () => {
    const src = path.join(work, 'tarsrc');
    fs.mkdirSync(path.join(src, 'srv'), { recursive: true });
    fs.writeFileSync(path.join(src, 'srv/data'), 'from the tar\n');
    const tar = path.join(work, 'root.tar');
    execFileSync('tar', ['-C', src, '--numeric-owner', '-cf', tar, '.']);
    const out = path.join(work, 'fromtar');
    const r = await runCli(['-t', 'raw', '-n', '-o', out, '--root-tar', tar], env);
    expect(r.code, r.stderr).toBe(0);
    expect(execFileSync('debugfs', ['-R', 'cat /srv/data', `${out}.raw`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('from the tar\n');
  });

  it.skipIf(process.getuid?.() !== 0 || !has('busybox'))('--root-dir with chroot hooks runs them on a copy; the input is never modified', async () => {
    const src = path.join(work, 'bbroot');
    // A busybox root made by the busybox-os flavour's own root.d script.
    fs.mkdirSync(src);
    execFileSync(path.join(TEST_FLAVOURS, 'busybox-os/root.d/10-busybox-root'), [], { env: { ...env, TARGET_ROOT: src } as NodeJS.ProcessEnv });
    const before = execFileSync('find', [src, '-printf', '%p %s %m %T@\\n'], { encoding: 'utf8' });
    const out = path.join(work, 'copied');
    const r = await runCli(['-t', 'raw', '-o', out, '--root-dir', src, 'test-markers'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('DIB-TS-INSTALL-MARKER');
    expect(execFileSync('debugfs', ['-R', 'cat /etc/dib-ts-install-marker', `${out}.raw`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toBe('install-marker-0\n');
    expect(execFileSync('find', [src, '-printf', '%p %s %m %T@\\n'], { encoding: 'utf8' })).toBe(before);
  });
});
