// Hostile inputs to ramdisk-image-create: the path options it shares with disk-image-create
// and its own --early-dir, endless tar inputs and an unwritable log.
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClearError, runBin, workFolder } from '../helpers/hostile.js';

const work = workFolder('hostile-ric-');
let root: string;
beforeAll(() => {
  root = path.join(work.dir, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/hostname'), 'hostile\n');
});
afterAll(() => work.remove());

const ramdisk = (...args: string[]) => runBin('ramdisk-image-create', args, { env: { TMPDIR: work.dir }, cwd: work.dir });

describe('ramdisk-image-create', () => {
  it.each([
    ['a directory', () => work.dir, /is a directory, not a file to write the log to/],
    ['an empty name', () => '', /expected a file name but it is empty/],
    ['a file in a missing folder', () => path.join(work.dir, 'no/log'), /the folder .* does not exist/],
    ['a file under /proc', () => '/proc/version', /is on procfs/],
  ])('refuses --logfile naming %s', (_what, file, words) => {
    expectClearError(ramdisk('--root-dir', root, '--logfile', file(), '-o', path.join(work.dir, 'r')), 1, words);
    expect(work.buildFolders()).toEqual([]);
  });

  it('refuses --root-tar of /dev/zero or a folder, and --early-dir naming a file', () => {
    expectClearError(ramdisk('--root-tar', '/dev/zero', '-o', path.join(work.dir, 'z')), 1, /\/dev\/zero is a character device, not a tar archive/);
    expectClearError(ramdisk('--root-tar', root, '-o', path.join(work.dir, 'z')), 1, /is a directory, not a tar archive/);
    expectClearError(ramdisk('--root-dir', root, '--early-dir', path.join(root, 'etc/hostname'), '-o', path.join(work.dir, 'z')), 1, /--early-dir: .* is a regular file, not a directory/);
  });

  it('-o naming a folder is refused', () => {
    expectClearError(ramdisk('--root-dir', root, '-o', `${work.dir}/`), 1, /names a folder, not an image name/);
  });

  it('reads a tar from a FIFO that gets a writer', () => {
    const fifo = path.join(work.dir, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    const tar = path.join(work.dir, 'root.tar');
    execFileSync('tar', ['-cf', tar, '-C', root, '.']);
    // A writer started beside the command: cat copies the tar into the FIFO once it is opened.
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', tar, fifo], { stdio: 'ignore' });
    const r = ramdisk('--root-tar', fifo, '-o', path.join(work.dir, 'fromfifo'));
    writer.kill();
    expect(r.code, r.stderr).toBe(0);
    expect(fs.statSync(path.join(work.dir, 'fromfifo.initramfs')).size).toBeGreaterThan(0);
  });
});
