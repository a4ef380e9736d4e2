/**
 * Benchmark: the output containers against qemu-img, from the cached Debian root.
 *   build:  the whole `disk-image-create -n --root-dir ROOT vm` (compiled CLI) with -t raw and
 *           with -u -t qcow2 (uncompressed qcow2 written as the image is assembled); and, for
 *           the choice between that and a second pass, our writer converting the raw image;
 *   qcow2:  our writer (worker threads, every core) on the raw image against
 *           `qemu-img convert -c -O qcow2` (deflate), and with compression_type=zstd;
 *   vhd, vmdk: against `qemu-img convert -O vpc` / `-O vmdk -o subformat=streamOptimized`.
 * Ours and qemu-img alternate, `sync` before each run; medians of RUNS; sizes of the outputs.
 * Usage: node --import tsx bench/qcow2.ts [RUNS]   (root; run `npm run build` first)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isZero } from '../src/binary/block-device.js';
import { FileBlockDevice } from '../src/binary/file-device.js';
import { FileSink } from '../src/binary/file-sink.js';
import { compressorPool } from '../src/container/compress.js';
import { writeQcow2 } from '../src/container/qcow2/writer.js';
import type { ImageSource } from '../src/container/source.js';
import { writeVhd } from '../src/container/vhd/writer.js';
import { writeVmdk } from '../src/container/vmdk/writer.js';
import { debianRootDir } from '../test/helpers/debian-root.js';

const RUNS = Number(process.argv[2] ?? 3);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'bin/disk-image-create.js');
const root = debianRootDir();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-qcow2-'));
const env = { ...process.env, TMPDIR: work, SOURCE_DATE_EPOCH: '1700000000', FLAVOURS_PATH: '' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sizeMB = (f: string) => fs.statSync(f).size / 1e6;

function timed(f: () => void): number {
  execFileSync('sync');
  const t = performance.now();
  f();
  return (performance.now() - t) / 1000;
}
async function timedAsync(f: () => Promise<void>): Promise<number> {
  execFileSync('sync');
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

function build(name: string, args: string[]): number {
  for (const n of fs.readdirSync(work)) if (n.startsWith(`${name}.`)) fs.rmSync(path.join(work, n));
  lastCpu = NaN; // (a child process: only its wall time is compared)
  return timed(() => execFileSync(process.execPath, [cli, '-n', ...args, '--root-dir', root, '-o', path.join(work, name), 'vm'], { env, stdio: 'ignore' }));
}

// 1. Whole builds.
/** CPU seconds (user + system, all threads) of the last run of each kind, beside the wall times. */
const cpu: Record<string, number[]> = {};
let lastCpu = 0;

const t: Record<string, number[]> = {};
const add = (k: string, v: number) => {
  (t[k] ??= []).push(v);
  (cpu[k] ??= []).push(lastCpu);
};
for (let i = 0; i < RUNS; i++) {
  add('raw', build('b', ['-t', 'raw']));
  add('qcow2 -u', build('q', ['-u', '-t', 'qcow2']));
}
const raw = path.join(work, 'b.raw');
const dev = FileBlockDevice.open(raw);
// The ranges the assembler wrote (the build gets them from its device; here from one scan).
const ranges: [number, number][] = [];
for (let o = 0; o < dev.size; o += 64 << 20) {
  const b = dev.readAt(o, Math.min(64 << 20, dev.size - o));
  for (let c = 0; c < b.length; c += 65536) if (!isZero(b, c, Math.min(b.length, c + 65536))) ranges.push([o + c, Math.min(dev.size, o + c + 65536)]);
}
const src: ImageSource = { size: dev.size, readAt: (o, n) => dev.readAt(o, n), dataRanges: ranges };

async function ours(file: string, write: (s: FileSink) => Promise<{ length: number }> | { length: number }): Promise<number> {
  fs.rmSync(file, { force: true });
  const c0 = process.cpuUsage();
  try {
    return await oursTimed(file, write);
  } finally {
    const c = process.cpuUsage(c0);
    lastCpu = (c.user + c.system) / 1e6;
  }
}
async function oursTimed(file: string, write: (s: FileSink) => Promise<{ length: number }> | { length: number }): Promise<number> {
  return timedAsync(async () => {
    const s = FileSink.create(file);
    try {
      s.finish((await write(s)).length);
    } finally {
      s.close();
    }
  });
}
function qemu(file: string, args: string[]): number {
  fs.rmSync(file, { force: true });
  let err = '';
  const sec = timed(() => {
    const r = spawnSync('/usr/bin/time', ['-f', 'CPU %U %S', 'qemu-img', 'convert', ...args, '-f', 'raw', raw, file], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`qemu-img convert ${args.join(' ')} failed: ${r.stderr}`);
    err = r.stderr;
  });
  const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
  lastCpu = m ? Number(m[1]) + Number(m[2]) : NaN;
  return sec;
}

const threads = os.availableParallelism();
const deflate = compressorPool('deflate', threads);
const zstd = compressorPool('zstd', threads);
const zlib = compressorPool('zlib', threads);
const files = (n: string) => path.join(work, n);
for (let i = 0; i < RUNS; i++) {
  add('convert -u (ours)', await ours(files('c.qcow2'), (s) => writeQcow2(src, s)));
  add('qemu-img -O qcow2', qemu(files('qc.qcow2'), ['-O', 'qcow2']));
  add('deflate (ours)', await ours(files('d.qcow2'), (s) => writeQcow2(src, s, { compression: 'deflate', compressor: deflate })));
  add('qemu-img -c', qemu(files('qd.qcow2'), ['-c', '-O', 'qcow2']));
  add('zstd (ours)', await ours(files('z.qcow2'), (s) => writeQcow2(src, s, { compression: 'zstd', compressor: zstd })));
  add('qemu-img -c zstd', qemu(files('qz.qcow2'), ['-c', '-O', 'qcow2', '-o', 'compression_type=zstd']));
  add('vhd (ours)', await ours(files('v.vhd'), (s) => writeVhd(src, s, { type: 'dynamic', uniqueId: new Uint8Array(16), time: 1700000000 })));
  add('qemu-img -O vpc', qemu(files('qv.vhd'), ['-O', 'vpc']));
  add('vmdk (ours)', await ours(files('m.vmdk'), (s) => writeVmdk(src, s, { compressor: zlib, extentName: 'm.vmdk', cid: 1 })));
  add('qemu-img -O vmdk', qemu(files('qm.vmdk'), ['-O', 'vmdk', '-o', 'subformat=streamOptimized']));
}
await Promise.all([deflate.close(), zstd.close(), zlib.close()]);
dev.close();

const cpuText = (k: string) => (cpu[k]!.every((x) => Number.isFinite(x) && x > 0) ? `${median(cpu[k]!).toFixed(1)}` : '-');
const row = (what: string, a: string, b: string, fa: string, fb: string) =>
  `| ${what} | ${median(t[a]!).toFixed(2)} s | ${median(t[b]!).toFixed(2)} s | **${(median(t[a]!) / median(t[b]!)).toFixed(2)}x** | ${cpuText(a)} / ${cpuText(b)} | ${fa ? sizeMB(files(fa)).toFixed(1) : '-'} MB | ${fb ? sizeMB(files(fb)).toFixed(1) : '-'} MB |`;
console.log(`Debian root, ${(fs.statSync(raw).size / 2 ** 20).toFixed(0)} MiB image, ${(ranges.length * 65536 / 1e6).toFixed(0)} MB of data; ${threads} threads; median of ${RUNS}\n`);
console.log('| what | ours | reference | ratio | CPU s (ours / ref.) | our file | reference file |');
console.log('|---|---|---|---|---|---|---|');
console.log(row('whole build: -u -t qcow2 (direct) vs -t raw', 'qcow2 -u', 'raw', 'q.qcow2', 'b.raw'));
console.log(row('uncompressed qcow2 from the raw (second pass) vs qemu-img convert -O qcow2', 'convert -u (ours)', 'qemu-img -O qcow2', 'c.qcow2', 'qc.qcow2'));
console.log(row('deflate qcow2 vs qemu-img convert -c -O qcow2', 'deflate (ours)', 'qemu-img -c', 'd.qcow2', 'qd.qcow2'));
console.log(row('zstd qcow2 vs qemu-img convert -c -o compression_type=zstd', 'zstd (ours)', 'qemu-img -c zstd', 'z.qcow2', 'qz.qcow2'));
console.log(row('VHD dynamic vs qemu-img convert -O vpc', 'vhd (ours)', 'qemu-img -O vpc', 'v.vhd', 'qv.vhd'));
console.log(row('VMDK streamOptimized vs qemu-img convert -O vmdk -o subformat=streamOptimized', 'vmdk (ours)', 'qemu-img -O vmdk', 'm.vmdk', 'qm.vmdk'));
console.log(`\nsecond pass for uncompressed qcow2 = ${(100 * median(t['convert -u (ours)']!) / median(t.raw!)).toFixed(0)}% of the raw build`);
fs.rmSync(work, { recursive: true, force: true });
