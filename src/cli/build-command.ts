/**
 * The body of `disk-image-create [OPTION]... FLAVOUR...` and `ramdisk-image-create`:
 * diskimage-builder's commands (same options and variables, see options.ts) over our pipeline
 * (src/pipeline/pipeline.ts). `--dry-run` shows the resolved flavours, the hooks each phase
 * would run and (for disk images) the layout plan without changing anything.
 * For ramdisk-image-create the pipeline adds its ramdisk flavour first (as DIB prepends
 * RAMDISK_ELEMENT), or, with --root-dir/--root-tar and no flavour, writes the initramfs of that
 * tree alone. This file parses and prints only; the pipeline's modules are loaded only when a
 * build or a dry run needs them (start-up time).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPathOptions, helpText, parseOptions } from '../pipeline/parse-options.js';
import { exitSurely, formatError } from './run.js';
import { Progress } from './progress.js';
import type { DryRunReport } from '../pipeline/dry-run.js';
import type { BuildOptions } from '../pipeline/options.js';
import { CleanupStack } from '../pipeline/cleanup.js';
import { ramdiskOutputs } from '../pipeline/ramdisk.js';

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** Prints what a build would do (planDryRun: no hook runs, nothing is written). */
async function printDryRun(r: DryRunReport, opts: BuildOptions, out: (s: string) => void): Promise<void> {
  const { DRY_RUN_EXAMPLE_SIZE } = await import('../pipeline/dry-run.js');
  const { renderPlan } = await import('../layout/render.js');
  for (const o of r.outputs) {
    const existing = o.existing === 'replaced' ? ' (exists; a successful build replaces it: OVERWRITE_OLD_IMAGE)'
      : o.existing === 'renamed' ? ` (exists; a successful build renames it NAME-YYYY.MM.DD-HH.MM.SS${path.extname(o.path)} first)` : '';
    out(`output: ${o.path}${existing}\n`);
  }
  if (opts.ramdisk) out(`compression: ${opts.ramdisk.compression}\n`);
  out(`flavours: ${r.flavours.join(' ')}\n`);
  for (const [v, by] of r.provided) out(`  ${v} provided by ${by}\n`);
  for (const phase of r.phases) {
    out(`${phase.name} (${phase.where}):\n`);
    for (const h of phase.run) out(`  ${h.hook}  [${h.flavour}]\n`);
    for (const s of phase.skipped) out(`  (skipped ${s.name}: ${s.why})\n`);
  }
  if (r.firstBoot.length) out(`first-boot.d (at the image's first boot): ${r.firstBoot.join(' ')}\n`);
  if (opts.ramdisk) return;
  out(`layout: ${r.layoutSource}\n`);
  if (r.plan) {
    if (r.exampleSize) out(`(plan shown for an example size of ${DRY_RUN_EXAMPLE_SIZE / 2 ** 30} GiB; the build computes the size from the tree)\n`);
    out(renderPlan(r.plan));
  }
}

// A reader that went away (`| head`) must not crash a build half-way: its cleanup still has to run.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
}

/** Runs disk-image-create or ramdisk-image-create (COMMAND) with ARGV; returns the exit code. */
export async function runBuildCommand(COMMAND: 'disk-image-create' | 'ramdisk-image-create', argv: string[]): Promise<number> {
  const opts = parseOptions(argv, process.env, COMMAND);
  if (opts.help) {
    process.stdout.write(helpText(COMMAND, packageVersion()));
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`${COMMAND} (diskimage-ts) ${packageVersion()}\n`);
    return 0;
  }
  checkPathOptions(argv, COMMAND);
  const progress = new Progress(COMMAND, opts.logfile);
  // 128 + the signal's number, as shells report a command killed by it (SIGTERM: 143); a
  // build stopped because its log could not be written ends as any failed build (exit 1).
  const onSignal = (sig: NodeJS.Signals): void => {
    progress.close();
    if (progress.logFailure) {
      process.stderr.write(formatError(COMMAND, progress.logFailure).text);
      exitSurely(1);
    }
    exitSurely(128 + (os.constants.signals[sig] ?? 15));
  };
  // A log write that fails stops the build the way a signal does (cleanup, then onSignal);
  // before the build has its cleanup, the error is thrown where the line was logged.
  progress.onLogFailure = (e) => {
    if (!CleanupStack.stopListening(e.message)) throw e;
  };
  try {
    if (opts.dryRun && opts.ramdisk && opts.flavours.length === 0) {
      process.stdout.write(`output: ${ramdiskOutputs(opts)[0]} (${opts.ramdisk.compression}) from ${opts.rootDir ?? opts.rootTar}\n`);
      return 0;
    }
    if (opts.dryRun) {
      const { planDryRun } = await import('../pipeline/dry-run.js');
      await printDryRun(planDryRun(opts, process.env, progress.log), opts, (s) => process.stdout.write(s));
      return 0;
    }
    const { runPipeline } = await import('../pipeline/pipeline.js');
    await runPipeline(opts, process.env, {
      log: progress.log, output: progress.output, progress: progress.progress, onSignal,
    });
    if (progress.logFailure) throw progress.logFailure;
    return 0;
  } finally {
    progress.close();
  }
}
