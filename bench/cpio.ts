/**
 * Benchmark: `ramdisk-image-create --root-dir` (our cpio newc writer and in-process
 * compression) against the shell pipeline DIB runs, `find . | cpio -o -H newc | zstd -3 -T0`
 * and `| gzip -6`, on the same tree in the same run: alternating, `sync` before each run,
 * median of N, wall time and output size. Ours runs as the installed command does (dist/,
 * compiled by `npm run build` first), Node's start-up included; the "in-process" column is
 * the directory walk + archive + compression alone (writeInitramfs in this process), the part
 * that grows with the tree.
 * Trees: a busybox tree (the host's busybox-static with its applet links and an /init), with
 * --tree DIR another (e.g. the ramdisk flavour's tree: `cpio -idm` of an initramfs), and the
 * whole cached Debian root (test/helpers/debian-root.ts).
 * Usage: node --import tsx bench/cpio.ts [--runs 3] [--tree DIR] [--no-debian]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeInitramfs, type Compression } from '../src/assemble/initramfs.js';
import { dirTree } from '../src/tree/dir-source.js';
import { debianRootDir } from '../test/helpers/debian-root.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.join(here, '..');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 3);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cpio-'));

function busyboxTree(): string {
  const dir = path.join(work, 'busybox-tree');
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  for (const d of ['dev', 'proc', 'sys', 'etc', 'tmp']) fs.mkdirSync(path.join(dir, d));
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const applet of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    if (applet !== 'busybox') fs.symlinkSync('busybox', path.join(dir, 'bin', applet));
  }
  fs.writeFileSync(path.join(dir, 'init'), '#!/bin/sh\nexec /bin/sh\n', { mode: 0o755 });
  return dir;
}

interface Run { seconds: number; bytes: number }

function timed(script: string, out: string): Run {
  fs.rmSync(out, { force: true });
  execFileSync('sync');
  const t0 = process.hrtime.bigint();
  execFileSync('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, bytes: fs.statSync(out).size };
}

function median(xs: Run[]): Run {
  return [...xs].sort((a, b) => a.seconds - b.seconds)[Math.floor(xs.length / 2)]!;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const cli = path.join(repo, 'dist/cli/ramdisk-image-create.js');

async function inProcess(tree: string, compression: Compression, level: number, out: string): Promise<number> {
  fs.rmSync(out, { force: true });
  execFileSync('sync');
  const t0 = process.hrtime.bigint();
  const t = dirTree(tree);
  try {
    await writeInitramfs(t, out, { compression, level });
  } finally {
    t.close();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.rmSync(out, { force: true });
  return seconds;
}

async function scenario(name: string, tree: string): Promise<string[]> {
  execFileSync('sh', ['-c', `tar -cf - -C ${q(tree)} . | cat > /dev/null`]); // warm the page cache
  const count = execFileSync('sh', ['-c', `find ${q(tree)} | wc -l`], { encoding: 'utf8' }).trim();
  const mb = Number(execFileSync('du', ['-sb', tree], { encoding: 'utf8' }).split('\t')[0]) / 1e6;
  const rows: string[] = [];
  for (const [comp, level, tool] of [['zstd', 3, 'zstd -3 -T0'], ['gzip', 6, 'gzip -6']] as const) {
    const ours: Run[] = [];
    const theirs: Run[] = [];
    const own: number[] = [];
    const o = path.join(work, 'ours');
    const t = path.join(work, 'theirs.img');
    for (let i = 0; i < runs; i++) {
      ours.push(timed(`node ${q(cli)} -o ${q(o)} --root-dir ${q(tree)} --compression ${comp} --compression-level ${level}`, `${o}.initramfs`));
      theirs.push(timed(`cd ${q(tree)} && find . | cpio -o -H newc --quiet | ${tool} > ${q(t)}`, t));
      fs.rmSync(`${o}.initramfs`, { force: true });
      own.push(await inProcess(tree, comp, level, path.join(work, 'own')));
    }
    const inner = [...own].sort((x, y) => x - y)[Math.floor(own.length / 2)]!;
    const a = median(ours);
    const b = median(theirs);
    rows.push(`| ${name} (${count} entries, ${mb.toFixed(0)} MB) | ${comp} ${level} | ${a.seconds.toFixed(2)} s | ${b.seconds.toFixed(2)} s | **${(a.seconds / b.seconds).toFixed(2)}x** | ${inner.toFixed(2)} s (${(inner / b.seconds).toFixed(2)}x) | ${(a.bytes / 1e6).toFixed(2)} MB | ${(b.bytes / 1e6).toFixed(2)} MB |`);
    process.stderr.write(`${rows.at(-1)}\n  ours: ${ours.map((r) => r.seconds.toFixed(2)).join(' ')}  in-process: ${own.map((x) => x.toFixed(2)).join(' ')}  shell: ${theirs.map((r) => r.seconds.toFixed(2)).join(' ')}\n`);
  }
  return rows;
}

try {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repo, stdio: 'inherit' });
  const rows = [
    `| tree | compression | ours | find \\| cpio \\| compressor | ratio | ours in-process | our size | their size |`,
    '|---|---|---|---|---|---|---|---|',
    ...(await scenario('busybox tree', busyboxTree())),
    ...(opt('--tree') ? await scenario(path.basename(opt('--tree')!), opt('--tree')!) : []),
    ...(args.includes('--no-debian') ? [] : await scenario('Debian root', debianRootDir())),
  ];
  process.stdout.write(`median of ${runs} runs, ${os.cpus().length} cores, sync before each run\n\n${rows.join('\n')}\n`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
