/**
 * The first stage of a build (pipeline.ts): resolve the flavours and check the outputs
 * (prepare.ts), then set up what the later stages share, each with its undo step on the
 * build's one CleanupStack: the signal handlers, the removal of unfinished outputs, the user
 * namespace of an unprivileged build (userns.ts), the image writer (writer-process.ts,
 * started now so that its start-up overlaps the hooks) and the build folder (dib_build.*).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { removeTempOutputs } from '../binary/file-device.js';
import { removeBuildDir } from './build-folder.js';
import { CleanupStack } from './cleanup.js';
import type { Resolved } from './flavours.js';
import { PHASES, selectHooks } from './hooks.js';
import type { BuildOptions } from './options.js';
import type { PipelineIO } from './pipeline.js';
import { prepare } from './prepare.js';
import { privateName } from './publish.js';
import type { HookTiming } from './run-phase.js';
import { hostFacts, unprivilegedPreflight, UserNamespace } from './userns.js';
import { startWriter, type WriterProcess } from './writer-process.js';

/** What every stage after setup works with. */
export interface Build {
  opts: BuildOptions;
  env: NodeJS.ProcessEnv;
  io: PipelineIO;
  resolved: Resolved;
  /** NAME.TYPE for each -t type, in order (ramdisk: NAME.kernel and NAME.initramfs). */
  outputs: string[];
  cleanup: CleanupStack;
  /** The user namespace the hooks run in (unprivileged builds). */
  ns?: UserNamespace;
  /** The started image writer; null for a ramdisk, which is archived in this process. */
  writer: WriterProcess | null;
  /** The build folder (dib_build.*). */
  dir: string;
  /** The private name the raw image is written under before it is published. */
  privateOutput: string;
  timings: HookTiming[];
  /** Set once hooks may have run (and mounted) in the build folder: how it is removed. */
  hooksRan: boolean;
}

/** The build's one cleanup stack, with the signal handlers that run it (io.onSignal decides what follows). */
export function startCleanup(io: PipelineIO): CleanupStack {
  const cleanup = new CleanupStack(io.log);
  cleanup.installSignalHandlers(io.onSignal);
  return cleanup;
}

/** True when a flavour has a hook in some phase (the build then makes a tree and runs hooks). */
function flavoursHaveHooks(flavours: { dir: string }[]): boolean {
  return flavours.some((f) => PHASES.some((p) => selectHooks(path.join(f.dir, p.name)).run.length > 0));
}

/** Resolves and checks everything, then sets up the namespace, the writer and the build folder. */
export async function setUpBuild(opts: BuildOptions, env: NodeJS.ProcessEnv, io: PipelineIO): Promise<Build> {
  const { resolved, outputs } = prepare(opts, env, io.log);
  // Unprivileged: hooks run in a user namespace (userns.ts); checked before anything is made.
  const unprivileged = opts.unprivileged === true || process.getuid?.() !== 0;
  const ids = unprivileged && (opts.packages.length > 0 || flavoursHaveHooks(resolved.flavours)) ? unprivilegedPreflight(hostFacts(env)) : undefined;
  const cleanup = startCleanup(io);
  try {
    const privateOutput = privateName(`${path.resolve(opts.imageName)}.raw`);
    const privateFiles = [privateOutput, ...outputs.map(privateName)];
    cleanup.push('remove unfinished output', () => {
      for (const f of privateFiles) removeTempOutputs(f);
    });
    let ns: UserNamespace | undefined;
    if (ids) {
      const started = await UserNamespace.start(ids, env, io.log);
      ns = started;
      cleanup.push('end the user namespace', () => started.end());
    }
    // A ramdisk build archives its tree in this process (ramdisk.ts): no writer.
    const writer = opts.ramdisk ? null : startWriter(cleanup, { stdinTar: opts.rootTar === '-', ...(ns ? { ns } : {}), privateFiles });
    const b: Build = {
      opts, env, io, resolved, outputs, cleanup, ...(ns ? { ns } : {}), writer,
      dir: makeBuildFolder(env), privateOutput, timings: [], hooksRan: false,
    };
    cleanup.push('remove the build folder', () => removeBuildFolder(b));
    if (!opts.keepBuildDir) ns?.removeIfOrphaned(b.dir);
    io.log(`build folder ${b.dir}; flavours: ${resolved.flavours.map((f) => f.name).join(' ')}`);
    return b;
  } catch (e) {
    cleanup.run();
    throw e;
  }
}

/** A new dib_build.* folder under TMPDIR (when it exists) or the system's temporary folder. */
function makeBuildFolder(env: NodeJS.ProcessEnv): string {
  const parent = env.TMPDIR && fs.existsSync(env.TMPDIR) ? env.TMPDIR : os.tmpdir();
  return fs.mkdtempSync(path.join(parent, 'dib_build.'));
}

/** The build folder's undo step: kept with --keep-build-dir, else removed (inside the namespace first). */
function removeBuildFolder(b: Build): void {
  if (b.opts.keepBuildDir) {
    b.io.log(`keeping the build folder ${b.dir} (--keep-build-dir)`);
    return;
  }
  // Files of subordinate ids are root's to remove inside the namespace only.
  b.ns?.endProcesses();
  b.ns?.removeTree(b.dir);
  removeBuildDir(b.dir, b.io.log, b.hooksRan);
}
