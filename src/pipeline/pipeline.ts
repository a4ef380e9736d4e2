/**
 * `disk-image-create` and `ramdisk-image-create` as a pipeline, in diskimage-builder's phase
 * order (diskimage_builder/lib/disk-image-create). Its stages, each in a file of its own:
 * setup.ts (flavours, outputs, user namespace, image writer, build folder), hook-phases.ts
 * (the root tree and every hook phase), then either ramdisk.ts (the initramfs, archived here)
 * or write-image.ts (the writer's job) and publish.ts (checksums and final names).
 * Everything the build sets up is undone by one CleanupStack: on success, on a failing hook,
 * on an exception and on SIGINT/SIGTERM.
 */
import type { BuildOptions } from './options.js';
import type { Logger } from './cleanup.js';
import { runHookPhases } from './hook-phases.js';
import { publishImages } from './publish.js';
import { finishRamdisk, ramdiskFromTree, withRamdiskFlavour } from './ramdisk.js';
import { timingTable, type HookTiming } from './run-phase.js';
import { setUpBuild, startCleanup, type Build } from './setup.js';
import { writeImage } from './write-image.js';

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

/** Runs the whole build: the list of its stages, each in a file of its own. */
export async function runPipeline(opts: BuildOptions, env: NodeJS.ProcessEnv, io: PipelineIO): Promise<PipelineResult> {
  if (opts.ramdisk && opts.flavours.length === 0) return ramdiskOfGivenTree(opts, io);
  const b = await setUpBuild(withRamdiskFlavour(opts), env, io);
  try {
    const root = await runHookPhases(b);
    if (b.opts.ramdisk) {
      // Archived in this process, outside the namespace: its ids are mapped back while reading
      // (files private to a subordinate id would not be readable here; ramdisk trees are root's).
      const r = await finishRamdisk(root.mnt, b.opts, b.cleanup, io.log, b.ns ? { devicePlaceholders: true, mapIds: b.ns.toInside } : {});
      return summary(b, r.outputs.at(-1)!, r.size);
    }
    const written = await writeImage(b, root);
    return summary(b, b.outputs[0]!, publishImages(b, written));
  } finally {
    b.cleanup.run();
  }
}

/** ramdisk-image-create --root-dir/--root-tar without flavours: the initramfs of that tree alone, no hooks. */
async function ramdiskOfGivenTree(opts: BuildOptions, io: PipelineIO): Promise<PipelineResult> {
  const cleanup = startCleanup(io);
  try {
    const r = await ramdiskFromTree(opts, cleanup, io.log);
    return { output: r.outputs.at(-1)!, size: r.size, timings: [] };
  } finally {
    cleanup.run();
  }
}

/** The hooks' timing table in the log, and the build's result. */
function summary(b: Build, output: string, size: number): PipelineResult {
  const table = timingTable(b.timings);
  if (table) b.io.log(table.trimEnd());
  return { output, size, timings: b.timings, ...(b.opts.keepBuildDir ? { buildDir: b.dir } : {}) };
}
