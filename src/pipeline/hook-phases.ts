/**
 * The hook-phase stage of a build (pipeline.ts), in diskimage-builder's phase order
 * (hooks.ts PHASES): merge the flavours' hooks, make the root tree (root.d, or a copy of
 * --root-dir/--root-tar), then run every phase that has hooks, entering the chroot for
 * pre-install.d..post-install.d and for finalise.d. A build whose flavours have no hooks and
 * no packages hands the given root tree straight to the writer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WriterJob } from '../assemble/writer-job.js';
import { DiskImageError } from '../errors.js';
import { hasRootContent } from './build-folder.js';
import { Chroot, hostMounts, IN_TARGET, type ChrootMounts } from './chroot.js';
import { namespaceMounts } from './chroot-userns.js';
import { installDeviceShim, markDevicePlaceholders, SHIM_DIR } from './device-shim.js';
import { addDibVariables, writePackagePlan } from './dib-env.js';
import { hookEnvironment } from './environment.js';
import { flavourSearchPath } from './flavours.js';
import { runTrackedOk } from './exec.js';
import { mergeHooks, PHASES, selectHooks, type HookTree } from './hooks.js';
import { installPackages } from './packages.js';
import { runPhase, type PhaseContext } from './run-phase.js';
import type { Build } from './setup.js';
import { systemTool } from './userns.js';

/** What the hook phases leave for the writer job (or the ramdisk archiver). */
export interface RootTree {
  /** The tree the writer reads. */
  tree: WriterJob['tree'];
  /** The image tree in the build folder (TMP_MOUNT_PATH), made or not. */
  mnt: string;
  /** The merged hooks, whose environment.d files the writer job sources. */
  hooksDir: string;
  hookEnv: NodeJS.ProcessEnv;
  /** A layout a block-device.d hook printed, when neither the command line nor the environment gave one. */
  printedLayout?: string;
}

/** The groups of phases that run in the chroot, each entered at its first phase and left after its last. */
const CHROOT_GROUPS = [['pre-install.d', 'install.d', 'post-install.d'], ['finalise.d']];

/** Merges the hooks and runs the phases that have some; returns the root tree the build ends with. */
export async function runHookPhases(b: Build): Promise<RootTree> {
  const { opts, io, ns } = b;
  const dirs = { build: b.dir, hooks: path.join(b.dir, 'hooks'), mnt: path.join(b.dir, 'mnt') };
  const hooks: HookTree = mergeHooks(b.resolved.flavours, dirs.hooks);
  const hookPhases = new Set(PHASES.map((p) => p.name).filter((p) => selectHooks(path.join(hooks.dir, p)).run.length > 0));
  const hookEnv = addDibVariables(hookEnvironment(opts, b.resolved, dirs, b.env), flavourSearchPath(b.env));
  writePackagePlan(b.resolved, dirs.hooks, hookEnv, io.log);
  const shimDir = path.join(dirs.hooks, SHIM_DIR);
  if (ns) installDeviceShim(shimDir);
  const made = { mnt: dirs.mnt, hooksDir: hooks.dir, hookEnv };
  if (hookPhases.size === 0 && opts.packages.length === 0 && (opts.rootDir || opts.rootTar)) {
    io.log('no flavour has hooks: the given root tree goes straight to the assembler');
    return { ...made, tree: opts.rootDir ? { dir: opts.rootDir } : { tar: opts.rootTar! } };
  }
  b.hooksRan = true;
  fs.mkdirSync(dirs.mnt, { mode: 0o755 });
  await copyGivenRoot(b, dirs.mnt);
  const ctx = phaseContext(b, hooks, hookEnv, dirs.mnt, shimDir);
  const mounts = ns ? namespaceMounts(ns, { rel: SHIM_DIR, src: shimDir }) : hostMounts;
  let printedLayout = await runPhases(b, ctx, hookPhases, mounts, dirs.hooks);
  if (b.cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${b.cleanup.interrupted}`);
  // The command line (or DIB_BLOCK_DEVICE_CONFIG) wins over a hook's printed layout.
  if (printedLayout && opts.blockDeviceConfig !== undefined) {
    io.log('a block-device.d hook printed a layout; --block-device-config / DIB_BLOCK_DEVICE_CONFIG wins');
    printedLayout = undefined;
  }
  return { ...made, tree: { dir: dirs.mnt, ...(ns ? { devicePlaceholders: true } : {}) }, ...(printedLayout ? { printedLayout } : {}) };
}

/** --root-dir is copied, --root-tar unpacked into the image tree (inside the namespace, when there is one). */
async function copyGivenRoot(b: Build, mnt: string): Promise<void> {
  const { opts, io, ns, cleanup } = b;
  const inNs = (cmd: string, args: string[]): [string, string[]] => (ns ? ns.wrap(cmd, args, { pid: false }) : [cmd, args]);
  if (opts.rootDir) {
    io.progress?.({ stage: 'copy', detail: opts.rootDir });
    io.log(`copying --root-dir ${opts.rootDir} into the build folder (flavours have hooks)`);
    await runTrackedOk(...inNs('cp', ['-a', '--one-file-system', `${opts.rootDir}/.`, mnt]), {}, cleanup, `copy --root-dir ${opts.rootDir} into the build folder`);
  } else if (opts.rootTar) {
    io.progress?.({ stage: 'unpack', detail: opts.rootTar });
    io.log(`unpacking --root-tar ${opts.rootTar} into the build folder (flavours have hooks)`);
    await runTrackedOk(...inNs('tar', ['-x', '--xattrs', '--xattrs-include=*', '--numeric-owner', '-p', '-f', opts.rootTar, '-C', mnt]),
      { stdin: opts.rootTar === '-' ? 'inherit' : 'ignore' }, cleanup, `unpack --root-tar ${opts.rootTar}`);
  }
}

/** How the phases run their hooks: progress and log lines, and the namespace's wrapping and device marks. */
function phaseContext(b: Build, hooks: HookTree, hookEnv: NodeJS.ProcessEnv, mnt: string, shimDir: string): PhaseContext {
  const { io, ns } = b;
  return {
    hooks, root: mnt, env: hookEnv, cleanup: b.cleanup, timings: b.timings, output: io.output,
    onHookStart: (phase, hook) => {
      io.progress?.({ stage: phase, detail: hook });
      io.log(`running ${phase}/${hook} (${hooks.origin.get(`${phase}/${hook}`)})`);
    },
    ...(ns ? {
      inNamespace: {
        wrap: (cmd: string, args: string[], cwd: string) => ns.wrap(cmd, args, { cwd }),
        chrootTool: systemTool('chroot', b.env),
        shimOutside: path.join(shimDir, 'bin'),
        shimInChroot: path.posix.join(IN_TARGET, SHIM_DIR, 'bin'),
        afterHook: (where: 'outside' | 'chroot') => markDevicePlaceholders(shimDir, mnt, where, ns, io.log),
      },
    } : {}),
  };
}

/** Runs the phases in order (packages after install.d's hooks); returns a layout a block-device.d hook printed. */
async function runPhases(b: Build, ctx: PhaseContext, hookPhases: Set<string>, mounts: ChrootMounts, hooksDir: string): Promise<string | undefined> {
  const { opts, cleanup } = b;
  let printedLayout: string | undefined;
  let chroot: Chroot | null = null;
  for (const phase of PHASES) {
    if (cleanup.interrupted) break;
    const group = CHROOT_GROUPS.find((g) => g[0] === phase.name);
    if (group && (group.some((p) => hookPhases.has(p)) || (phase.name === 'pre-install.d' && opts.packages.length > 0))) {
      chroot = new Chroot(ctx.root, cleanup, b.io.log, mounts);
      chroot.enter(hooksDir);
    }
    if (hookPhases.has(phase.name)) {
      const out = await runPhase(phase.name, phase.where, ctx);
      if (phase.name === 'block-device.d' && out.trimStart().startsWith('- ')) printedLayout = out;
    }
    if (phase.name === 'install.d' && opts.packages.length > 0) await installPackages(opts.packages, ctx);
    if (phase.name === 'root.d' && !opts.rootDir && !opts.rootTar && !hasRootContent(ctx.root)) {
      throw new DiskImageError('INPUT', 'root.d did not populate the root tree (it holds nothing but lost+found/tmp)',
        'the operating-system flavour failed to deploy its root: check its root.d output above');
    }
    if (chroot && (phase.name === 'post-install.d' || phase.name === 'finalise.d')) {
      chroot.leave();
      chroot = null;
    }
  }
  return printedLayout;
}
