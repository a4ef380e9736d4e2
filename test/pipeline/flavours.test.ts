// Flavour resolution (DIB's element_dependencies.py rules), no root needed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinFlavoursDir, editDistance, flavourSearchPath, indexFlavours, nearest, resolveFlavours } from '../../src/pipeline/flavours.js';
import { mergeHooks } from '../../src/pipeline/hooks.js';
import { DiskImageError } from '../../src/errors.js';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flav-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function flavour(root: string, name: string, o: { deps?: string[]; provides?: string[]; readme?: boolean; hooks?: Record<string, string> } = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  if (o.deps) fs.writeFileSync(path.join(dir, 'element-deps'), o.deps.join('\n') + '\n\n');
  if (o.provides) fs.writeFileSync(path.join(dir, 'element-provides'), o.provides.join('\n') + '\n');
  if (o.readme !== false) fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n`);
  for (const [rel, body] of Object.entries(o.hooks ?? {})) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body, { mode: 0o755 });
  }
  return dir;
}

function caught(f: () => unknown): DiskImageError {
  try { f(); } catch (e) { return e as DiskImageError; }
  throw new Error('expected an error');
}

describe('flavour resolution', () => {
  it('expands element-deps breadth-first, satisfies virtual names by their provider, adds base', () => {
    const p = path.join(tmp, 'p');
    flavour(p, 'base');
    flavour(p, 'os', { provides: ['operating-system'] });
    flavour(p, 'vm', { deps: ['block-device', 'bootloader'] });
    flavour(p, 'bootloader');
    flavour(p, 'block-device-mbr', { provides: ['block-device'] });
    flavour(p, 'block-device-gpt', { provides: ['block-device'] });
    const idx = indexFlavours([p]);
    const r = resolveFlavours(['vm', 'os'], idx);
    // vm without a block-device flavour pulls in block-device-mbr (DIB's _arg_defaults_hack)
    expect(r.flavours.map((f) => f.name)).toEqual(['base', 'block-device-mbr', 'bootloader', 'os', 'vm']);
    expect(r.provided.get('block-device')).toBe('block-device-mbr');
    expect(r.provided.get('operating-system')).toBe('os');
    const g = resolveFlavours(['vm', 'os', 'block-device-gpt'], idx, { skipBase: true });
    expect(g.flavours.map((f) => f.name)).toEqual(['block-device-gpt', 'bootloader', 'os', 'vm']);
  });

  it('lets earlier search-path entries override later ones, with a warning', () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    flavour(a, 'os', { provides: ['operating-system'] });
    flavour(b, 'os');
    flavour(b, 'base');
    const idx = indexFlavours([a, b]);
    expect(idx.flavours.get('os')!.dir).toBe(path.join(a, 'os'));
    expect(idx.warnings).toContain(`flavour os in ${path.join(a, 'os')} overrides ${path.join(b, 'os')}`);
  });

  it('reads FLAVOURS_PATH and ELEMENTS_PATH, built-ins last', () => {
    expect(flavourSearchPath({ FLAVOURS_PATH: '/x:/y', ELEMENTS_PATH: '/z' }, '/builtin')).toEqual(['/x', '/y', '/z', '/builtin']);
    expect(flavourSearchPath({}, '/builtin')).toEqual(['/builtin']);
    const builtin = builtinFlavoursDir();
    for (const f of ['base', 'debian-minimal', 'local-config']) expect(fs.existsSync(path.join(builtin, f, 'README.md'))).toBe(true);
  });

  it('the same folder named twice is one folder: no "overrides" warning about itself', () => {
    const a = path.join(tmp, 'same');
    flavour(a, 'os', { provides: ['operating-system'] });
    fs.symlinkSync(a, path.join(tmp, 'same-link'));
    const sp = flavourSearchPath({ FLAVOURS_PATH: a, ELEMENTS_PATH: `${a}/:${path.join(tmp, 'same-link')}` }, builtinFlavoursDir());
    expect(sp).toEqual([a, builtinFlavoursDir()]);
    expect(indexFlavours(sp).warnings.filter((w) => w.includes('overrides'))).toEqual([]);
    expect(flavourSearchPath({ FLAVOURS_PATH: builtinFlavoursDir() }, builtinFlavoursDir())).toEqual([builtinFlavoursDir()]);
  });

  it('needs exactly one operating system unless the root comes from outside', () => {
    const p = path.join(tmp, 'p');
    flavour(p, 'base');
    flavour(p, 'tool');
    flavour(p, 'os1', { provides: ['operating-system'] });
    flavour(p, 'os2', { provides: ['operating-system'] });
    const idx = indexFlavours([p]);
    const missing = caught(() => resolveFlavours(['tool'], idx));
    expect(missing.code).toBe('USAGE');
    expect(missing.message).toContain('no operating-system flavour');
    expect(missing.hint).toContain('os1, os2');
    expect(resolveFlavours(['tool'], idx, { externalRoot: true }).flavours.map((f) => f.name)).toEqual(['base', 'tool']);
    const two = caught(() => resolveFlavours(['os1', 'os2'], idx));
    expect(two.code).toBe('CONFIG');
    expect(two.message).toContain("'operating-system' is provided by both 'os1' and 'os2'");
    expect(caught(() => resolveFlavours(['os1'], idx, { externalRoot: true })).message).toContain('--root-dir/--root-tar already gives the root tree');
  });

  it('names the nearest flavour for a typo, and a missing dependency', () => {
    const p = path.join(tmp, 'p');
    flavour(p, 'base');
    flavour(p, 'debian-minimal', { provides: ['operating-system'] });
    flavour(p, 'needs-x', { deps: ['x-flavour'] });
    const idx = indexFlavours([p]);
    const e = caught(() => resolveFlavours(['debain-minimal'], idx));
    expect(e.message).toBe("unknown flavour 'debain-minimal'");
    expect(e.hint).toContain("did you mean 'debian-minimal'?");
    const d = caught(() => resolveFlavours(['needs-x', 'debian-minimal'], idx));
    expect(d.message).toContain("element-deps names 'x-flavour'");
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(nearest('zzzzzzzz', ['base'])).toBeUndefined();
  });

  it('warns about a flavour without README.md', () => {
    const p = path.join(tmp, 'p');
    flavour(p, 'quiet', { readme: false });
    expect(indexFlavours([p]).warnings.some((w) => w.startsWith('flavour quiet') && w.endsWith('has no README.md'))).toBe(true);
  });

  it('rejects a search-path entry that is missing or a file', () => {
    fs.writeFileSync(path.join(tmp, 'file'), '');
    expect(caught(() => indexFlavours([path.join(tmp, 'nope')])).message).toContain('does not exist');
    expect(caught(() => indexFlavours([path.join(tmp, 'file')])).message).toContain('is not a directory');
  });

  it('merges hooks and refuses a hook name shipped by two flavours', () => {
    const p = path.join(tmp, 'p');
    const h = '#!/bin/sh\ntrue\n';
    flavour(p, 'a', { hooks: { 'install.d/10-a': h, 'environment.d/10-a.bash': 'export A=1\n' } });
    flavour(p, 'b', { hooks: { 'install.d/20-b': h, 'install.d/10-a': h } });
    flavour(p, 'c', { hooks: { 'install.d/30-c': h, 'tests/ignored': h } });
    const idx = indexFlavours([p]);
    const e = caught(() => mergeHooks([idx.flavours.get('a')!, idx.flavours.get('b')!], path.join(tmp, 'h1')));
    expect(e.message).toBe("flavour b: hook install.d/10-a is also provided by flavour 'a' (a duplicated hook)");
    const tree = mergeHooks([idx.flavours.get('a')!, idx.flavours.get('c')!], path.join(tmp, 'h2'));
    expect(fs.readdirSync(path.join(tree.dir, 'install.d')).sort()).toEqual(['10-a', '30-c']);
    expect(fs.existsSync(path.join(tree.dir, 'tests'))).toBe(false);
    expect(tree.origin.get('install.d/30-c')).toBe('c');
    expect(fs.statSync(path.join(tree.dir, 'install.d/30-c')).mode & 0o777).toBe(0o755);
  });

  it('merges same-named folders across flavours (as DIB does) and refuses only a duplicated file', () => {
    const p = path.join(tmp, 'p');
    flavour(p, 'd', { hooks: { 'static/etc/a.conf': 'a\n', 'install.d/lib/x': 'x\n' } });
    flavour(p, 'e', { hooks: { 'static/etc/b.conf': 'b\n', 'install.d/lib/y': 'y\n' } });
    flavour(p, 'f', { hooks: { 'static/etc/a.conf': 'again\n' } });
    const idx = indexFlavours([p]);
    const tree = mergeHooks([idx.flavours.get('d')!, idx.flavours.get('e')!], path.join(tmp, 'h3'));
    expect(fs.readdirSync(path.join(tree.dir, 'static/etc')).sort()).toEqual(['a.conf', 'b.conf']);
    expect(fs.readdirSync(path.join(tree.dir, 'install.d/lib')).sort()).toEqual(['x', 'y']);
    expect(fs.readFileSync(path.join(tree.dir, 'static/etc/b.conf'), 'utf8')).toBe('b\n');
    expect(tree.origin.get('static/etc/b.conf')).toBe('e');
    const e = caught(() => mergeHooks([idx.flavours.get('d')!, idx.flavours.get('f')!], path.join(tmp, 'h4')));
    expect(e.message).toBe("flavour f: hook static/etc/a.conf is also provided by flavour 'd' (a duplicated hook)");
  });
});
