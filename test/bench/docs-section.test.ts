// `npm run bench -- --write-docs` rewrites only the generated part of docs/benchmarks.md:
// checked on a small fake run, and on the page itself (its markers are there, once, in order).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, renderRun, replaceGenerated, type BenchResult } from '../../bench/docs-section.js';
import { REPO } from '../helpers/cli-run.js';

const run: BenchResult[] = [
  { file: 'crc.ts', args: [], output: '| kernel | GB/s |\n|---|---|\n| CRC32C | 5.38 |\n', status: 0 },
  { file: 'boot.ts', args: ['5'], output: 'assembleImage 1.13 s against 4.30 s\n', status: 0 },
];
const info = { date: '2026-12-06T05:00:00Z', host: '2 cores (Test CPU), Linux 6.1, Node v20.19.0', quick: false };
const page = ['# Benchmarks', '', 'Prose before.', '', BEGIN_MARKER, '', 'old tables', '', END_MARKER, '', 'Prose after.', ''].join('\n');

describe('the generated part of docs/benchmarks.md', () => {
  it('renders a run: when and where, then each benchmark under its command line', () => {
    const md = renderRun(run, info);
    expect(md.split('\n')).toEqual([
      'Last run: 2026-12-06T05:00:00Z, 2 cores (Test CPU), Linux 6.1, Node v20.19.0.',
      '', '### `bench/crc.ts`', '', '| kernel | GB/s |', '|---|---|', '| CRC32C | 5.38 |',
      '', '### `bench/boot.ts 5`', '', 'assembleImage 1.13 s against 4.30 s',
    ]);
    expect(renderRun(run, { ...info, quick: true })).toContain('with `--quick`');
    expect(renderRun([{ ...run[0]!, status: 2 }], info)).toContain('failed (exit 2)');
  });

  it('replaces the text between the markers and keeps the prose around them', () => {
    const out = replaceGenerated(page, renderRun(run, info));
    expect(out).not.toContain('old tables');
    expect(out.startsWith(`# Benchmarks\n\nProse before.\n\n${BEGIN_MARKER}\n\nLast run: 2026-12-06T05:00:00Z`)).toBe(true);
    expect(out.endsWith(`| 5.38 |\n\n### \`bench/boot.ts 5\`\n\nassembleImage 1.13 s against 4.30 s\n\n${END_MARKER}\n\nProse after.\n`)).toBe(true);
    // a second run replaces the first one's tables, not adds to them
    const again = replaceGenerated(out, 'new tables');
    expect(again).toBe(page.replace('old tables', 'new tables'));
  });

  it('refuses a page whose markers are missing, repeated or out of order', () => {
    expect(() => replaceGenerated(page.replace(END_MARKER, ''), 'x')).toThrow(/end of the generated part/);
    expect(() => replaceGenerated(page.replace(BEGIN_MARKER, ''), 'x')).toThrow(/must hold/);
    expect(() => replaceGenerated(`${page}${BEGIN_MARKER}\n`, 'x')).toThrow(/once/);
    expect(() => replaceGenerated(`${END_MARKER}\n${page.replace(END_MARKER, '')}`, 'x')).toThrow(/after it/);
  });

  it('docs/benchmarks.md holds both markers once, in order, so a run can rewrite it', () => {
    const doc = fs.readFileSync(path.join(REPO, 'docs/benchmarks.md'), 'utf8');
    const out = replaceGenerated(doc, 'generated');
    expect(out.slice(0, out.indexOf(BEGIN_MARKER))).toBe(doc.slice(0, doc.indexOf(BEGIN_MARKER)));
    expect(out.slice(out.indexOf(END_MARKER))).toBe(doc.slice(doc.indexOf(END_MARKER)));
  });
});
