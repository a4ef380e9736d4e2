/**
 * `disk-image-create [OPTION]... FLAVOUR...`: diskimage-builder's command (same options and
 * variables, see options.ts) over our pipeline (src/pipeline/pipeline.ts). `--dry-run` shows the
 * resolved flavours, the hooks each phase would run and the layout plan without changing
 * anything.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpText, parseOptions } from './options.js';
import { Progress } from './progress.js';
import { runMain } from './run.js';
import { runPipeline } from '../pipeline/pipeline.js';
import { DRY_RUN_EXAMPLE_SIZE, planDryRun, type DryRunReport } from '../pipeline/dry-run.js';
import { renderPlan } from '../layout/render.js';

const COMMAND = 'disk-image-create';

function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** Prints what a build would do (planDryRun: no hook runs, nothing is written). */
function printDryRun(r: DryRunReport, out: (s: string) => void): void {
  for (const o of r.outputs) {
    const existing = o.existing === 'replaced' ? ' (exists; a successful build replaces it: OVERWRITE_OLD_IMAGE)'
      : o.existing === 'renamed' ? ' (exists; a successful build renames it NAME-YYYY.MM.DD-HH.MM.SS.EXT first)' : '';
    out(`output: ${o.path}${existing}\n`);
  }
  out(`flavours: ${r.flavours.join(' ')}\n`);
  for (const [v, by] of r.provided) out(`  ${v} provided by ${by}\n`);
  for (const phase of r.phases) {
    out(`${phase.name} (${phase.where}):\n`);
    for (const h of phase.run) out(`  ${h.hook}  [${h.flavour}]\n`);
    for (const s of phase.skipped) out(`  (skipped ${s.name}: ${s.why})\n`);
  }
  if (r.firstBoot.length) out(`first-boot.d (at the image's first boot): ${r.firstBoot.join(' ')}\n`);
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

runMain(COMMAND, async (argv) => {
  const opts = parseOptions(argv, process.env);
  if (opts.help) {
    process.stdout.write(helpText(COMMAND, packageVersion()));
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`${COMMAND} (diskimage-ts) ${packageVersion()}\n`);
    return 0;
  }
  const progress = new Progress(COMMAND, opts.logfile);
  try {
    if (opts.dryRun) {
      printDryRun(planDryRun(opts, process.env, progress.log), (s) => process.stdout.write(s));
      return 0;
    }
    await runPipeline(opts, process.env, {
      log: progress.log, output: progress.output, progress: progress.progress,
      // 128 + the signal's number, as shells report a command killed by it (SIGTERM: 143).
      onSignal: (sig) => {
        progress.close();
        process.exit(128 + (os.constants.signals[sig] ?? 15));
      },
    });
    return 0;
  } finally {
    progress.close();
  }
});
