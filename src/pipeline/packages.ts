/**
 * `-p PKG[,PKG]`: packages installed in the chroot right after install.d.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskImageError } from '../errors.js';
import { runTracked } from './exec.js';
import { hookCommand, type PhaseContext } from './run-phase.js';

/** `-p`: DIB installs these with install-packages right after install.d; here apt-get in the chroot. */
export async function installPackages(pkgs: string[], ctx: PhaseContext): Promise<void> {
  const dir = path.join(ctx.root, 'tmp');
  const name = 'dib-ts-install-packages';
  const script = path.join(dir, name);
  fs.writeFileSync(script, [
    '#!/bin/sh', 'set -eu', 'export DEBIAN_FRONTEND=noninteractive',
    `if command -v install-packages >/dev/null; then exec install-packages ${pkgs.join(' ')}; fi`,
    // bootstrap tools drop the package lists; fetch them once when there are none
    'if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name \'*_Packages*\' 2>/dev/null | head -n 1)" ]; then apt-get -q update; fi',
    `apt-get -y -q install --no-install-recommends ${pkgs.join(' ')}`, '',
  ].join('\n'), { mode: 0o755 });
  try {
    const run = hookCommand(ctx, 'chroot', 'chroot', [ctx.root, `/tmp/${name}`], { ...ctx.env, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' });
    const { code } = await runTracked(run.cmd, run.args, { env: run.env, cwd: run.cwd, output: ctx.output }, ctx.cleanup, 'install the -p packages');
    ctx.inNamespace?.afterHook('chroot');
    if (code !== 0) throw new DiskImageError('HOOK', `installing the -p packages (${pkgs.join(', ')}) failed with exit code ${code}`, 'check the package names and the mirror (output above)');
  } finally {
    fs.rmSync(script, { force: true });
  }
}
