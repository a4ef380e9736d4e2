/**
 * What DIB's elements expect of the build around them, set up once the hooks are merged:
 * - the variables DIB's disk-image-create exports that hookEnvironment does not already
 *   set: _LIB (our own lib/ folder: img-functions, common-functions, ...), ELEMENTS_PATH,
 *   DIB_OFFLINE (always set, empty when online, as DIB's common-defaults does),
 *   DIB_PYTHON_EXEC, and the `sudo` stand-in (lib/host-bin/sudo) first on PATH for host-side
 *   hooks (in-chroot hooks get the chroot's own PATH);
 * - the package-installs plan (package-installs.ts) written into the hook tree, so that a
 *   bad `when` stops the build before root.d bootstraps anything.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from './cleanup.js';
import { sourcedEnvironment } from './environment.js';
import { builtinFlavoursDir, type Resolved } from './flavours.js';
import { planPackageInstalls, PLAN_FILE, renderPlan, svcMapTable } from './package-installs.js';

/** The svc-map table's file name in the hook tree (read by flavours/svc-map/bin/svc-map). */
export const SVC_MAP_TABLE = 'svc-map.table';

/** Our own implementation of DIB's lib/ folder (what elements source from $_LIB). */
export function dibLibDir(): string {
  return path.join(path.dirname(builtinFlavoursDir()), 'lib');
}

/** The folder holding the `sudo` stand-in for host-side hooks. */
export function sudoShimDir(): string {
  return path.join(dibLibDir(), 'host-bin');
}

/** The file of functions DIB exports to every host-side hook (get_image_element_array). */
export function hookFunctionsFile(): string {
  return path.join(dibLibDir(), 'hook-functions');
}

/** Adds DIB's remaining variables to the hook environment (in place). */
export function addDibVariables(env: NodeJS.ProcessEnv, searchPath: string[]): NodeJS.ProcessEnv {
  const dirs = (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':').filter((d) => d !== '' && d !== sudoShimDir());
  env.PATH = [sudoShimDir(), ...dirs].join(':');
  env._LIB = dibLibDir();
  env.ELEMENTS_PATH = searchPath.join(':');
  env.DIB_OFFLINE = env.DIB_OFFLINE ?? '';
  env.DIB_PYTHON_EXEC = env.DIB_PYTHON_EXEC ?? 'python3';
  return env;
}

/**
 * Squashes the selected elements' package-installs files into the plan file of the hook
 * tree (only when the package-installs flavour is selected, as in DIB). The environment is
 * the one extra-data.d would see: the hook environment with environment.d sourced.
 */
export function writePackagePlan(resolved: Resolved, hooksDir: string, env: NodeJS.ProcessEnv, log: Logger): void {
  const has = (name: string): boolean => resolved.flavours.some((f) => f.name === name);
  if (!has('package-installs') && !has('svc-map')) return;
  const sourced = sourcedEnvironment(hooksDir, env);
  if (has('svc-map')) fs.writeFileSync(path.join(hooksDir, SVC_MAP_TABLE), svcMapTable(resolved.flavours, sourced.DISTRO_NAME ?? ''));
  if (!has('package-installs')) return;
  const lines = planPackageInstalls(resolved.flavours, sourced);
  fs.writeFileSync(path.join(hooksDir, PLAN_FILE), renderPlan(lines));
  log(`package-installs: ${lines.filter((l) => l.action === 'install').length} to install, ${lines.filter((l) => l.action === 'uninstall').length} to remove`);
}
