/**
 * Runs every benchmark in turn, each in its own process, and prints their markdown tables.
 * With `--write-docs` the tables also replace the generated part of docs/benchmarks.md
 * (between its markers: bench/docs-section.ts), and the page's prose stays as it is; nothing
 * is written when a benchmark fails. Each benchmark compares our code with the reference
 * tool in the same run (ratios, never absolute targets).
 * Usage: npm run bench   (root: the Debian root is built with mmdebstrap on first use)
 *        npm run bench -- --quick   (fewer runs, no 200k-file or sparse scenarios)
 *        npm run bench -- --write-docs   (and rewrite docs/benchmarks.md's generated part)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRun, replaceGenerated, type BenchResult } from './docs-section.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const docsPage = path.join(here, '..', 'docs', 'benchmarks.md');
const quick = process.argv.includes('--quick');
const writeDocs = process.argv.includes('--write-docs');

const benches: [string, string[]][] = [
  ['crc.ts', []],
  ['ext4.ts', quick ? ['--runs', '1'] : ['--runs', '3', '--small', '200000', '--sparse-gib', '8']],
  ['boot.ts', [quick ? '1' : '5']],
  ['tree-xattr.ts', quick ? ['20000', '1'] : ['20000', '5']],
  ['tree-tar.ts', []],
  ['inspect.ts', [quick ? '3' : '11']],
  ['qcow2.ts', [quick ? '1' : '3']],
  ['cpio.ts', quick ? ['--runs', '1'] : ['--runs', '3']],
];

/** Runs one benchmark, its output shown as it comes and kept. */
function runBench(file: string, args: string[]): Promise<BenchResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, file), ...args], { stdio: ['inherit', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      process.stdout.write(d);
    });
    child.on('close', (status) => resolve({ file, args, output, status }));
  });
}

const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const results: BenchResult[] = [];
for (const [file, args] of benches) {
  process.stdout.write(`\n## bench/${file} ${args.join(' ')}\n\n`);
  const r = await runBench(file, args);
  if (r.status !== 0) process.stdout.write(`bench/${file} failed (exit ${r.status ?? 'by a signal'})\n`);
  results.push(r);
}
const failed = results.filter((r) => r.status !== 0).length;
if (writeDocs && failed === 0) {
  const host = `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${os.type()} ${os.release()}, Node ${process.version}`;
  fs.writeFileSync(docsPage, replaceGenerated(fs.readFileSync(docsPage, 'utf8'), renderRun(results, { date, host, quick })));
  process.stdout.write(`\nwrote the generated part of ${path.relative(process.cwd(), docsPage)}\n`);
} else if (writeDocs) {
  process.stdout.write(`\n${failed} benchmark(s) failed: ${path.relative(process.cwd(), docsPage)} left as it was\n`);
}
process.exitCode = failed ? 1 : 0;
