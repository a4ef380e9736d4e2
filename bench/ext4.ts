/**
 * Benchmark: the in-process ext4 writer against `mke2fs -t ext4 -d` (same tree, same image
 * size, DIB's options -i 4096 -J size=64, median of N runs) and against the floor of simply
 * copying the tree (`cp -a`) and reading it (`tar -cf - | cat > /dev/null`). Peak RSS by GNU
 * time. Prints a markdown table.
 * The writer runs twice per round: under `node --import tsx` (the TypeScript is compiled at
 * every start, as in development) and as plain JavaScript compiled once by tsc beforehand (as
 * the installed command runs from dist/). Both process times include Node's start-up; the
 * "in-process" column is the writer's own scan + write + fsync as ext4-run measures it.
 * The command row runs the installed command (bin/disk-image-create.js over dist/) end to end
 * on the same tree and size, `-n -t raw --root-dir TREE --image-size BYTES`, against
 * `mke2fs -d` followed by a sync of the image file, as a user would compare them.
 * Usage: node --import tsx bench/ext4.ts [--runs 3] [--tree DIR] [--small N] [--sparse-gib N]
 *   default tree: the cached Debian 12 test root (test/helpers/debian-root.ts);
 *   --small N adds a scenario of N small files; --sparse-gib N one N GiB sparse file, read from
 *   the directory and from a pax tar of it (sparse format 1.0: its map says where the data is).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ext4SizeFor } from '../src/fs/ext4/index.js';
import { dirTree } from '../src/tree/dir-source.js';
import { debianRootDir } from '../test/helpers/debian-root.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const runs = Number(opt('--runs') ?? 3);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ext4-'));

interface Timed { seconds: number; rssKiB: number; inProcess?: number }

/** Runs a command under GNU time; returns wall seconds, peak RSS and (ext4-run) its own ms. */
function timed(cmd: string, argv: string[], shell = false): Timed {
  const out = path.join(work, 'time.txt');
  const full = shell ? ['sh', '-c', argv[0]!] : [cmd, ...argv];
  const stdout = execFileSync('/usr/bin/time', ['-o', out, '-f', '%e %M', ...full], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  const [s, m] = fs.readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2);
  const ms = /"ms":([0-9.]+)/.exec(stdout)?.[1];
  return { seconds: Number(s), rssKiB: Number(m), ...(ms ? { inProcess: Number(ms) / 1000 } : {}) };
}

/**
 * ext4-run.ts and the sources it imports compiled to JavaScript by tsc, under node_modules/
 * (so its packages resolve); returns the script to run.
 */
function compileRunner(): string {
  const out = path.join(here, '..', 'node_modules', '.cache', `bench-ext4-${process.pid}`);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, path.join(here, 'ext4-run.ts'), '--outDir', out, '--rootDir', path.join(here, '..'),
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', '--skipLibCheck'], { stdio: 'inherit' });
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}\n');
  cleanups.push(() => fs.rmSync(out, { recursive: true, force: true }));
  return path.join(out, 'bench', 'ext4-run.js');
}
const cleanups: (() => void)[] = [];

function median(xs: Timed[]): Timed {
  const s = [...xs].sort((a, b) => a.seconds - b.seconds);
  return s[Math.floor(s.length / 2)]!;
}

/** `src` for mke2fs and the floors; `ourSrc` (a directory or a .tar) for our writer, default `src`. */
function scenario(name: string, src: string, ourSrc = src): string[] {
  const tree = dirTree(src);
  const size = ext4SizeFor(tree, { inodeRatio: 4096, journalSize: 64 << 20 });
  const count = tree.entries.length;
  tree.close();
  const img = path.join(work, 'img');
  const dst = path.join(work, 'copy');
  execFileSync('sh', ['-c', `tar -cf - -C "${src}" . | cat > /dev/null`]); // warm the page cache
  const res: Record<string, Timed[]> = { ours: [], oursJs: [], cmd: [], mke2fs: [], mke2fsSync: [], cp: [], tar: [] };
  const cmdSrc = ourSrc.endsWith('.tar') ? ['--root-tar', ourSrc] : ['--root-dir', ourSrc];
  // The command against mke2fs -d + sync, alternating, in a loop of their own: the floors below
  // (cp -a of the whole tree) leave the host filesystem busy for the runs after them.
  for (let i = 0; i < runs; i++) {
    fs.rmSync(img + '.raw', { force: true });
    execFileSync('sync');
    res.cmd!.push(timed('node', [path.join(here, '..', 'bin', 'disk-image-create.js'), '-n', '-t', 'raw', ...cmdSrc, '--image-size', `${size}B`, '-o', img]));
    fs.rmSync(img + '.raw', { force: true });
    fs.rmSync(img, { force: true });
    fs.writeFileSync(img, '');
    fs.truncateSync(img, size);
    execFileSync('sync');
    res.mke2fsSync!.push(timed('sh', [`mke2fs -q -F -t ext4 -b 4096 -I 256 -i 4096 -J size=64 -d "${src}" "${img}" && sync "${img}"`], true));
    process.stderr.write(`run ${i + 1}: command ${res.cmd!.at(-1)!.seconds.toFixed(2)} s, mke2fs -d + sync ${res.mke2fsSync!.at(-1)!.seconds.toFixed(2)} s\n`);
    fs.rmSync(img, { force: true });
  }
  for (let i = 0; i < runs; i++) {
    fs.rmSync(img, { force: true });
    execFileSync('sync');
    res.ours!.push(timed('node', ['--import', 'tsx', path.join(here, 'ext4-run.ts'), ourSrc, img, String(size)]));
    fs.rmSync(img, { force: true });
    execFileSync('sync');
    res.oursJs!.push(timed('node', [runner, ourSrc, img, String(size)]));
    fs.rmSync(img, { force: true });
    fs.writeFileSync(img, '');
    fs.truncateSync(img, size);
    execFileSync('sync');
    res.mke2fs!.push(timed('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', '-I', '256', '-i', '4096', '-J', 'size=64', '-d', src, img]));
    fs.rmSync(dst, { recursive: true, force: true });
    res.cp!.push(timed('sh', [`cp -a "${src}" "${dst}" && sync -f "${dst}"`], true));
    res.tar!.push(timed('sh', [`tar -cf - -C "${src}" . | cat > /dev/null`], true));
  }
  fs.rmSync(img, { force: true });
  fs.rmSync(dst, { recursive: true, force: true });
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v)])) as Record<string, Timed>;
  const ratio = (a: number, b: number) => (b > 0.005 ? `${(a / b).toFixed(2)}x` : '-');
  const row = (label: string, t: Timed) =>
    `| ${name} | ${label} | ${t.seconds.toFixed(2)} | ${ratio(t.seconds, m.mke2fs!.seconds)} | ${ratio(t.seconds, m.cp!.seconds)} | ${(t.rssKiB / 1024).toFixed(0)} | ${t.inProcess?.toFixed(2) ?? '-'} |`;
  return [
    row(`diskimage-ts writer, node --import tsx (${count} entries, ${(size / 2 ** 20).toFixed(0)} MiB fs)`, m.ours!),
    row('diskimage-ts writer, compiled JS', m.oursJs!),
    row('mke2fs -t ext4 -d', m.mke2fs!),
    `| ${name} | disk-image-create -n -t raw --root-dir (the command, end to end) | ${m.cmd!.seconds.toFixed(2)} | ${ratio(m.cmd!.seconds, m.mke2fsSync!.seconds)} vs mke2fs -d + sync | ${ratio(m.cmd!.seconds, m.cp!.seconds)} | ${(m.cmd!.rssKiB / 1024).toFixed(0)} | - |`,
    row('mke2fs -t ext4 -d, then sync of the image file', m.mke2fsSync!),
    row('floor: cp -a (+ sync)', m.cp!),
    row('floor: tar -cf - | cat', m.tar!),
  ];
}

const lines = ['| tree | tool | seconds (median of ' + runs + ') | vs mke2fs -d | vs cp -a | peak RSS MiB | in-process s |', '|---|---|---|---|---|---|---|'];
let runner = '';
try {
  runner = compileRunner();
  lines.push(...scenario('Debian 12 root', opt('--tree') ?? debianRootDir()));
  const small = opt('--small');
  if (small) {
    const d = path.join(work, 'small');
    fs.mkdirSync(d);
    for (let i = 0; i < Number(small); i++) {
      const sub = path.join(d, `d${i % 100}`);
      if (i < 100) fs.mkdirSync(sub);
      fs.writeFileSync(path.join(sub, `f${i}`), `small file ${i}\n`);
    }
    lines.push(...scenario(`${small} small files`, d));
  }
  const sparse = opt('--sparse-gib');
  if (sparse) {
    const d = path.join(work, 'sparse');
    fs.mkdirSync(d);
    const fd = fs.openSync(path.join(d, 'big'), 'w');
    fs.writeSync(fd, Buffer.from('start'), 0, 5, 0);
    fs.writeSync(fd, Buffer.from('end'), 0, 3, Number(sparse) * 2 ** 30 - 3);
    fs.closeSync(fd);
    lines.push(...scenario(`one ${sparse} GiB sparse file`, d));
    const t = path.join(work, 'sparse.tar');
    execFileSync('tar', ['--format=pax', '-S', '--sparse-version=1.0', '-C', d, '-cf', t, '.']);
    lines.push(...scenario(`one ${sparse} GiB sparse file, ours from a pax tar`, d, t));
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
  for (const c of cleanups) c();
}
console.log(lines.join('\n'));
