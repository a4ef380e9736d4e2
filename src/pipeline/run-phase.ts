/**
 * Runs one phase's hooks the way DIB's dib-run-parts does: the selected scripts one after
 * another, each after sourcing the merged environment.d files under `set -eu`, stopping at
 * the first failure (HookError naming the flavour, phase, script and exit code). Outside
 * hooks run on the host with bash; chroot hooks run under `chroot ROOT` with the tree's own
 * bash (or sh) and see the hook tree at /tmp/in_target.d. Each hook runs in its own process
 * group so that cleanup can end it and everything it started.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HookError } from '../errors.js';
import { runTracked } from './exec.js';
import type { CleanupStack } from './cleanup.js';
import { IN_TARGET } from './chroot.js';
import { deviceLogBeside } from './device-shim.js';
import { hookFunctionsFile } from './dib-env.js';
import { selectEnvFiles, selectHooks, type HookTree, type Where } from './hooks.js';

export interface HookTiming { phase: string; hook: string; flavour: string; seconds: number }

export interface PhaseContext {
  hooks: HookTree;
  /** The image tree (TMP_MOUNT_PATH); the chroot root for in-target phases. */
  root: string;
  env: NodeJS.ProcessEnv;
  cleanup: CleanupStack;
  /** Receives hook output as it arrives. */
  output: (chunk: string, stream: 'stdout' | 'stderr') => void;
  onHookStart?: (phase: string, hook: string) => void;
  timings: HookTiming[];
  /**
   * Unprivileged builds: how a hook's command runs inside the build's user namespace (cwd is
   * applied there), and what is added to PATH in front (the mknod stand-in); see userns.ts.
   */
  inNamespace?: {
    wrap: (cmd: string, args: string[], cwd: string) => [string, string[]];
    /** The host's chroot program (an ordinary user's PATH often lacks /usr/sbin). */
    chrootTool: string;
    /** Folder of the mknod stand-in, as outside hooks and as chroot hooks see it. */
    shimOutside: string;
    shimInChroot: string;
    /** Called after each hook and package install (device placeholders get their marks). */
    afterHook: (where: Where) => void;
  };
}

/** The command and environment that run `cmd args` for `where` (in the namespace, when there is one). */
export function hookCommand(ctx: PhaseContext, where: Where, cmd: string, args: string[], env: NodeJS.ProcessEnv): { cmd: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string } {
  const cwd = where === 'outside' ? ctx.root : '/';
  const ns = ctx.inNamespace;
  if (!ns) return { cmd, args, env, cwd };
  const [c, a] = ns.wrap(cmd === 'chroot' ? ns.chrootTool : cmd, args, cwd);
  const shim = where === 'outside' ? ns.shimOutside : ns.shimInChroot;
  // Outside hooks act as root: they get root's sbin folders, as sudo's secure_path gives them.
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  if (where === 'outside') for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  const mknodRoot = where === 'outside' ? ctx.root : '/';
  return {
    cmd: c, args: a, cwd: '/',
    env: { ...env, DIB_UNPRIVILEGED: '1', DIB_TS_MKNOD_ROOT: mknodRoot, DIB_TS_MKNOD_LOG: deviceLogBeside(shim), PATH: [shim, ...dirs].join(':') },
  };
}

const RUNNER = 'hook="$1"; shift; for f in "$@"; do . "$f"; done; exec "$hook"';
const CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function shellInside(root: string): string {
  for (const sh of ['bin/bash', 'usr/bin/bash']) {
    try {
      fs.lstatSync(path.join(root, sh));
      return '/' + sh;
    } catch { /* try the next */ }
  }
  return '/bin/sh';
}

/** Runs every hook of `phase`; returns the stdout of the phase's hooks (block-device.d reads it). */
export async function runPhase(phase: string, where: Where, ctx: PhaseContext): Promise<string> {
  const phaseDir = path.join(ctx.hooks.dir, phase);
  const { run } = selectHooks(phaseDir);
  const envFiles = selectEnvFiles(path.join(ctx.hooks.dir, 'environment.d'));
  let captured = '';
  for (const hook of run) {
    if (ctx.cleanup.interrupted) break;
    const flavour = ctx.hooks.origin.get(`${phase}/${hook}`) ?? '?';
    ctx.onHookStart?.(phase, hook);
    let cmd: string;
    let args: string[];
    let env: NodeJS.ProcessEnv;
    if (where === 'outside') {
      cmd = 'bash';
      args = ['-eu', '-o', 'pipefail', '-c', RUNNER, 'dib-run-parts', path.join(phaseDir, hook), hookFunctionsFile(),
        ...envFiles.map((f) => path.join(ctx.hooks.dir, 'environment.d', f))];
      env = ctx.env;
    } else {
      const inside = (rel: string): string => path.posix.join(IN_TARGET, rel);
      cmd = 'chroot';
      args = [ctx.root, shellInside(ctx.root), '-eu', '-c', RUNNER, 'dib-run-parts', inside(`${phase}/${hook}`),
        ...envFiles.map((f) => inside(`environment.d/${f}`))];
      env = { ...ctx.env, PATH: CHROOT_PATH, HOME: '/root' };
      delete env.TMPDIR;
      delete env.VIRTUAL_ENV;
    }
    const started = process.hrtime.bigint();
    const run = hookCommand(ctx, where, cmd, args, env);
    const { code } = await runTracked(run.cmd, run.args, {
      env: run.env, cwd: run.cwd,
      output: (d, stream) => {
        if (stream === 'stdout' && phase === 'block-device.d') captured += d;
        ctx.output(d, stream);
      },
    }, ctx.cleanup, `run the hook ${phase}/${hook}`);
    ctx.timings.push({ phase, hook, flavour, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    ctx.inNamespace?.afterHook(where);
    if (code !== 0) {
      throw new HookError(flavour, phase, hook, code,
        `see the hook's output above; the hook is ${path.join(phaseDir, hook)} (copied from flavour ${flavour})`);
    }
  }
  return captured;
}

/** DIB's PROFILING table: one line per hook, slowest phases visible at a glance. */
export function timingTable(timings: HookTiming[]): string {
  if (timings.length === 0) return '';
  const w = Math.max(...timings.map((t) => `${t.phase}/${t.hook}`.length), 10);
  const lines = ['Hook timings (seconds):', `${'hook'.padEnd(w)}  ${'flavour'.padEnd(18)} seconds`];
  for (const t of timings) lines.push(`${`${t.phase}/${t.hook}`.padEnd(w)}  ${t.flavour.padEnd(18)} ${t.seconds.toFixed(3).padStart(8)}`);
  const total = timings.reduce((s, t) => s + t.seconds, 0);
  lines.push(`${'total'.padEnd(w)}  ${''.padEnd(18)} ${total.toFixed(3).padStart(8)}`);
  return lines.join('\n') + '\n';
}
