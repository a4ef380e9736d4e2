/**
 * Benchmark: reading the extended attributes of 20,000 files (a tenth of them with a user.*
 * attribute, a few with ACLs and capabilities), the way the directory source could:
 *   napi:     @napi-rs/xattr listAttributesSync + getAttributeSync per file (what dirTree does)
 *   getfattr: one `getfattr -R -h -d -m - -e hex` process over the tree, output parsed
 * plus the whole dirTree walk with and without xattrs, to show their share of a walk.
 * Alternating runs, medians reported. Usage: node --import tsx bench/tree-xattr.ts [FILES] [RUNS]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dirTree, readXattrs } from '../src/tree/dir-source.js';

const FILES = Number(process.argv[2] ?? 20000);
const RUNS = Number(process.argv[3] ?? 5);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-xattr-'));
const all: string[] = [];
for (let d = 0; d < FILES / 500; d++) {
  const dir = path.join(work, `d${d}`);
  fs.mkdirSync(dir);
  for (let f = 0; f < 500; f++) {
    const p = path.join(dir, `f${f}`);
    fs.writeFileSync(p, 'x');
    all.push(p);
  }
}
for (let i = 0; i < all.length; i += 10) execFileSync('setfattr', ['-n', 'user.tag', '-v', String(i), all[i]!]);
for (let i = 5; i < all.length; i += 1000) execFileSync('setfacl', ['-m', 'u:1000:rwx', all[i]!]);
for (let i = 7; i < all.length; i += 1000) execFileSync('setcap', ['cap_net_raw+ep', all[i]!]);

function napi(): number {
  let n = 0;
  for (const p of all) n += readXattrs(p).size;
  return n;
}

function getfattr(): number {
  const out = execFileSync('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', work], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const byFile = new Map<string, Map<string, Uint8Array>>();
  let cur: Map<string, Uint8Array> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) byFile.set(line.slice(8), (cur = new Map()));
    else if (cur && line.includes('=0x')) {
      const i = line.indexOf('=');
      cur.set(line.slice(0, i), Buffer.from(line.slice(i + 3), 'hex'));
    }
  }
  let n = 0;
  for (const m of byFile.values()) n += m.size;
  return n;
}

function walk(xattrs: boolean): number {
  const t = dirTree(work, { xattrs });
  const n = t.entries.length;
  t.close();
  return n;
}

const cases: Array<[string, () => number]> = [
  ['napi (per file list+get)', napi],
  ['getfattr -R (one process)', getfattr],
  ['dirTree with xattrs', () => walk(true)],
  ['dirTree without xattrs', () => walk(false)],
];
const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
const results = new Map<string, number>();
for (let r = 0; r < RUNS; r++) {
  for (const [name, fn] of cases) {
    const t0 = performance.now();
    results.set(name, fn());
    times.get(name)!.push(performance.now() - t0);
  }
}
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`${FILES} files, ${RUNS} runs, medians:`);
for (const [name] of cases) console.log(`  ${name.padEnd(28)} ${median(times.get(name)!).toFixed(0).padStart(6)} ms   (result ${results.get(name)})`);
fs.rmSync(work, { recursive: true, force: true });
