// DIB's element library on the search path (src/pipeline/elements-library.ts): replaced names
// resolve to the built-in flavours wherever the library stands, refused ones stop the build,
// and bad element input is reported before anything is made, naming the element and file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskImageError } from '../../src/errors.js';
import { preferBuiltins, REFUSED_ELEMENTS, REPLACED_ELEMENTS, refuseElements } from '../../src/pipeline/elements-library.js';
import { builtinFlavoursDir, flavourSearchPath, indexFlavours, resolveFlavours } from '../../src/pipeline/flavours.js';
import { prepare } from '../../src/pipeline/prepare.js';
import { parseOptions } from '../../src/pipeline/parse-options.js';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'elib-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function element(root: string, name: string, files: Record<string, string> = {}): string {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.rst'), `${name}\n====\n`);
  for (const [rel, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  }
  return dir;
}

function caught(f: () => unknown): DiskImageError {
  try { f(); } catch (e) { return e as DiskImageError; }
  throw new Error('expected an error');
}

/** A small stand-in for DIB's library: its own copies of replaced elements, one refused, one ordinary. */
function library(): string {
  const lib = path.join(tmp, 'elements');
  for (const n of ['vm', 'base', 'debian-minimal', 'package-installs', 'pkg-map', 'bootloader']) element(lib, n, { 'element-deps': 'debootstrap\n' });
  element(lib, 'lvm');
  element(lib, 'growroot', { 'element-deps': 'dib-init-system\ninstall-static\n' });
  element(lib, 'journal-to-console');
  return lib;
}

describe('replaced and refused elements', () => {
  it('every replaced name resolves to the built-in flavour even with the library first on the path, one line each', () => {
    const builtins = builtinFlavoursDir();
    const index = indexFlavours(flavourSearchPath({ ELEMENTS_PATH: library() }, builtins));
    const lines = preferBuiltins(index, builtins);
    expect([...lines.keys()].sort()).toEqual(['base', 'bootloader', 'debian-minimal', 'package-installs', 'pkg-map', 'vm']);
    expect(lines.get('vm')).toContain(`element vm from ${path.join(tmp, 'elements', 'vm')} is replaced by the built-in flavour`);
    for (const name of lines.keys()) expect(index.flavours.get(name)!.dir).toBe(path.join(builtins, name));
    expect(index.warnings.filter((w) => w.includes(' overrides ') && lines.has(w.split(' ')[1]!))).toEqual([]);
    const r = resolveFlavours(['vm', 'debian-minimal', 'growroot', 'journal-to-console'], index);
    expect(r.flavours.find((f) => f.name === 'growroot')!.dir).toBe(path.join(tmp, 'elements', 'growroot'));
    expect(r.flavours.map((f) => f.name)).toContain('install-static');
  });
  it('every replaced element has a built-in flavour of that name with a README.md', () => {
    for (const name of Object.keys(REPLACED_ELEMENTS)) expect(fs.existsSync(path.join(builtinFlavoursDir(), name, 'README.md')), name).toBe(true);
  });
  it('a refused element stops the build by name with the reason, also when pulled in by element-deps', () => {
    const lib = library();
    element(lib, 'wants-lvm', { 'element-deps': 'lvm\n' });
    const builtins = builtinFlavoursDir();
    const index = indexFlavours(flavourSearchPath({ ELEMENTS_PATH: lib }, builtins));
    preferBuiltins(index, builtins);
    const e = caught(() => refuseElements(resolveFlavours(['debian-minimal', 'wants-lvm'], index), builtins));
    expect(e.message).toContain("DIB's element 'lvm'");
    expect(e.message).toContain(REFUSED_ELEMENTS.lvm);
  });
  it('README.rst is accepted as well as README.md', () => {
    const index = indexFlavours([library()]);
    expect(index.warnings.filter((w) => w.includes('has no README'))).toEqual([]);
  });
});

describe('bad element input is reported by prepare(), before anything is made', () => {
  const run = (lib: string, elements: string[]) => {
    const opts = parseOptions(['-o', path.join(tmp, 'out', 'img'), ...elements], { ELEMENTS_PATH: lib });
    fs.mkdirSync(path.join(tmp, 'out'), { recursive: true });
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('dib_build.')).length;
    const e = caught(() => prepare(opts, { ELEMENTS_PATH: lib }, () => {}));
    expect(fs.readdirSync(path.join(tmp, 'out'))).toEqual([]);
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('dib_build.')).length).toBeLessThanOrEqual(before);
    return e;
  };
  it('a missing dependency names the element', () => {
    const lib = library();
    element(lib, 'needs-ghost', { 'element-deps': 'ghost-element\n' });
    const e = run(lib, ['debian-minimal', 'needs-ghost']);
    expect(e.message).toContain('needs-ghost');
    expect(e.message).toContain('ghost-element');
  });
  it('a package-installs.yaml that is not YAML, and one with an unknown key', () => {
    const lib = library();
    element(lib, 'bad-yaml', { 'package-installs.yaml': 'a: [\n' });
    element(lib, 'bad-key', { 'package-installs.yaml': 'a: {colour: red}\n' });
    expect(run(lib, ['debian-minimal', 'bad-yaml']).message).toContain(path.join(lib, 'bad-yaml', 'package-installs.yaml'));
    expect(run(lib, ['debian-minimal', 'bad-key']).message).toContain("unknown key 'colour'");
  });
  it('a pkg-map that is not JSON', () => {
    const lib = library();
    element(lib, 'bad-map', { 'pkg-map': '{"family": {' });
    const e = run(lib, ['debian-minimal', 'bad-map']);
    expect(e.message).toContain(path.join(lib, 'bad-map', 'pkg-map'));
  });
  it('a circular element-deps names the loop and the file', () => {
    const lib = library();
    element(lib, 'loop-a', { 'element-deps': 'loop-b\n' });
    element(lib, 'loop-b', { 'element-deps': 'loop-a\n' });
    const e = run(lib, ['debian-minimal', 'loop-a']);
    expect(e.message).toMatch(/circular element-deps: loop-(a|b) -> loop-(a|b) -> loop-(a|b)/);
    expect(e.message).toContain('element-deps');
  });
});
