// disk-image-create's reproducibility (SOURCE_DATE_EPOCH), its output-folder checks and its
// checksum files, run as users run the command; byte equality is judged by cmp, sums by md5sum.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';

let work: string;
let env: NodeJS.ProcessEnv;
let src: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-repro-'));
  env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS, SOURCE_DATE_EPOCH: '1700000000' };
  src = path.join(work, 'root');
  fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(src, 'etc/hello'), 'same bytes\n');
  fs.mkdirSync(path.join(src, 'boot'));
  fs.writeFileSync(path.join(src, 'boot/vmlinuz-6.1.0-test'), Buffer.alloc(4096, 7)); // enough for grub.cfg
});
afterAll(() => { fs.rmSync(work, { recursive: true, force: true }); });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const has = hasTool;
const same = (a: string, b: string): boolean => spawnSync('cmp', [a, b], { stdio: 'ignore' }).status === 0;

describe('disk-image-create with SOURCE_DATE_EPOCH', () => {
  it('two builds of the same tree a second apart are byte-identical (cmp)', async () => {
    const a = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'a')], env);
    expect(a.code, a.stderr).toBe(0);
    await sleep(1100);
    const b = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'b')], env);
    expect(b.code, b.stderr).toBe(0);
    expect(same(path.join(work, 'a.raw'), path.join(work, 'b.raw'))).toBe(true);
    // dumpe2fs confirms the superblock carries the epoch, not the build time.
    const sb = execFileSync('dumpe2fs', ['-h', path.join(work, 'a.raw')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(sb).toMatch(/Filesystem created:\s+Tue Nov 14 22:13:20 2023/);
  }, 60_000);

  it.skipIf(!has('grub-mkimage'))('with vm (partition table, grub) too', async () => {
    const a = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'va'), 'vm'], env);
    expect(a.code, a.stderr).toBe(0);
    await sleep(1100);
    const b = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', path.join(work, 'vb'), 'vm'], env);
    expect(b.code, b.stderr).toBe(0);
    expect(same(path.join(work, 'va.raw'), path.join(work, 'vb.raw'))).toBe(true);
  }, 60_000);
});

describe('disk-image-create output folder checks', () => {
  it('an unwritable output folder is a clear error (exit 1) before any hook runs', async () => {
    const r = await runCli(['-t', 'raw', '-o', '/proc/sys/x', 'busybox-os'], { ...env, SOURCE_DATE_EPOCH: '' });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('cannot create files in the output folder /proc/sys');
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr + r.stdout).not.toContain('running root.d');
    expect(fs.readdirSync(work).filter((n) => n.startsWith('dib_build.'))).toEqual([]);
  });

  it.skipIf(process.getuid?.() !== 0)('a full disk is reported as NO_SPACE (exit 1), and nothing is left behind', async () => {
    const small = path.join(work, 'small');
    fs.mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      const big = path.join(work, 'bigroot');
      fs.mkdirSync(big);
      fs.writeFileSync(path.join(big, 'noise'), randomBytes(3 << 20));
      const r = await runCli(['-t', 'raw', '-n', '--root-dir', big, '-o', path.join(small, 'img')], env);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/error: writing \d+ bytes at offset \d+ of .*small\/.*failed: ENOSPC/);
      expect(r.stderr).toContain('hint: free space');
      expect(fs.readdirSync(small)).toEqual([]);
    } finally {
      execFileSync('umount', [small]);
    }
  }, 60_000);
});

const STAMPED = (base: string, ext: string) => new RegExp(`^${base}-\\d{4}\\.\\d{2}\\.\\d{2}-\\d{2}\\.\\d{2}\\.\\d{2}${ext.replace(/\./g, '\\.')}$`);

describe('an existing output: DIB\'s rule (renamed with a timestamp, or OVERWRITE_OLD_IMAGE=1 replaces it)', () => {
  it('a successful build renames the old image and its checksums NAME-YYYY.MM.DD-HH.MM.SS.raw[.md5|.sha256]', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'rename-'));
    const out = path.join(dir, 'img');
    const a = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', out, '--checksum'], env);
    expect(a.code, a.stderr).toBe(0);
    const oldBytes = fs.readFileSync(`${out}.raw`);
    const oldMd5 = fs.readFileSync(`${out}.raw.md5`, 'utf8');
    fs.writeFileSync(path.join(src, 'etc/changed'), 'second build\n');
    try {
      const b = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', out, '--checksum'], env);
      expect(b.code, b.stderr).toBe(0);
      const names = fs.readdirSync(dir).sort();
      const kept = names.find((n) => STAMPED('img', '.raw').test(n));
      expect(kept, names.join(' ')).toBeDefined();
      expect(names).toEqual([kept, `${kept}.md5`, `${kept}.sha256`, 'img.raw', 'img.raw.md5', 'img.raw.sha256'].sort());
      expect(b.stderr).toContain(`Old image found. Renamed it to ${path.join(dir, kept!)}`);
      expect(same(path.join(dir, kept!), `${out}.raw`)).toBe(false);
      expect(fs.readFileSync(path.join(dir, kept!)).equals(oldBytes)).toBe(true);
      expect(fs.readFileSync(path.join(dir, `${kept}.md5`), 'utf8')).toBe(oldMd5);
      expect(execFileSync('md5sum', ['-c', 'img.raw.md5'], { cwd: dir, encoding: 'utf8' })).toContain('img.raw: OK');
      expect(execFileSync('sha256sum', ['-c', 'img.raw.sha256'], { cwd: dir, encoding: 'utf8' })).toContain('img.raw: OK');
    } finally {
      fs.rmSync(path.join(src, 'etc/changed'));
    }
  }, 60_000);

  it('OVERWRITE_OLD_IMAGE=1 replaces it; without --checksum the old .md5/.sha256 go too', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'overwrite-'));
    const out = path.join(dir, 'sums');
    const a = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', out, '--checksum'], env);
    expect(a.code, a.stderr).toBe(0);
    expect(execFileSync('md5sum', ['-c', 'sums.raw.md5'], { cwd: dir, encoding: 'utf8' })).toContain('sums.raw: OK');
    const ino = fs.statSync(`${out}.raw`).ino;
    const b = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', out], { ...env, OVERWRITE_OLD_IMAGE: '1' });
    expect(b.code, b.stderr).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['sums.raw']);
    expect(fs.statSync(`${out}.raw`).ino).not.toBe(ino);
  }, 60_000);

  it('a build that fails leaves the old image and its checksum byte-identical and adds nothing', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'failing-'));
    const out = path.join(dir, 'keep');
    fs.writeFileSync(`${out}.raw`, 'the old image\n');
    fs.writeFileSync(`${out}.raw.md5`, 'the old sum\n');
    const r = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', out, '--image-size', '0.0002', '--checksum'], env);
    expect(r.code, r.stderr).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['keep.raw', 'keep.raw.md5']);
    expect(fs.readFileSync(`${out}.raw`, 'utf8')).toBe('the old image\n');
    expect(fs.readFileSync(`${out}.raw.md5`, 'utf8')).toBe('the old sum\n');
  }, 60_000);

  it('a lone NAME.raw.md5 without its image describes nothing: the new image\'s sum replaces it', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'lonesum-'));
    const out = path.join(dir, 'lonesum');
    fs.writeFileSync(`${out}.raw.md5`, 'someone else\n');
    const r = await runCli(['-t', 'raw', '-n', '--root-dir', src, '-o', out, '--checksum'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(execFileSync('md5sum', ['-c', 'lonesum.raw.md5'], { cwd: dir, encoding: 'utf8' })).toContain('lonesum.raw: OK');
  }, 60_000);
});

describe('disk-image-create environment.d', () => {
  it('a failing environment.d file is a ConfigError (exit 1) naming the phase and bash\'s message', async () => {
    const flavours = path.join(work, 'envflavours');
    fs.mkdirSync(path.join(flavours, 'bad-env', 'environment.d'), { recursive: true });
    fs.writeFileSync(path.join(flavours, 'bad-env', 'README.md'), '# bad-env\n');
    fs.writeFileSync(path.join(flavours, 'bad-env', 'environment.d', '10-bad.bash'), 'echo "bad-env says no" >&2\nfalse\n');
    const r = await runCli(['-t', 'raw', '--dry-run', '-n', '--root-dir', src, '-o', path.join(work, 'env'), 'bad-env'], { ...env, FLAVOURS_PATH: `${flavours}:${TEST_FLAVOURS}` });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("error: environment.d: source the flavours' environment.d files failed (bash exit 1): bad-env says no");
  });
});
