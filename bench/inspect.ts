/**
 * Benchmark: the kernel and initrd out of a Debian raw image (the cached Debian 12 root
 * assembled by assembleImage into the shipped mbr layout), end to end as a user runs it:
 *   ours:    `node bin/disk-image-get-kernel.js -i IMAGE -d OUT` (compiled dist/; Node's
 *            start-up included): finds the table, the root, the files, and copies them;
 *            also on the same image as compressed qcow2 (`qemu-img convert -c -O qcow2`)
 *   debugfs: `debugfs -f CMDS IMAGE?offset=N` with two `dump` commands, given the offset and
 *            both file names (what ours has to find out for itself)
 *   mount:   losetup -r -o N --sizelimit S; mount -o ro; cp both files; umount; losetup -d
 * Alternating, `sync` and dropped outputs before each run; medians of RUNS. Besides wall time,
 * the CPU time (user + system, GNU time) of each: on a shared machine the wall time mostly
 * measures the wait for a core, the CPU time what the tool itself costs.
 * With LINE arguments (Node major versions), ours and `node -e 0` also run on each of those
 * Node lines (binaries from the npm registry through scripts/node-line.sh), in the same
 * alternation, and a second table gives each line's ratio to debugfs.
 * Usage: node --import tsx bench/inspect.ts [RUNS] [LINE...]   (root; builds dist/ with tsc first)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleImage } from '../src/assemble/assemble.js';
import { loadLayout } from '../src/layout/plan.js';
import { dirTree } from '../src/tree/dir-source.js';
import { debianRootDir } from '../test/helpers/debian-root.js';

const RUNS = Number(process.argv[2] ?? 9);
const LINES = process.argv.slice(3);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-inspect-'));
const out = path.join(work, 'out');

execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'inherit' });
execFileSync('node', ['scripts/bundle.mjs'], { cwd: repo, stdio: 'inherit' });
const img = path.join(work, 'debian.raw');
const tree = dirTree(debianRootDir());
const r = await assembleImage({ tree, output: img, layout: loadLayout('mbr'), bootloader: true, seed: '1700000000', format: 'raw' });
tree.close();
const root = r.plan.filesystems.find((f) => f.mountPoint === '/')!;
const offset = root.offset;
const fsSize = root.size;
const bootNames = fs.readdirSync(path.join(debianRootDir(), 'boot'));
const version = bootNames.filter((n) => n.startsWith('vmlinuz-')).map((n) => n.slice(8)).sort().at(-1)!;
const kernel = `/boot/vmlinuz-${version}`;
const initrd = `/boot/initrd.img-${version}`;
const bytes = fs.statSync(path.join(debianRootDir(), kernel)).size + fs.statSync(path.join(debianRootDir(), initrd)).size;

function fresh(): void {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out);
  execFileSync('sync');
}

/** Runs `argv` under GNU time: wall seconds (measured here) and CPU seconds (user + system). */
function timed(argv: string[]): { wall: number; cpu: number } {
  fresh();
  const cpuFile = path.join(work, 'cpu');
  const t0 = performance.now();
  const p = spawnSync('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', ...argv], { stdio: ['ignore', 'ignore', 'inherit'] });
  const wall = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`${argv.join(' ')} exited ${p.status}`);
  const [u, sys] = fs.readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { wall, cpu: u! + sys! };
}

const ours = [process.execPath, path.join(repo, 'bin/disk-image-get-kernel.js'), '-i', img, '-d', out];
const qcow2 = path.join(work, 'debian.qcow2');
execFileSync('qemu-img', ['convert', '-c', '-O', 'qcow2', img, qcow2]);
const oursQcow2 = [process.execPath, path.join(repo, 'bin/disk-image-get-kernel.js'), '-i', qcow2, '-d', out];
const cmds = path.join(work, 'debugfs.cmds');
fs.writeFileSync(cmds, `dump ${kernel} ${out}/baremetal-vmlinuz\ndump ${initrd} ${out}/baremetal-initrd\n`);
const debugfs = ['debugfs', '-f', cmds, `${img}?offset=${offset}`];
const mnt = path.join(work, 'mnt');
fs.mkdirSync(mnt);
// One shell for the whole mount dance, so GNU time counts every step.
const mountScript = `set -e; dev=$(losetup -r -o ${offset} --sizelimit ${fsSize} --show -f '${img}'); mount -o ro -t ext4 "$dev" '${mnt}'; `
  + `cp '${mnt}${kernel}' '${out}/baremetal-vmlinuz'; cp '${mnt}${initrd}' '${out}/baremetal-initrd'; umount '${mnt}'; losetup -d "$dev"`;
const mount = ['sh', '-c', mountScript];
const node = [process.execPath, '-e', '0'];

const runs: Record<string, Array<{ wall: number; cpu: number }>> = { ours: [], qcow2: [], debugfs: [], mount: [], node: [] };
const tools: Array<[string, string[]]> = [['ours', ours], ['qcow2', oursQcow2], ['debugfs', debugfs], ['mount', mount], ['node', node]];
/** Each extra line's node binary and version. */
const lines = LINES.map((l) => {
  const bin = execFileSync('bash', [path.join(repo, 'scripts/node-line.sh'), l], { encoding: 'utf8' }).trim();
  const exe = path.join(bin, 'node');
  return { exe, version: execFileSync(exe, ['--version'], { encoding: 'utf8' }).trim() };
});
for (const l of lines) {
  tools.push([`ours ${l.version}`, [l.exe, ...ours.slice(1)]], [`node ${l.version}`, [l.exe, '-e', '0']]);
  runs[`ours ${l.version}`] = [];
  runs[`node ${l.version}`] = [];
}
for (let i = 0; i < RUNS; i++) for (const [name, argv] of tools) runs[name]!.push(timed(argv));
// The outputs of the last run of ours are the files: check them against the tree.
for (const argv of [ours, oursQcow2]) {
  timed(argv);
  for (const [f, src] of [['baremetal-vmlinuz', kernel], ['baremetal-initrd', initrd]] as const) {
    if (!fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(debianRootDir(), src)))) throw new Error(`${f} differs from ${src}`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const wall = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v.map((x) => x.wall))]));
const cpu = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v.map((x) => x.cpu))]));
process.stdout.write(`Debian 12 raw image (${(r.size / 2 ** 20).toFixed(0)} MiB, MBR), kernel + initrd ${(bytes / 2 ** 20).toFixed(1)} MiB, median of ${RUNS}\n\n`);
process.stdout.write('| tool | wall ms | vs ours | CPU ms (user + sys) | vs ours |\n|---|---|---|---|---|\n');
const label: Record<string, string> = {
  ours: 'disk-image-get-kernel (compiled, Node start-up included)',
  qcow2: `the same on the image as compressed qcow2 (${(fs.statSync(qcow2).size / 2 ** 20).toFixed(0)} MiB)`, debugfs: '`debugfs -R dump` x2 at the known offset',
  mount: 'losetup + mount -o ro + cp x2 + umount', node: "floor: `node -e 0` (Node's start-up)",
};
for (const k of ['ours', 'qcow2', 'debugfs', 'mount', 'node']) {
  process.stdout.write(`| ${label[k]} | ${(wall[k]! * 1000).toFixed(0)} | ${(wall[k]! / wall.ours!).toFixed(2)}x | ${(cpu[k]! * 1000).toFixed(0)} | ${(cpu[k]! / cpu.ours!).toFixed(2)}x |\n`);
}
if (lines.length > 0) {
  process.stdout.write('\n| Node | disk-image-get-kernel wall ms | vs debugfs | CPU ms | vs debugfs | `node -e 0` wall ms |\n|---|---|---|---|---|---|\n');
  for (const v of [process.version, ...lines.map((l) => l.version)]) {
    const k = v === process.version ? 'ours' : `ours ${v}`;
    process.stdout.write(`| ${v} | ${(wall[k]! * 1000).toFixed(0)} | ${(wall[k]! / wall.debugfs!).toFixed(2)}x | ${(cpu[k]! * 1000).toFixed(0)} | ${(cpu[k]! / cpu.debugfs!).toFixed(2)}x | ${(wall[v === process.version ? 'node' : `node ${v}`]! * 1000).toFixed(0)} |\n`);
  }
}
fs.rmSync(work, { recursive: true, force: true });
