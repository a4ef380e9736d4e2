// Shell in flavours is code too: every shell file of the built-in and test flavours passes
// shellcheck, and every hook stops on errors (set -eu, and pipefail where the shell has it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';
import { hasTool, run } from '../helpers/tools.js';

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? walk(p) : d.isFile() ? [p] : [];
  });
}

interface ShellFile { file: string; shell: 'sh' | 'bash'; sourced: boolean }

/** Shell files: a #! line naming sh or bash, a .sh/.bash name, or anything in environment.d (sourced by bash). */
function shellFiles(): ShellFile[] {
  const out: ShellFile[] = [];
  for (const root of ['flavours', 'fixtures/flavours']) {
    for (const file of walk(path.join(REPO, root))) {
      const first = fs.readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
      const sourced = path.basename(path.dirname(file)) === 'environment.d';
      const m = /^#!\s*(?:\/usr\/bin\/env\s+)?\S*?\b(bash|sh)\b/.exec(first);
      if (m) out.push({ file, shell: m[1] as 'sh' | 'bash', sourced });
      else if (sourced || /\.(bash|sh)$/.test(file)) out.push({ file, shell: 'bash', sourced: true });
    }
  }
  return out;
}

const files = shellFiles();
/**
 * The head of the ramdisk's /init: PID 1 must not stop on a failing command (the kernel would
 * panic), so diskimage-builder's ramdisk interface runs it, and the init.d fragments after
 * it, without `set -e`.
 */
const NOT_SET_E = ['flavours/ramdisk/ramdisk-lib/init'];

describe('flavour shell files', () => {
  it('finds the built-in hooks', () => {
    const rel = files.map((f) => path.relative(REPO, f.file));
    expect(rel).toContain('flavours/debian-minimal/root.d/08-debian-bootstrap');
    expect(rel).toContain('flavours/base/first-boot-runner/dib-first-boot');
    expect(rel).toContain('flavours/debian-minimal/environment.d/10-debian-minimal.bash');
    for (const f of NOT_SET_E) expect(rel).toContain(f);
  });

  it.skipIf(!hasTool('shellcheck'))('pass shellcheck (scripts/setup-host.sh installs it)', () => {
    const failures: string[] = [];
    for (const f of files) {
      const args = ['-x', '-P', 'SCRIPTDIR', '-f', 'gcc'];
      if (f.sourced) args.push('-s', f.shell);
      const r = run('shellcheck', [...args, f.file]);
      if (r.status !== 0) failures.push(`${r.stdout}${r.stderr}`.trim());
    }
    expect(failures.join('\n')).toBe('');
  });

  it('every executable script stops on errors: set -eu, with pipefail (bash) or pipefail where the shell has it (sh)', () => {
    const missing: string[] = [];
    for (const f of files.filter((x) => !x.sourced && path.relative(REPO, x.file).startsWith('flavours/') && !NOT_SET_E.includes(path.relative(REPO, x.file)))) {
      const text = fs.readFileSync(f.file, 'utf8');
      const ok = f.shell === 'bash'
        ? /^set -eu -o pipefail$/m.test(text)
        : /^set -eu$/m.test(text) && /^\(set -o pipefail\) 2>\/dev\/null && set -o pipefail$/m.test(text);
      if (!ok) missing.push(path.relative(REPO, f.file));
    }
    expect(missing).toEqual([]);
  });
});
