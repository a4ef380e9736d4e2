/**
 * Shell is code too: every shell program of the repository passes shellcheck. That is each
 * .sh file (src/pipeline/sh/, scripts/, fixtures/, test/helpers/) and each shell file of the
 * built-in flavours: hooks and libraries with a sh or bash #! line or a `# shellcheck shell=`
 * line, and the .bash files (environment.d) that bash sources. shellcheck runs in each file's
 * folder with -x, so that the `# shellcheck source=` lines of the hooks resolve.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli-run.js';
import { hasTool } from './helpers/tools.js';

const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', '.git']);

/** The shell files: repository paths, sorted. */
function shellFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(REPO, p);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (e.isFile() && (/\.(sh|bash)$/.test(e.name) || (rel.startsWith('flavours/') && isShell(p)))) {
        out.push(rel);
      }
    }
  };
  walk(REPO);
  return out.sort();
}

/** A #! line naming sh or bash, or a shellcheck shell directive first. */
function isShell(file: string): boolean {
  const first = fs.readFileSync(file, 'utf8').split('\n', 1)[0]!;
  return /^#!.*\b(ba)?sh\b/.test(first) || /^# shellcheck shell=/.test(first);
}

/** shellcheck's complaints about `rel`, or '' when it has none. */
function shellcheck(rel: string): string {
  const file = path.join(REPO, rel);
  const args = ['-x', '-f', 'gcc', ...(rel.endsWith('.bash') && !isShell(file) ? ['-s', 'bash'] : []), path.basename(file)];
  const r = spawnSync('shellcheck', args, { cwd: path.dirname(file), encoding: 'utf8' });
  if (r.error) throw r.error;
  return r.status === 0 ? '' : `${rel}:\n${r.stdout}${r.stderr}`;
}

describe.skipIf(!hasTool('shellcheck'))('shellcheck', () => {
  it('finds the shell files, the pipeline\'s and the flavours\' hooks among them', () => {
    const files = shellFiles();
    expect(files).toEqual(expect.arrayContaining([
      'src/pipeline/sh/mknod.sh', 'src/pipeline/sh/userns-holder.sh', 'scripts/setup-host.sh',
      'flavours/debian-minimal/root.d/08-debian-bootstrap', 'flavours/bootloader/environment.d/10-bootloader-defaults.bash',
    ]));
  });

  it('complains about a shell mistake (so that the test can fail)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-shellcheck-'));
    try {
      fs.writeFileSync(path.join(dir, 'bad.sh'), '#!/bin/sh\nrm -rf $1/x\n');
      const r = spawnSync('shellcheck', ['-f', 'gcc', 'bad.sh'], { cwd: dir, encoding: 'utf8' });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toContain('SC2086');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has nothing to say about any of them', () => {
    expect(shellFiles().map(shellcheck).filter(Boolean)).toEqual([]);
  });
});
