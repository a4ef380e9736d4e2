/**
 * ramdisk-image-create from a ready tree (--root-dir, --root-tar, no flavour): NAME.initramfs
 * alone, checked by zstd/gzip and GNU cpio; the same tree as a folder and as a tar gives the
 * same bytes; -u, --compression, --early-dir; an existing output is renamed NAME-DATE as
 * DIB does; bad values are named.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCpio } from '../../src/archive/cpio-reader.js';
import { runCli } from '../helpers/cli-run.js';
import { hasTool, mustRun } from '../helpers/tools.js';

const why = ['zstd', 'gzip', 'cpio', 'tar'].find((t) => !hasTool(t));
const rd = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(args, { PATH: process.env.PATH, HOME: os.tmpdir(), ...env }, { command: 'ramdisk-image-create', timeoutMs: 120_000 });

describe.skipIf(why !== undefined)(`ramdisk-image-create --root-dir/--root-tar (${why ? `${why} is not installed: run scripts/setup-host.sh` : 'tools present'})`, () => {
  let work: string;
  let tree: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-rdcli-'));
    tree = path.join(work, 'tree');
    fs.mkdirSync(path.join(tree, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(tree, 'etc'));
    fs.writeFileSync(path.join(tree, 'init'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
    fs.writeFileSync(path.join(tree, 'etc/data'), Buffer.alloc(300_000, 'abc'));
    fs.symlinkSync('../init', path.join(tree, 'bin/sh'));
    fs.linkSync(path.join(tree, 'etc/data'), path.join(tree, 'etc/data-link'));
    execFileSync('find', [tree, '-exec', 'touch', '-h', '-d', '2024-01-02 03:04:05 UTC', '{}', '+']);
    execFileSync('tar', ['--numeric-owner', '-C', tree, '-cf', path.join(work, 'tree.tar'), '.']);
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('--root-dir writes NAME.initramfs alone (zstd); cpio lists the tree; a second run keeps the first as NAME-DATE.initramfs (DIB\'s rule)', async () => {
    const out = path.join(work, 'one');
    const r = await rd(['-o', out, '--root-dir', tree]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(work).filter((n) => n.includes('one'))).toEqual(['one.initramfs']);
    mustRun('zstd', ['-t', '-q', `${out}.initramfs`]);
    const listing = mustRun('sh', ['-c', 'zstd -dc "$1" | cpio -it --quiet', 'l', `${out}.initramfs`]);
    expect(listing).toBe(['.', 'bin', 'bin/sh', 'etc', 'etc/data', 'etc/data-link', 'init', ''].join('\n'));
    const before = fs.readFileSync(`${out}.initramfs`);
    const again = await rd(['-o', out, '--root-dir', tree, '--compression', 'gzip']);
    expect(again.code, again.stderr).toBe(0);
    const kept = fs.readdirSync(work).filter((n) => n.includes('one')).sort();
    expect(kept).toEqual([expect.stringMatching(/^one-\d{4}\.\d\d\.\d\d-\d\d\.\d\d\.\d\d\.initramfs$/), 'one.initramfs']);
    expect(Buffer.compare(fs.readFileSync(path.join(work, kept[0]!)), before)).toBe(0);
    mustRun('gzip', ['-t', `${out}.initramfs`]);
  });

  it('the same tree as --root-tar gives the same bytes; -u writes the archive uncompressed', async () => {
    const a = path.join(work, 'dir');
    const b = path.join(work, 'tar');
    expect((await rd(['-o', a, '-u', '--root-dir', tree])).code).toBe(0);
    const t = await rd(['-o', b, '-u', '--root-tar', path.join(work, 'tree.tar')]);
    expect(t.code, t.stderr).toBe(0);
    const bytes = fs.readFileSync(`${a}.initramfs`);
    expect(Buffer.compare(bytes, fs.readFileSync(`${b}.initramfs`))).toBe(0);
    expect(readCpio(bytes)[0]!.entries.find((e) => e.name === 'init')!.header.c_mtime).toBe(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
  });

  it('--compression gzip with a level, SOURCE_DATE_EPOCH clamps times; --early-dir goes first, uncompressed', async () => {
    const out = path.join(work, 'gz');
    const early = path.join(work, 'early');
    fs.mkdirSync(path.join(early, 'kernel/x86/microcode'), { recursive: true });
    fs.writeFileSync(path.join(early, 'kernel/x86/microcode/GenuineIntel.bin'), 'not really microcode');
    const r = await rd(['-o', out, '--root-dir', tree, '--compression', 'gzip', '--compression-level', '9', '--early-dir', early], { SOURCE_DATE_EPOCH: '1600000000' });
    expect(r.code, r.stderr).toBe(0);
    const file = fs.readFileSync(`${out}.initramfs`);
    const [first] = readCpio(file.subarray(0, file.indexOf(Buffer.from([0x1f, 0x8b]))));
    expect(first!.entries.map((e) => e.name)).toContain('kernel/x86/microcode/GenuineIntel.bin');
    const mainStart = file.indexOf(Buffer.from([0x1f, 0x8b]));
    const main = execFileSync('gzip', ['-dc'], { input: file.subarray(mainStart) });
    expect(Math.max(...readCpio(main)[0]!.entries.map((e) => e.header.c_mtime))).toBe(1_600_000_000);
  });

  it('--dry-run with flavours: both outputs, the ramdisk flavour first among the added ones, its hooks; nothing written', async () => {
    const out = path.join(work, 'dry');
    const r = await rd(['-o', out, '--dry-run', '--compression', 'xz', 'debian-minimal']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`output: ${out}.kernel\noutput: ${out}.initramfs\ncompression: xz\n`);
    expect(r.stdout).toMatch(/^flavours: .*\bramdisk\b/m);
    expect(r.stdout).toMatch(/99-build-ramdisk {2}\[ramdisk\]/);
    expect(fs.readdirSync(work).filter((n) => n.includes('dry'))).toEqual([]);
  });

  it('names bad values and refuses a ramdisk with no flavour and no tree', async () => {
    const bad = await rd(['-o', path.join(work, 'bad'), '--root-dir', tree, '--compression', 'lz4']);
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining("--compression: unknown compression 'lz4'")]);
    const lvl = await rd(['-o', path.join(work, 'bad'), '--root-dir', tree, '--compression-level', '22']);
    expect(lvl.stderr).toContain('zstd level 22 is not supported');
    const none = await rd(['-o', path.join(work, 'bad')]);
    expect(none.code).toBe(2);
    expect(fs.readdirSync(work).filter((n) => n.includes('bad'))).toEqual([]);
  });
});
