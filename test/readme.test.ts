// README.md stays true to the code: every option and environment variable that
// `disk-image-create -h` documents, every built-in flavour, every shipped layout and every
// command in package.json is named in the README.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_ONLY, OPTION_SPECS, RAMDISK_OPTION_SPECS } from '../src/cli/options.js';
import { SHIPPED_LAYOUTS } from '../src/layout/shipped/index.js';
import { ALLOWED_SKIPS } from './helpers/allowed-skips.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

describe('README.md', () => {
  it('documents every option and variable of disk-image-create and ramdisk-image-create', () => {
    const missing: string[] = [];
    for (const o of [...OPTION_SPECS, ...RAMDISK_OPTION_SPECS]) {
      if (o.long && !readme.includes(`--${o.long}`)) missing.push(`--${o.long}`);
      if (o.short && !readme.includes(`\`-${o.short}`)) missing.push(`-${o.short}`);
      if (o.env && !readme.includes(o.env)) missing.push(o.env);
    }
    for (const e of ENV_ONLY) if (!readme.includes(e.name)) missing.push(e.name);
    expect(missing).toEqual([]);
  });

  it('names every built-in flavour and every shipped layout', () => {
    const flavours = fs.readdirSync(path.join(root, 'flavours'));
    expect(flavours.length).toBeGreaterThan(0);
    expect(flavours.filter((f) => !readme.includes(`\`${f}\``))).toEqual([]);
    expect(Object.keys(SHIPPED_LAYOUTS).filter((l) => !readme.includes(`\`${l}\``))).toEqual([]);
  });

  it('names every command in package.json and starts with the two quick-start commands', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin).filter((c) => !readme.includes(`\`${c}\``))).toEqual([]);
    const blocks = [...readme.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1]!.trim());
    expect(blocks[0]).toMatch(/^bash scripts\/setup-host\.sh && npm ci && npx disk-image-create /);
    expect(blocks[1]).toBe('bash scripts/test.sh');
    expect(fs.readFileSync(path.join(root, '.ci/run'), 'utf8')).toContain('bash scripts/test.sh');
  });

  it('names every test that may skip on CI, with its reason', () => {
    const section = (readme.split(/^### Tests that may skip$/m)[1] ?? '').split(/^#/m)[0]!;
    for (const a of ALLOWED_SKIPS) {
      const row = section.split('\n').find((l) => l.startsWith('| ') && a.test.test(l.split('|')[1] ?? ''));
      expect(row, `README row for ${a.test}`).toBeDefined();
      expect(row).toContain(a.why);
    }
    expect(section.split('\n').filter((l) => /^\| (?!Test |---)/.test(l))).toHaveLength(ALLOWED_SKIPS.length);
  });
});
