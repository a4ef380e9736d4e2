/**
 * `disk-image-create` as a pipeline, in diskimage-builder's phase order
 * (diskimage_builder/lib/disk-image-create): resolve flavours, merge their hooks, make the
 * root tree (root.d, or a copy of --root-dir/--root-tar), run extra-data.d, the chroot phases
 * pre-install.d/install.d/post-install.d, post-root.d, block-device.d (a hook may print the
 * layout), pre-finalise.d, finalise.d in the chroot, cleanup.d, then hand the final tree to
 * the assembler, which writes the image under a temporary name and renames it.
 * Everything the build sets up is undone by one CleanupStack: on success, on a failing hook,
 * on an exception and on SIGINT/SIGTERM.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskImageError } from '../errors.js';
import type { WriterJob } from '../assemble/writer-job.js';
import { removeTempOutputs } from '../binary/file-device.js';
import { hasRootContent, removeBuildDir } from './build-folder.js';
import { Chroot, hostMounts, IN_TARGET } from './chroot.js';
import { namespaceMounts } from './chroot-userns.js';
import { installDeviceShim, markDevicePlaceholders, SHIM_DIR } from './device-shim.js';
import { CleanupStack, type Logger } from './cleanup.js';
import { addDibVariables, writePackagePlan } from './dib-env.js';
import { hookEnvironment, sourcedEnvironment } from './environment.js';
import { flavourSearchPath } from './flavours.js';
import { runTrackedOk } from './exec.js';
import { mergeHooks, PHASES, selectHooks, type HookTree } from './hooks.js';
import { chooseLayout } from './layout-source.js';
import type { BuildOptions } from './options.js';
import { installPackages } from './packages.js';
import { prepare } from './prepare.js';
import { finishImage, writeChecksumFiles } from './publish.js';
import { runPhase, timingTable, type HookTiming, type PhaseContext } from './run-phase.js';
import { startWriter } from './writer-process.js';
import { finishRamdisk } from './ramdisk.js';
import { hostFacts, systemTool, unprivilegedPreflight, UserNamespace } from './userns.js';

export interface PipelineIO {
  log: Logger;
  output: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Phase/hook/assembly progress for a terminal display. */
  progress?: (ev: { stage: string; detail: string; done?: number; total?: number }) => void;
  /**
   * Called after SIGINT/SIGTERM/SIGHUP stopped the build and cleanup ran; the command decides
   * how to end (the CLI exits 128 + signal number). Without it the build fails with an error.
   */
  onSignal?: (sig: NodeJS.Signals) => void;
}

export interface PipelineResult {
  output: string | null;
  size: number;
  timings: HookTiming[];
  buildDir?: string;
}

const CHROOT_GROUPS = [['pre-install.d', 'install.d', 'post-install.d'], ['finalise.d']];

/** True when a flavour has a hook in some phase (the build then makes a tree and runs hooks). */
function flavoursHaveHooks(flavours: { dir: string }[]): boolean {
  return flavours.some((f) => PHASES.some((p) => selectHooks(path.join(f.dir, p.name)).run.length > 0));
}

/** Runs the whole build. */
export async function runPipeline(opts: BuildOptions, env: NodeJS.ProcessEnv, io: PipelineIO): Promise<PipelineResult> {
  const { resolved, outputs } = prepare(opts, env, io.log);
  // Unprivileged: hooks run in a user namespace (userns.ts); checked before anything is made.
  const unprivileged = opts.unprivileged === true || process.getuid?.() !== 0;
  const ids = unprivileged && (opts.packages.length > 0 || flavoursHaveHooks(resolved.flavours)) ? unprivilegedPreflight(hostFacts(env)) : undefined;
  const cleanup = new CleanupStack(io.log);
  cleanup.installSignalHandlers(io.onSignal);
  // The assembler writes private names next to the outputs; only success links them into place.
  const privateName = (f: string) => path.join(path.dirname(f), `.${path.basename(f)}.dib-ts-${process.pid}`);
  const privateOutput = privateName(`${path.resolve(opts.imageName)}.raw`);
  cleanup.push('remove unfinished output', () => {
    for (const f of [privateOutput, ...outputs.map(privateName)]) removeTempOutputs(f);
  });
  let ns: UserNamespace | undefined;
  if (ids) {
    ns = await UserNamespace.start(ids, env, io.log);
    cleanup.push('end the user namespace', () => ns!.end());
  }
  // Started now, so that its start-up overlaps the hooks (or, with a ready tree, the layout work).
  // A ramdisk build archives its tree in this process (ramdisk.ts): no writer.
  const writer = opts.ramdisk ? null : startWriter(cleanup, {
    stdinTar: opts.rootTar === '-', ...(ns ? { ns } : {}), privateFiles: [privateOutput, ...outputs.map(privateName)],
  });
  const timings: HookTiming[] = [];
  const buildParent = env.TMPDIR && fs.existsSync(env.TMPDIR) ? env.TMPDIR : os.tmpdir();
  const build = fs.mkdtempSync(path.join(buildParent, 'dib_build.'));
  let hooksRan = false;
  cleanup.push('remove the build folder', () => {
    if (opts.keepBuildDir) io.log(`keeping the build folder ${build} (--keep-build-dir)`);
    else {
      // Files of subordinate ids are root's to remove inside the namespace only.
      ns?.endProcesses();
      ns?.removeTree(build);
      removeBuildDir(build, io.log, hooksRan);
    }
  });
  if (!opts.keepBuildDir) ns?.removeIfOrphaned(build);
  io.log(`build folder ${build}; flavours: ${resolved.flavours.map((f) => f.name).join(' ')}`);
  let treeSource: WriterJob['tree'] | undefined;
  let blockDeviceLayout: string | undefined;
  try {
    const dirs = { build, hooks: path.join(build, 'hooks'), mnt: path.join(build, 'mnt') };
    const hooks: HookTree = mergeHooks(resolved.flavours, dirs.hooks);
    const hookPhases = new Set(PHASES.map((p) => p.name).filter((p) => selectHooks(path.join(hooks.dir, p)).run.length > 0));
    const needsTree = hookPhases.size > 0 || opts.packages.length > 0;
    const hookEnv = addDibVariables(hookEnvironment(opts, resolved, dirs, env), flavourSearchPath(env));
    writePackagePlan(resolved, dirs.hooks, hookEnv, io.log);
    const shimDir = path.join(dirs.hooks, SHIM_DIR);
    if (ns) installDeviceShim(shimDir);
    const inNs = (cmd: string, args: string[]): [string, string[]] => (ns ? ns.wrap(cmd, args, { pid: false }) : [cmd, args]);

    if (!needsTree && (opts.rootDir || opts.rootTar)) {
      io.log('no flavour has hooks: the given root tree goes straight to the assembler');
      treeSource = opts.rootDir ? { dir: opts.rootDir } : { tar: opts.rootTar! };
    } else {
      hooksRan = true;
      fs.mkdirSync(dirs.mnt, { mode: 0o755 });
      if (opts.rootDir) {
        io.progress?.({ stage: 'copy', detail: opts.rootDir });
        io.log(`copying --root-dir ${opts.rootDir} into the build folder (flavours have hooks)`);
        await runTrackedOk(...inNs('cp', ['-a', '--one-file-system', `${opts.rootDir}/.`, dirs.mnt]), {}, cleanup, `copy --root-dir ${opts.rootDir} into the build folder`);
      } else if (opts.rootTar) {
        io.progress?.({ stage: 'unpack', detail: opts.rootTar });
        io.log(`unpacking --root-tar ${opts.rootTar} into the build folder (flavours have hooks)`);
        await runTrackedOk(...inNs('tar', ['-x', '--xattrs', "--xattrs-include=*", '--numeric-owner', '-p', '-f', opts.rootTar, '-C', dirs.mnt]),
          { stdin: opts.rootTar === '-' ? 'inherit' : 'ignore' }, cleanup, `unpack --root-tar ${opts.rootTar}`);
      }
      const ctx: PhaseContext = {
        hooks, root: dirs.mnt, env: hookEnv, cleanup, timings, output: io.output,
        onHookStart: (phase, hook) => {
          io.progress?.({ stage: phase, detail: hook });
          io.log(`running ${phase}/${hook} (${hooks.origin.get(`${phase}/${hook}`)})`);
        },
        ...(ns ? {
          inNamespace: {
            wrap: (cmd: string, args: string[], cwd: string) => ns!.wrap(cmd, args, { cwd }),
            chrootTool: systemTool('chroot', env),
            shimOutside: path.join(shimDir, 'bin'),
            shimInChroot: path.posix.join(IN_TARGET, SHIM_DIR, 'bin'),
            afterHook: (where: 'outside' | 'chroot') => markDevicePlaceholders(shimDir, dirs.mnt, where, ns!, io.log),
          },
        } : {}),
      };
      const mounts = ns ? namespaceMounts(ns, { rel: SHIM_DIR, src: shimDir }) : hostMounts;
      let chroot: Chroot | null = null;
      for (const phase of PHASES) {
        if (cleanup.interrupted) break;
        const group = CHROOT_GROUPS.find((g) => g[0] === phase.name);
        if (group && (group.some((p) => hookPhases.has(p)) || (phase.name === 'pre-install.d' && opts.packages.length > 0))) {
          chroot = new Chroot(dirs.mnt, cleanup, io.log, mounts);
          chroot.enter(dirs.hooks);
        }
        if (hookPhases.has(phase.name)) {
          const out = await runPhase(phase.name, phase.where, ctx);
          if (phase.name === 'block-device.d' && out.trimStart().startsWith('- ')) blockDeviceLayout = out;
        }
        if (phase.name === 'install.d' && opts.packages.length > 0) await installPackages(opts.packages, ctx);
        if (phase.name === 'root.d' && !opts.rootDir && !opts.rootTar && !hasRootContent(dirs.mnt)) {
          throw new DiskImageError('INPUT', 'root.d did not populate the root tree (it holds nothing but lost+found/tmp)',
            'the operating-system flavour failed to deploy its root: check its root.d output above');
        }
        if (chroot && (phase.name === 'post-install.d' || phase.name === 'finalise.d')) {
          chroot.leave();
          chroot = null;
        }
      }
      if (cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${cleanup.interrupted}`);
      // The command line (or DIB_BLOCK_DEVICE_CONFIG) wins over a hook's printed layout.
      if (blockDeviceLayout && opts.blockDeviceConfig !== undefined) {
        io.log('a block-device.d hook printed a layout; --block-device-config / DIB_BLOCK_DEVICE_CONFIG wins');
        blockDeviceLayout = undefined;
      }
      if (blockDeviceLayout) opts = { ...opts, blockDeviceConfig: blockDeviceLayout };
      treeSource = { dir: dirs.mnt, ...(ns ? { devicePlaceholders: true } : {}) };
    }

    if (opts.ramdisk) {
      // Archived in this process, outside the namespace: its ids are mapped back while reading
      // (files private to a subordinate id would not be readable here; ramdisk trees are root's).
      const r = await finishRamdisk(dirs.mnt, opts, cleanup, io.log, ns ? { devicePlaceholders: true, mapIds: ns.toInside } : {});
      const table = timingTable(timings);
      if (table) io.log(table.trimEnd());
      return { output: r.outputs.at(-1)!, size: r.size, timings, ...(opts.keepBuildDir ? { buildDir: build } : {}) };
    }
    const finalEnv = sourcedEnvironment(hooks.dir, hookEnv);
    const { config, source } = chooseLayout(opts, resolved, finalEnv);
    io.log(`layout: ${blockDeviceLayout ? 'printed by a block-device.d hook' : source}`);
    const bootloader = resolved.flavours.some((f) => f.name === 'bootloader');
    const mkfsOptions = [...opts.mkfsOptions, ...(opts.journalSizeMiB !== undefined ? ['-J', `size=${opts.journalSizeMiB}`] : [])];
    const grubTimeout = finalEnv.DIB_GRUB_TIMEOUT !== undefined && finalEnv.DIB_GRUB_TIMEOUT !== '' ? Number(finalEnv.DIB_GRUB_TIMEOUT) : undefined;
    const job: WriterJob = {
      tree: treeSource!,
      options: {
        output: privateOutput, layout: config, bootloader, format: 'raw', overwrite: false, scratchDir: build,
        containers: opts.types.map((type, i) => ({ type, path: privateName(outputs[i]!), name: path.basename(outputs[i]!) })),
        compress: !opts.uncompressed, checksums: opts.checksum,
        containerSettings: opts.containerSettings,
        ...(opts.imageSize !== undefined ? { imageSize: opts.imageSize } : {}),
        ...(opts.extraSize !== undefined ? { extraSize: opts.extraSize } : {}),
        ...(opts.rootLabel !== undefined ? { rootLabel: opts.rootLabel } : {}),
        ...(mkfsOptions.length ? { mkfsOptions } : {}),
        ...(grubTimeout !== undefined && Number.isFinite(grubTimeout) ? { grubTimeout } : {}),
        ...(finalEnv.DIB_BOOTLOADER_DEFAULT_CMDLINE ? { kernelCmdline: finalEnv.DIB_BOOTLOADER_DEFAULT_CMDLINE } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      },
    };
    const result = await writer!.run(job, io);
    if (cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${cleanup.interrupted}`);
    // The writers computed the checksums as they wrote; their files are written next to the
    // private outputs first, so that nothing is left to fail once the first name appears.
    const written = result.outputs ?? [];
    const sums = written.map((out, i) => writeChecksumFiles(privateName(outputs[i]!), outputs[i]!, out.checksums));
    if (cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${cleanup.interrupted}`);
    // The final names appear only now, every output finished, in one synchronous stretch no
    // signal handler can cut into; an old file of a name is renamed with DIB's timestamp, or
    // replaced (OVERWRITE_OLD_IMAGE).
    for (const i of written.keys()) {
      finishImage(privateName(outputs[i]!), outputs[i]!, { overwrite: opts.overwrite, sums: sums[i]!, log: io.log });
    }
    for (const [i, out] of written.entries()) {
      if (opts.checksum.length) io.log(`${opts.checksum.join(' and ')} of ${outputs[i]} computed ${out.checksumMode}`);
      io.log(`wrote ${outputs[i]} (${out.size} bytes)`);
    }
    const table = timingTable(timings);
    if (table) io.log(table.trimEnd());
    return { output: outputs[0]!, size: written[0]?.size ?? result.size, timings, ...(opts.keepBuildDir ? { buildDir: build } : {}) };
  } finally {
    cleanup.run();
  }
}

