// Hostile inputs to disk-image-create: every bad path option, endless or blocking inputs,
// values that would break the image's fstab, and SIGTERM while the build waits on a FIFO.
// Each must end in a clear error (exit 1, 2 for usage) with nothing left behind, or a result.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';
import { expectClearError, runBin, workFolder } from '../helpers/hostile.js';

const work = workFolder('hostile-dic-');
let env: NodeJS.ProcessEnv;
let root: string;
beforeAll(() => {
  env = { TMPDIR: work.dir, HOME: work.dir };
  root = path.join(work.dir, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/hostname'), 'hostile\n');
});
afterAll(() => work.remove());

const build = (...args: string[]) => runBin('disk-image-create', ['-n', '-t', 'raw', '--root-dir', root, ...args], { env, cwd: work.dir });

describe('disk-image-create --logfile', () => {
  it.each([
    ['a directory', () => work.dir, /--logfile: .* is a directory, not a file to write the log to/],
    ['an empty name', () => '', /--logfile: expected a file name but it is empty/],
    ['a file in a missing folder', () => path.join(work.dir, 'no/such/log'), /--logfile: the folder .*no\/such of .* does not exist/],
    ['a file under /proc', () => '/proc/version', /--logfile: \/proc\/version is on procfs/],
  ])('refuses %s before anything is made (also with --dry-run)', (_what, file, words) => {
    for (const dry of [[], ['--dry-run']]) {
      const r = build('--logfile', file(), '-o', path.join(work.dir, 'img'), ...dry);
      expectClearError(r, 1, words);
      expect(work.buildFolders()).toEqual([]);
    }
  });

  it('a log that cannot be written mid-build (/dev/full: ENOSPC) ends the build: exit 1, no build folder, no image', () => {
    const r = build('--logfile', '/dev/full', '-o', path.join(work.dir, 'full'));
    expectClearError(r, 1, /--logfile \/dev\/full: writing the log failed \(ENOSPC\)/);
    expect(work.buildFolders()).toEqual([]);
    expect(fs.readdirSync(work.dir).filter((n) => n.includes('full'))).toEqual([]);
  });

  it('a FIFO nobody reads is refused at once instead of waiting for a reader', () => {
    const fifo = path.join(work.dir, 'log.fifo');
    execFileSync('mkfifo', [fifo]);
    expectClearError(build('--logfile', fifo, '-o', path.join(work.dir, 'img')), 1, /log\.fifo is a FIFO that nobody reads/);
  });
});

describe('disk-image-create output names and inputs', () => {
  it.each([['.'], ['sub/'], ['..']])('-o %j names a folder: refused', (name) => {
    fs.mkdirSync(path.join(work.dir, 'sub'), { recursive: true });
    expectClearError(build('-o', name), 1, /-o: '.*' (names a folder|is a directory), not an image name/);
  });

  it('-o naming an existing directory is refused', () => {
    expectClearError(build('-o', root), 1, /is a directory, not an image name/);
  });

  it('--root-tar of a character device (/dev/zero) or a directory is refused, not read forever', () => {
    const o = ['-o', path.join(work.dir, 'tar')];
    expectClearError(runBin('disk-image-create', ['-n', '-t', 'raw', '--root-tar', '/dev/zero', ...o], { env }), 1, /--root-tar: \/dev\/zero is a character device, not a tar archive/);
    expectClearError(runBin('disk-image-create', ['-n', '-t', 'raw', '--root-tar', root, ...o], { env }), 1, /is a directory, not a tar archive/);
    expectClearError(runBin('disk-image-create', ['-n', '-t', 'raw', '--root-tar', path.join(work.dir, 'none.tar'), ...o], { env }), 1, /none\.tar does not exist/);
  });

  it('--root-dir naming a file is refused', () => {
    expectClearError(runBin('disk-image-create', ['-n', '--root-dir', path.join(root, 'etc/hostname')], { env }), 1, /--root-dir: .* is a regular file, not a directory/);
  });

  it('--block-device-config file:// of /dev/zero, a FIFO or a too large file is refused at once', () => {
    const fifo = path.join(work.dir, 'layout.fifo');
    execFileSync('mkfifo', [fifo]);
    const big = path.join(work.dir, 'big.yaml');
    fs.writeFileSync(big, `# ${'x'.repeat(2 << 20)}\n`);
    expectClearError(build('--dry-run', '--block-device-config', 'file:///dev/zero'), 1, /\/dev\/zero is a character device, not a layout file/);
    expectClearError(build('--dry-run', '--block-device-config', `file://${fifo}`), 1, /is a FIFO, not a layout file/);
    expectClearError(build('--dry-run', '--block-device-config', `file://${big}`), 1, /a layout file may have at most 1048576 bytes/);
  });
});

describe('disk-image-create values written into the image', () => {
  it('a newline in --root-label (or DIB_ROOT_LABEL) is refused with the rule it breaks', () => {
    expectClearError(build('--root-label', 'a\nb', '-o', path.join(work.dir, 'nl')), 1, /--root-label: "a\\nb" holds a newline: the label is written into \/etc\/fstab/);
    const r = runBin('disk-image-create', ['-n', '--root-dir', root, '-o', path.join(work.dir, 'nl')], { env: { ...env, DIB_ROOT_LABEL: 'x\ty' } });
    expectClearError(r, 1, /DIB_ROOT_LABEL: "x\\ty" holds a tab/);
  });

  it('a layout whose fstab options hold a newline is refused', () => {
    const layout = '- local_loop:\n    name: image0\n- mkfs:\n    name: mkfs_root\n    base: image0\n    type: ext4\n    mount:\n      mount_point: /\n      fstab:\n        options: "defaults\\n/dev/sda1 /x ext4 defaults 0 0"\n';
    expectClearError(build('--dry-run', '--block-device-config', layout), 1, /fstab options .* holds a newline: fstab\(5\) takes them as one field/);
  });
});

describe('disk-image-create stopped while it waits on a FIFO --root-tar', () => {
  it('SIGTERM ends the process (exit 143) and removes the build folder, though the FIFO never gets a writer', async () => {
    const fifo = path.join(work.dir, 'never.tar');
    execFileSync('mkfifo', [fifo]);
    // -n: no flavour has hooks, so the image writer's thread itself waits on the FIFO.
    const child = spawn(process.execPath, [path.join(REPO, 'bin/disk-image-create.js'), '-n', '-t', 'raw', '--root-tar', fifo, '-o', path.join(work.dir, 'fifo')], {
      env: { PATH: process.env.PATH, ...env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/layout: /.test(stderr)) resolve();
      });
      child.stdout.resume();
    });
    // The writer is given its job right after the layout line; let it reach the FIFO.
    await new Promise((r) => setTimeout(r, 500));
    expect(work.buildFolders().length).toBe(1);
    child.kill('SIGTERM');
    const r = await ended;
    expect(r, stderr).toEqual({ code: 143, signal: null });
    expect(stderr).toContain('received SIGTERM');
    expect(work.buildFolders()).toEqual([]);
    expect(fs.readdirSync(work.dir).filter((n) => n.includes('fifo.raw'))).toEqual([]);
  }, 60_000);
});
