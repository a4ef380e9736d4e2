// disk-image-create's output types: -t takes a comma list and one build writes each, qcow2 is
// the default (compressed unless -u), names follow DIB, checksums come from the writers, and
// the same inputs with SOURCE_DATE_EPOCH give the same bytes. Judged by qemu-img
// (compare/check/info) and sha256sum.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';
import { qemuCheck, qemuCompare, qemuInfo } from '../container/images.js';
import { dirTree } from '../../src/tree/dir-source.js';
import { compareTrees, formatDifferences } from '../helpers/compare-tree.js';

let work: string;
let env: NodeJS.ProcessEnv;
let src: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dic-formats-'));
  env = { PATH: process.env.PATH, HOME: work, TMPDIR: work, FLAVOURS_PATH: TEST_FLAVOURS, SOURCE_DATE_EPOCH: '1700000000' };
  src = path.join(work, 'root');
  fs.mkdirSync(path.join(src, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(src, 'etc/hello'), 'hello\n'.repeat(50000));
  fs.writeFileSync(path.join(src, 'etc/random'), Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 2654435761) >>> 24)));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const sha256 = (f: string) => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];

describe.skipIf(!hasTool('qemu-img'))('disk-image-create -t (needs qemu-img: apt-get install qemu-utils)', () => {
  it('one build writes every type of a comma list; each compares identical to the raw image; checksums match', async () => {
    const out = path.join(work, 'all');
    const r = await runCli(['-n', '-t', 'qcow2,raw,vhd,vmdk', '--checksum', '--root-dir', src, '-o', out], env);
    expect(r.code, r.stderr).toBe(0);
    const raw = `${out}.raw`;
    for (const [ext, fmt] of [['qcow2', 'qcow2'], ['vhd', 'vpc'], ['vmdk', 'vmdk']] as const) {
      expect(qemuCompare(raw, `${out}.${ext}`, fmt)).toBe('Images are identical.');
      expect(qemuInfo(`${out}.${ext}`, fmt).format).toBe(fmt);
    }
    expect(qemuCheck(`${out}.qcow2`, 'qcow2').status).toBe(0);
    expect(qemuInfo(`${out}.qcow2`)['format-specific'].data['compression-type']).toBe('zlib');
    for (const ext of ['qcow2', 'raw', 'vhd', 'vmdk']) {
      expect(fs.readFileSync(`${out}.${ext}.sha256`, 'utf8')).toBe(`${sha256(`${out}.${ext}`)}  all.${ext}\n`);
      expect(execFileSync('md5sum', ['-c', `all.${ext}.md5`], { cwd: work, encoding: 'utf8' })).toContain(`all.${ext}: OK`);
    }
    expect(r.stderr).toMatch(/md5 and sha256 of .*all\.vhd computed while writing/);
    expect(fs.readdirSync(work).filter((n) => n.startsWith('.all') || n.includes('.tmp-'))).toEqual([]);
  }, 120_000);

  it('qcow2 is the default type (-o NAME gives NAME.qcow2, compressed); -o NAME.qcow2 keeps the name; -u stores clusters uncompressed', async () => {
    const a = await runCli(['-n', '--root-dir', src, '-o', path.join(work, 'dflt')], env);
    expect(a.code, a.stderr).toBe(0);
    expect(fs.existsSync(path.join(work, 'dflt.qcow2'))).toBe(true);
    expect(fs.existsSync(path.join(work, 'dflt.raw'))).toBe(false);
    const b = await runCli(['-n', '-u', '--root-dir', src, '-o', path.join(work, 'plain.qcow2')], env);
    expect(b.code, b.stderr).toBe(0);
    expect(fs.existsSync(path.join(work, 'plain.qcow2'))).toBe(true);
    expect(qemuCheck(path.join(work, 'plain.qcow2'), 'qcow2').status).toBe(0);
    // same tree, same SOURCE_DATE_EPOCH: identical guests; compressed is the smaller file
    expect(execFileSync('qemu-img', ['compare', path.join(work, 'dflt.qcow2'), path.join(work, 'plain.qcow2')], { encoding: 'utf8' }).trim()).toBe('Images are identical.');
    expect(fs.statSync(path.join(work, 'dflt.qcow2')).size).toBeLessThan(fs.statSync(path.join(work, 'plain.qcow2')).size);
    const z = await runCli(['-n', '--qemu-img-options', 'compression_type=zstd', '--root-dir', src, '-o', path.join(work, 'z')], env);
    expect(z.code, z.stderr).toBe(0);
    expect(qemuInfo(path.join(work, 'z.qcow2'))['format-specific'].data['compression-type']).toBe('zstd');
    expect(qemuCheck(path.join(work, 'z.qcow2'), 'qcow2').status).toBe(0);
    // compat=0.10, uncompressed, 128 KiB clusters; a fixed VHD
    const v2 = await runCli(['-n', '-u', '-t', 'qcow2,vhd', '--root-dir', src, '-o', path.join(work, 'old')], { ...env, QEMU_IMG_OPTIONS: 'compat=0.10,cluster_size=128k,subformat=fixed' });
    expect(v2.code, v2.stderr).toBe(0);
    const info = qemuInfo(path.join(work, 'old.qcow2'));
    expect(info['format-specific'].data.compat).toBe('0.10');
    expect(info['cluster-size']).toBe(131072);
    expect(qemuCheck(path.join(work, 'old.qcow2'), 'qcow2').status).toBe(0);
    expect(qemuInfo(path.join(work, 'old.vhd'), 'vpc')['format-specific']?.data?.['subformat'] ?? 'fixed').toBe('fixed');
    expect(fs.statSync(path.join(work, 'old.vhd')).size).toBe(qemuInfo(path.join(work, 'old.vhd'), 'vpc')['virtual-size'] + 512);
    expect(execFileSync('qemu-img', ['compare', '-F', 'vpc', path.join(work, 'old.qcow2'), path.join(work, 'old.vhd')], { encoding: 'utf8' }).trim()).toBe('Images are identical.');
  }, 120_000);

  it('same inputs and SOURCE_DATE_EPOCH: identical bytes for every type', async () => {
    for (const d of ['r1', 'r2']) {
      fs.mkdirSync(path.join(work, d));
      const r = await runCli(['-n', '-t', 'qcow2,raw,vhd,vmdk,tar,tgz', '--root-dir', src, '-o', path.join(work, d, 'same')], env);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const ext of ['qcow2', 'raw', 'vhd', 'vmdk', 'tar', 'tgz']) {
      expect(sha256(path.join(work, 'r1', `same.${ext}`)), ext).toBe(sha256(path.join(work, 'r2', `same.${ext}`)));
    }
    expect(execFileSync('grep', ['-ac', 'RW [0-9]* SPARSE "same.vmdk"', path.join(work, 'r1', 'same.vmdk')], { encoding: 'utf8' }).trim()).toBe('1');
  }, 120_000);

  it('-t tar,tgz: archives of the root tree that GNU tar extracts equal to it (times clamped to SOURCE_DATE_EPOCH)', async () => {
    const out = path.join(work, 'arch');
    const r = await runCli(['-n', '-t', 'tar,tgz', '--checksum', '--root-dir', src, '-o', out], env);
    expect(r.code, r.stderr).toBe(0);
    for (const [ext, z] of [['tar', []], ['tgz', ['-z']]] as const) {
      const x = path.join(work, `x-${ext}`);
      fs.mkdirSync(x);
      execFileSync('tar', ['-x', ...z, '-f', `${out}.${ext}`, '-C', x, '--numeric-owner', '-p', '--xattrs', '--xattrs-include=*', '--acls']);
      const tree = dirTree(src);
      try {
        const diffs = compareTrees(tree, x, { ignore: ['mtime'] });
        expect(diffs, formatDifferences(diffs)).toEqual([]);
      } finally {
        tree.close();
      }
      expect(fs.readFileSync(`${out}.${ext}.sha256`, 'utf8')).toBe(`${sha256(`${out}.${ext}`)}  arch.${ext}\n`);
      expect(fs.statSync(path.join(x, 'etc/hello')).mtimeMs).toBe(1700000000 * 1000);
    }
    expect(r.stderr).toMatch(/md5 and sha256 of .*arch\.tgz computed while writing/);
    expect(fs.statSync(`${out}.tgz`).size).toBeLessThan(fs.statSync(`${out}.tar`).size / 2);
    expect(fs.existsSync(`${out}.raw`)).toBe(false);
  }, 120_000);

  it('DIB\'s rule holds for every type: an existing output is renamed with the timestamp once all are written', async () => {
    fs.writeFileSync(path.join(work, 'taken.vhd'), 'old');
    const r = await runCli(['-n', '-t', 'qcow2,vhd', '--root-dir', src, '-o', path.join(work, 'taken')], env);
    expect(r.code, r.stderr).toBe(0);
    const kept = fs.readdirSync(work).filter((n) => /^taken-\d{4}\.\d{2}\.\d{2}-\d{2}\.\d{2}\.\d{2}\.vhd$/.test(n));
    expect(kept).toHaveLength(1);
    expect(fs.readFileSync(path.join(work, kept[0]!), 'utf8')).toBe('old');
    expect(qemuCheck(path.join(work, 'taken.qcow2'), 'qcow2').status).toBe(0);
    expect(fs.statSync(path.join(work, 'taken.vhd')).size).toBeGreaterThan(3);
  }, 60_000);
});
