/**
 * The environment of hooks: DIB's variables for every hook (hookEnvironment), and what the
 * flavours' environment.d files make of it once sourced in bash (sourcedEnvironment), which
 * the assembly reads (DIB_GRUB_TIMEOUT, DIB_BLOCK_DEVICE, ...).
 */
import * as path from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import { runSync } from './exec.js';
import type { Resolved } from './flavours.js';
import { selectEnvFiles } from './hooks.js';
import type { BuildOptions } from './options.js';

/** The variables every hook sees (DIB's names). */
export function hookEnvironment(opts: BuildOptions, resolved: Resolved, dirs: { build: string; hooks: string; mnt: string }, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = opts.clearEnv
    ? { PATH: base.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: base.HOME ?? '/root', ...(base.TERM ? { TERM: base.TERM } : {}) }
    : { ...base };
  Object.assign(env, {
    LC_ALL: 'C',
    ARCH: opts.arch,
    IMAGE_NAME: opts.imageName,
    IMAGE_ELEMENT: resolved.flavours.map((f) => f.name).join(' '),
    IMAGE_ELEMENT_YAML: resolved.flavours.map((f) => `${f.name}: ${f.dir}`).join('\n'),
    TMP_BUILD_DIR: dirs.build,
    TMP_HOOKS_PATH: dirs.hooks,
    TMP_MOUNT_PATH: dirs.mnt,
    TARGET_ROOT: dirs.mnt,
    DIB_IMAGE_CACHE: opts.imageCache,
    DIB_ROOT_LABEL: opts.rootLabel ?? 'cloudimg-rootfs',
    DIB_ROOT_FSTYPE: 'ext4',
    FS_TYPE: 'ext4',
    DIB_INIT_SYSTEM: base.DIB_INIT_SYSTEM || 'systemd',
    DIB_DEBUG_TRACE: String(opts.trace),
    DIB_NO_TMPFS: opts.noTmpfs ? '1' : '0',
  });
  if (opts.offline) env.DIB_OFFLINE = '1';
  else delete env.DIB_OFFLINE;
  if (opts.rootLabel) env.ROOT_LABEL = opts.rootLabel;
  if (opts.imageSize !== undefined) env.DIB_IMAGE_SIZE = String(opts.imageSize / 2 ** 30);
  if (opts.release) env.DIB_RELEASE = opts.release;
  if (opts.mirror) env.DIB_DISTRIBUTION_MIRROR = opts.mirror;
  if (opts.grubTimeout !== undefined) env.DIB_GRUB_TIMEOUT = String(opts.grubTimeout);
  if (opts.packages.length) env.INSTALL_PACKAGES = opts.packages.join(' ');
  return env;
}

/** The environment after sourcing every environment.d file (what the flavours set for assembly). */
export function sourcedEnvironment(hooksDir: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const envDir = path.join(hooksDir, 'environment.d');
  const files = selectEnvFiles(envDir).map((f) => path.join(envDir, f));
  // Nothing to source: bash would hand the environment back as it is (and cost a start-up).
  if (files.length === 0) return { ...env };
  let stdout: string;
  try {
    stdout = runSync('bash', ['-eu', '-c', 'for f; do . "$f"; done; env -0', 'dib-env', ...files], "source the flavours' environment.d files", { env, pkg: 'bash' });
  } catch (e) {
    if (e instanceof InputError) throw new ConfigError('environment.d', e.message, 'fix the named file');
    throw e;
  }
  const out: NodeJS.ProcessEnv = {};
  for (const kv of stdout.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}
