// DIB's package-installs rules as the pipeline squashes them (src/pipeline/package-installs.ts),
// one case per key, and the in-chroot runner reading the plan with stand-in install-packages.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiskImageError } from '../../src/errors.js';
import { readFlavour } from '../../src/pipeline/flavours.js';
import { checkElementFiles, planPackageInstalls, renderPlan, svcMapTable } from '../../src/pipeline/package-installs.js';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pkginst-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function element(name: string, files: Record<string, string>) {
  const dir = path.join(tmp, name);
  for (const [rel, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  }
  return readFlavour(name, dir);
}

const ENV = { ARCH: 'amd64', DISTRO_NAME: 'debian', DIB_RELEASE: 'trixie' };
const plan = (yaml: string, env: NodeJS.ProcessEnv = ENV, extra: Record<string, string> = {}) =>
  planPackageInstalls([element('e', { 'package-installs.yaml': yaml, ...extra })], env).map((l) => `${l.phase} ${l.action} ${l.pkg}`);

function caught(f: () => unknown): DiskImageError {
  try { f(); } catch (e) { return e as DiskImageError; }
  throw new Error('expected an error');
}

describe('package-installs keys', () => {
  it('a bare name installs at install.d', () => {
    expect(plan('a:\nb: {}\n')).toEqual(['install.d install a', 'install.d install b']);
  });
  it('phase moves it to pre-install.d or post-install.d', () => {
    expect(plan('a: {phase: pre-install.d}\nb: {phase: post-install.d}\n')).toEqual(['pre-install.d install a', 'post-install.d install b']);
  });
  it('uninstall removes instead of installing', () => {
    expect(plan('a: {uninstall: true}\n')).toEqual(['install.d uninstall a']);
  });
  it('build-only installs and removes in the same phase', () => {
    expect(plan('a: {build-only: true, phase: post-install.d}\n')).toEqual(['post-install.d install a', 'post-install.d uninstall a']);
  });
  it('installtype follows DIB_INSTALLTYPE_<element>, then DIB_DEFAULT_INSTALLTYPE, then source', () => {
    const y = 'a: {installtype: source}\nb: {installtype: package}\n';
    expect(plan(y)).toEqual(['install.d install a']);
    expect(plan(y, { ...ENV, DIB_DEFAULT_INSTALLTYPE: 'package' })).toEqual(['install.d install b']);
    expect(plan(y, { ...ENV, DIB_DEFAULT_INSTALLTYPE: 'package', DIB_INSTALLTYPE_e: 'source' })).toEqual(['install.d install a']);
  });
  it('arch and not-arch are comma lists matched against ARCH', () => {
    const y = 'a: {arch: "arm64, amd64"}\nb: {arch: ppc64le}\nc: {not-arch: amd64}\nd: {not-arch: "s390x,arm64"}\n';
    expect(plan(y)).toEqual(['install.d install a', 'install.d install d']);
    expect(plan(y, { ...ENV, ARCH: 'ppc64le' })).toEqual(['install.d install b', 'install.d install c', 'install.d install d']);
  });
  it('dib_python_version matches DIB_PYTHON_VERSION', () => {
    expect(plan('a: {dib_python_version: 3}\nb: {dib_python_version: 2}\n', { ...ENV, DIB_PYTHON_VERSION: '3' })).toEqual(['install.d install a']);
  });
  it('when: = and != and a list that must all hold', () => {
    const y = 'a: {when: "X = 1"}\nb: {when: "X != 1"}\nc: {when: [X=1, "Y != 2"]}\nd: {when: [X = 1, Y = 3]}\n';
    expect(plan(y, { ...ENV, X: '1', Y: '3' })).toEqual(['install.d install a', 'install.d install c', 'install.d install d']);
    expect(plan(y, { ...ENV, X: '0', Y: '2' })).toEqual(['install.d install b']);
  });
  it('a list of option sets gives one entry per set', () => {
    expect(plan('a:\n  - {phase: pre-install.d}\n  - {uninstall: true, phase: post-install.d}\n'))
      .toEqual(['pre-install.d install a', 'post-install.d uninstall a']);
  });
  it('names go through the element pkg-map (family level, "" drops the package)', () => {
    expect(plan('growpart:\ngone:\nother:\n', ENV, { 'pkg-map': '{"family": {"debian": {"growpart": "cloud-utils", "gone": ""}}}' }))
      .toEqual(['install.d install cloud-utils', 'install.d install other']);
  });
  it('the older PHASE/package-installs-NAME lists: one a line, "-" removes, NAME is the map element', () => {
    const f = element('old', { 'install.d/package-installs-old': 'a\n# note\n-b\n', 'post-install.d/package-installs-old': 'c\n' });
    expect(planPackageInstalls([f], ENV).map((l) => `${l.phase} ${l.action} ${l.element} ${l.pkg}`))
      .toEqual(['install.d install old a', 'install.d uninstall old b', 'post-install.d install old c']);
  });
  it('every element is squashed into one plan, rendered as tab-separated lines', () => {
    const lines = planPackageInstalls([element('x', { 'package-installs.yaml': 'a:\n' }), element('y', { 'package-installs.json': '{"b": {"phase": "pre-install.d"}}' })], ENV);
    expect(renderPlan(lines)).toBe('install.d\tinstall\tx\ta\npre-install.d\tinstall\ty\tb\n');
  });
});

describe('package-installs errors name the element and file', () => {
  it('not valid YAML', () => {
    const f = element('e', { 'package-installs.yaml': 'a: [\n' });
    const e = caught(() => checkElementFiles([f]));
    expect(e.message).toContain('element e');
    expect(e.message).toContain(path.join(f.dir, 'package-installs.yaml'));
    expect(e.message).toContain('not valid YAML');
  });
  it('an unknown key', () => {
    const e = caught(() => checkElementFiles([element('e', { 'package-installs.yaml': 'a: {phsae: install.d}\n' })]));
    expect(e.message).toContain("unknown key 'phsae'");
  });
  it('arch and not-arch together, a bad phase, a malformed when', () => {
    expect(caught(() => checkElementFiles([element('e', { 'package-installs.yaml': 'a: {arch: x, not-arch: y}\n' })])).message).toContain('both arch and not-arch');
    expect(caught(() => checkElementFiles([element('f', { 'package-installs.yaml': 'a: {phase: root.d}\n' })])).message).toContain("phase 'root.d'");
    expect(caught(() => checkElementFiles([element('g', { 'package-installs.yaml': 'a: {when: "X ~ 1"}\n' })])).message).toContain('malformed when');
  });
  it('a when on an unset variable', () => {
    const e = caught(() => plan('a: {when: "NOT_SET_ANYWHERE = 1"}\n'));
    expect(e.message).toContain('NOT_SET_ANYWHERE is not set');
    expect(e.message).toContain('package-installs.yaml');
  });
  it('a pkg-map that is not JSON', () => {
    const f = element('e', { 'pkg-map': '{"family": ' });
    const e = caught(() => checkElementFiles([f]));
    expect(e.message).toContain(path.join(f.dir, 'pkg-map'));
    expect(e.message).toContain('not valid JSON');
  });
});

describe('svc-map', () => {
  it('distro beats family beats default', () => {
    const f = element('s', { 'svc-map': 'cron:\n  default: cron\n  redhat: crond\nweb:\n  default: httpd\n  debian: apache2\n  ubuntu: apache2-u\n' });
    expect(svcMapTable([f], 'debian')).toBe('cron\tcron\nweb\tapache2\n');
    expect(svcMapTable([f], 'centos')).toBe('cron\tcrond\nweb\thttpd\n');
    expect(svcMapTable([f], 'ubuntu')).toBe('cron\tcron\nweb\tapache2-u\n');
  });
});

describe('the in-chroot runner (flavours/package-installs/bin/package-installs-run)', () => {
  it('installs the phase\'s packages with install-packages, removes with -e, and says when there is nothing', () => {
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'install-packages'), `#!/bin/sh\necho "install-packages $*" >> ${tmp}/calls\n`, { mode: 0o755 });
    const planFile = path.join(tmp, 'plan');
    fs.writeFileSync(planFile, 'install.d\tinstall\te\ta\ninstall.d\tinstall\te\tb\ninstall.d\tuninstall\te\tc\npre-install.d\tinstall\te\td\n');
    const run = new URL('../../flavours/package-installs/bin/package-installs-run', import.meta.url).pathname;
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, PACKAGE_INSTALLS_PLAN: planFile };
    execFileSync(run, ['install.d'], { env });
    execFileSync(run, ['-e', 'install.d'], { env });
    const out = execFileSync(run, ['post-install.d'], { env, encoding: 'utf8' });
    expect(out).toContain('nothing to install in post-install.d');
    expect(fs.readFileSync(path.join(tmp, 'calls'), 'utf8')).toBe('install-packages a b\ninstall-packages -e c\n');
  });
});
