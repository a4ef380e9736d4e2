// dib-run-parts rules checked against DIB's own selection pipeline (find | grep | LANG=C sort -n,
// GNU coreutils as the reference), and the environment each hook gets. No root needed.
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CleanupStack } from '../../src/pipeline/cleanup.js';
import { compareRunParts, mergeHooks, selectEnvFiles, selectHooks } from '../../src/pipeline/hooks.js';
import { runPhase, timingTable, type HookTiming } from '../../src/pipeline/run-phase.js';
import { indexFlavours, resolveFlavours } from '../../src/pipeline/flavours.js';
import { hookEnvironment } from '../../src/pipeline/environment.js';
import { parseOptions } from '../../src/pipeline/parse-options.js';
import { HookError } from '../../src/errors.js';

let tmp: string;
beforeEach(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hooks-')); });
afterEach(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

const NAMES = ['10-ten', '9-nine', '09-nine-padded', '100-hundred', 'zeta', 'alpha', '00-zero', '50-b', '50-a', '50_a',
  '-5-minus', '7', 'with.dot', '20-x.sh', 'UPPER', '050-b', '99999999999-big'];

describe('dib-run-parts selection and order', () => {
  it('matches find -xtype f -executable | grep ^[0-9A-Za-z_-]+$ | LANG=C sort -n', () => {
    const dir = path.join(tmp, 'install.d');
    fs.mkdirSync(dir);
    for (const n of NAMES) fs.writeFileSync(path.join(dir, n), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, '15-not-exec'), '', { mode: 0o644 });
    fs.mkdirSync(path.join(dir, '16-a-dir'));
    fs.symlinkSync('10-ten', path.join(dir, '17-link'));
    fs.symlinkSync('missing', path.join(dir, '18-dangling'));
    const expected = execSync(
      `find ${dir} -maxdepth 1 -xtype f -executable -printf '%f\\n' | grep -E '^[0-9A-Za-z_-]+$' | LANG=C sort -n`,
      { encoding: 'utf8' }).trim().split('\n');
    const sel = selectHooks(dir);
    expect(sel.run).toEqual(expected);
    expect(sel.run.slice(0, 4)).toEqual(['-5-minus', '00-zero', 'UPPER', 'alpha']);
    const skipped = new Map(sel.skipped.map((s) => [s.name, s.why]));
    expect(skipped.get('with.dot')).toContain('name does not match');
    expect(skipped.get('20-x.sh')).toContain('name does not match');
    expect(skipped.get('15-not-exec')).toBe('not an executable file');
    expect(skipped.get('16-a-dir')).toBe('not an executable file');
    expect(skipped.get('18-dangling')).toBe('not an executable file');
  });

  it('orders environment.d files like sort -n too (dots allowed)', () => {
    const dir = path.join(tmp, 'environment.d');
    fs.mkdirSync(dir);
    for (const n of ['10-b.bash', '2-a.bash', '10-a.bash', 'x.bash', 'bad name']) fs.writeFileSync(path.join(dir, n), '');
    expect(selectEnvFiles(dir)).toEqual(['x.bash', '2-a.bash', '10-a.bash', '10-b.bash']);
    expect(compareRunParts('9', '10')).toBeLessThan(0);
  });
});

describe('running a phase', () => {
  function setup(hooks: Record<string, string>): { tree: ReturnType<typeof mergeHooks>; root: string } {
    const fl = path.join(tmp, 'flavours', 'f');
    for (const [rel, body] of Object.entries(hooks)) {
      fs.mkdirSync(path.dirname(path.join(fl, rel)), { recursive: true });
      fs.writeFileSync(path.join(fl, rel), body, { mode: 0o755 });
    }
    fs.writeFileSync(path.join(fl, 'README.md'), '# f\n');
    fs.writeFileSync(path.join(fl, 'element-provides'), 'operating-system\n');
    const idx = indexFlavours([path.join(tmp, 'flavours')]);
    const tree = mergeHooks([idx.flavours.get('f')!], path.join(tmp, 'build', 'hooks'));
    const root = path.join(tmp, 'build', 'mnt');
    fs.mkdirSync(root, { recursive: true });
    return { tree, root };
  }

  it("gives hooks DIB's variables, sources environment.d in order, and times each hook", async () => {
    const { tree, root } = setup({
      'environment.d/10-late.bash': 'export ORDER="${ORDER:-}late"\n',
      'environment.d/2-early.bash': 'export ORDER="${ORDER:-}early,"\n',
      'post-root.d/50-dump': '#!/bin/bash\nenv > "$TARGET_ROOT/env.txt"\n',
    });
    const resolved = resolveFlavours(['f'], indexFlavours([path.join(tmp, 'flavours')]), { skipBase: true });
    const opts = parseOptions(['-o', 'img', '--root-label', 'myroot', '--offline', '-x', 'f'], { HOME: '/home/u', DIB_RELEASE: 'trixie' });
    const env = hookEnvironment(opts, resolved, { build: path.join(tmp, 'build'), hooks: tree.dir, mnt: root }, { PATH: process.env.PATH, HOME: '/home/u', DIB_RELEASE: 'trixie' });
    const timings: HookTiming[] = [];
    const out: string[] = [];
    await runPhase('post-root.d', 'outside', { hooks: tree, root, env, cleanup: new CleanupStack(() => {}), output: (c) => out.push(c), timings });
    const vars = Object.fromEntries(fs.readFileSync(path.join(root, 'env.txt'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars.ORDER).toBe('early,late');
    expect(vars.TARGET_ROOT).toBe(root);
    expect(vars.TMP_MOUNT_PATH).toBe(root);
    expect(vars.TMP_HOOKS_PATH).toBe(tree.dir);
    expect(vars.IMAGE_ELEMENT).toBe('f');
    expect(vars.IMAGE_NAME).toBe('img');
    expect(vars.ARCH).toBe('amd64');
    expect(vars.DIB_ROOT_LABEL).toBe('myroot');
    expect(vars.DIB_OFFLINE).toBe('1');
    expect(vars.DIB_DEBUG_TRACE).toBe('1');
    expect(vars.DIB_RELEASE).toBe('trixie');
    expect(vars.DIB_IMAGE_CACHE).toBe('/home/u/.cache/image-create');
    expect(vars.LC_ALL).toBe('C');
    expect(timings.map((t) => [t.phase, t.hook, t.flavour])).toEqual([['post-root.d', '50-dump', 'f']]);
    expect(timingTable(timings)).toMatch(/post-root\.d\/50-dump\s+f\s+\d+\.\d{3}/);
  });

  it('stops at the first failing hook with a HookError naming flavour, phase, script and exit code', async () => {
    const { tree, root } = setup({
      'cleanup.d/10-ok': '#!/bin/sh\necho ran-10 >> "$TARGET_ROOT/log"\n',
      'cleanup.d/20-fail': '#!/bin/sh\necho ran-20 >> "$TARGET_ROOT/log"\nexit 7\n',
      'cleanup.d/30-never': '#!/bin/sh\necho ran-30 >> "$TARGET_ROOT/log"\n',
    });
    const env = { PATH: process.env.PATH, TARGET_ROOT: root };
    const err = await runPhase('cleanup.d', 'outside', { hooks: tree, root, env, cleanup: new CleanupStack(() => {}), output: () => {}, timings: [] })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(HookError);
    const h = err as HookError;
    expect([h.flavour, h.phase, h.script, h.exitCode]).toEqual(['f', 'cleanup.d', '20-fail', 7]);
    expect(h.message).toBe("hook cleanup.d/20-fail of flavour 'f' failed with exit code 7");
    expect(fs.readFileSync(path.join(root, 'log'), 'utf8')).toBe('ran-10\nran-20\n');
  });

  it('fails a hook whose environment.d file fails under set -eu', async () => {
    const { tree, root } = setup({
      'environment.d/10-bad.bash': 'echo "$UNSET_VARIABLE_FOR_TEST"\n',
      'cleanup.d/10-ok': '#!/bin/sh\ntouch "$TARGET_ROOT/ran"\n',
    });
    const err = await runPhase('cleanup.d', 'outside', { hooks: tree, root, env: { PATH: process.env.PATH, TARGET_ROOT: root }, cleanup: new CleanupStack(() => {}), output: () => {}, timings: [] })
      .then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(HookError);
    expect(fs.existsSync(path.join(root, 'ran'))).toBe(false);
  });
});
