// README.md and docs/ stay true to the code: every option and environment variable that
// `disk-image-create -h` and `ramdisk-image-create -h` document is on the command's page,
// every built-in flavour and every shipped layout on theirs, every command in package.json in
// the README and on a page of its own, and every link between the pages leads somewhere.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_ONLY, OPTION_SPECS, RAMDISK_OPTION_SPECS } from '../src/pipeline/parse-options.js';
import { SHIPPED_LAYOUTS } from '../src/layout/shipped/index.js';
import { ALLOWED_SKIPS } from './helpers/allowed-skips.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');
const readme = read('README.md');
type OptSpec = (typeof OPTION_SPECS)[number];
const pages = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);

/** The names of `specs` (and of the variables in `env`) that `page` does not mention. */
function undocumented(page: string, specs: OptSpec[], env: { name: string }[] = []): string[] {
  const text = read(page);
  const missing: string[] = [];
  for (const o of specs) {
    if (o.long && !text.includes(`--${o.long}`)) missing.push(`--${o.long}`);
    if (o.short && !text.includes(`\`-${o.short}`)) missing.push(`-${o.short}`);
    if (o.env && !text.includes(o.env)) missing.push(o.env);
  }
  for (const e of env) if (!text.includes(e.name)) missing.push(e.name);
  return missing;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

/** Every relative markdown link of `page` whose file or heading does not exist. */
function brokenLinks(page: string): string[] {
  const text = read(page).replace(/```[\s\S]*?```/g, '');
  const broken: string[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target!)) continue;
    const [file, anchor] = target!.split('#') as [string, string | undefined];
    const to = file ? path.join(path.dirname(page), file) : page;
    if (!fs.existsSync(path.join(root, to))) { broken.push(target!); continue; }
    if (!anchor) continue;
    const headings = read(to).replace(/```[\s\S]*?```/g, '').match(/^#+ .*$/gm) ?? [];
    if (!headings.some((h) => slug(h.replace(/^#+ /, '')) === anchor)) broken.push(target!);
  }
  return broken.map((t) => `${page}: ${t}`);
}

describe('README.md and docs/', () => {
  it('documents every option and variable of disk-image-create and ramdisk-image-create on its page', () => {
    expect(undocumented('docs/disk-image-create.md', OPTION_SPECS, ENV_ONLY)).toEqual([]);
    expect(undocumented('docs/ramdisk-image-create.md', RAMDISK_OPTION_SPECS)).toEqual([]);
  });

  it('names every built-in flavour and every shipped layout on their pages', () => {
    const flavours = fs.readdirSync(path.join(root, 'flavours'));
    expect(flavours.length).toBeGreaterThan(0);
    const flavourPage = read('docs/flavours.md');
    expect(flavours.filter((f) => !flavourPage.includes(`\`${f}\``))).toEqual([]);
    const layoutPage = read('docs/disk-image-layout.md');
    expect(Object.keys(SHIPPED_LAYOUTS).filter((l) => !layoutPage.includes(`\`${l}\``))).toEqual([]);
  });

  it('names every command in package.json, each with a page whose title names it, and starts with the two quick-start commands', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin).filter((c) => !readme.includes(`\`${c}\``))).toEqual([]);
    const titles = pages.map((p) => read(p).split('\n')[0]!);
    expect(Object.keys(pkg.bin).filter((c) => !titles.some((t) => t.startsWith('# ') && t.includes(`\`${c}\``)))).toEqual([]);
    const blocks = [...readme.matchAll(/```sh\n([^`]*)```/g)].map((m) => m[1]!.trim());
    expect(blocks[0]).toMatch(/^bash scripts\/setup-host\.sh && npm ci && npx disk-image-create /);
    expect(blocks[1]).toBe('bash scripts/test.sh');
    expect(read('.ci/run')).toContain('bash scripts/test.sh');
  });

  it('links every page of docs/ from the README, and every link leads to a file and heading that exist', () => {
    expect(pages.filter((p) => !readme.includes(`](${p})`))).toEqual([]);
    expect(['README.md', ...pages].flatMap(brokenLinks)).toEqual([]);
  });

  it('names every test that may skip on CI, with its reason', () => {
    const section = (read('docs/development.md').split(/^## Tests that may skip$/m)[1] ?? '').split(/^#/m)[0]!;
    for (const a of ALLOWED_SKIPS) {
      const row = section.split('\n').find((l) => l.startsWith('| ') && (l.split('|')[1] ?? '').trim() === a.describe);
      expect(row, `docs/development.md row for ${a.describe}`).toBeDefined();
      expect(row).toContain(a.why);
    }
    expect(section.split('\n').filter((l) => /^\| (?!Test |---)/.test(l))).toHaveLength(ALLOWED_SKIPS.length);
  });
});

describe('slug', () => {
  it('makes the anchors GitHub makes', () => {
    expect(slug('Layout format (diskimage-builder\'s block-device YAML)')).toBe('layout-format-diskimage-builders-block-device-yaml');
    expect(slug('The `ramdisk` flavour')).toBe('the-ramdisk-flavour');
    expect(slug('Bootable images: grub without grub-install, the EFI partition')).toBe('bootable-images-grub-without-grub-install-the-efi-partition');
  });
});
