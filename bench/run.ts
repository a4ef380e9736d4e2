/**
 * Runs every benchmark in turn, each in its own process, and prints their markdown tables:
 * the numbers in README.md's benchmark section come from this. Each benchmark compares our
 * code with the reference tool in the same run (ratios, never absolute targets).
 * Usage: npm run bench   (root: the Debian root is built with mmdebstrap on first use)
 *        npm run bench -- --quick   (fewer runs, no 200k-file or sparse scenarios)
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');

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

let failed = 0;
for (const [file, args] of benches) {
  process.stdout.write(`\n## bench/${file} ${args.join(' ')}\n\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, file), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`bench/${file} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed ? 1 : 0;
