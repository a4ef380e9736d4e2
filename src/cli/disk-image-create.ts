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
import { helpText, parseOptions, type BuildOptions } from './options.js';
import { Progress } from './progress.js';
import { runMain } from './run.js';
import { chooseLayout, prepare, sourcedEnvironment, hookEnvironment, runPipeline } from '../pipeline/pipeline.js';
import { mergeHooks, PHASES, selectHooks } from '../pipeline/hooks.js';
import { planLayout } from '../layout/plan.js';
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

/** Prints what a build would do. Merges hooks into a scratch folder that is removed again. */
function dryRun(opts: BuildOptions, env: NodeJS.ProcessEnv, out: (s: string) => void, log: (s: string) => void): void {
  const { resolved, outputs } = prepare(opts, env, log);
  for (const output of outputs) {
    out(`output: ${output}${fs.existsSync(output) ? (opts.overwrite ? ' (exists; would be replaced)' : ' (EXISTS: the build would refuse)') : ''}\n`);
  }
  out(`flavours: ${resolved.flavours.map((f) => f.name).join(' ')}\n`);
  for (const [v, by] of resolved.provided) out(`  ${v} provided by ${by}\n`);
  const scratch = fs.mkdtempSync(path.join(env.TMPDIR ?? '/tmp', 'dib_dry.'));
  try {
    const hooks = mergeHooks(resolved.flavours, path.join(scratch, 'hooks'));
    for (const phase of PHASES) {
      const sel = selectHooks(path.join(hooks.dir, phase.name));
      if (sel.run.length === 0 && sel.skipped.length === 0) continue;
      out(`${phase.name} (${phase.where}):\n`);
      for (const h of sel.run) out(`  ${h}  [${hooks.origin.get(`${phase.name}/${h}`)}]\n`);
      for (const s of sel.skipped) out(`  (skipped ${s.name}: ${s.why})\n`);
    }
    const fb = selectHooks(path.join(hooks.dir, 'first-boot.d'));
    if (fb.run.length) out(`first-boot.d (at the image's first boot): ${fb.run.join(' ')}\n`);
    const env2 = sourcedEnvironment(hooks.dir, hookEnvironment(opts, resolved, { build: scratch, hooks: hooks.dir, mnt: path.join(scratch, 'mnt') }, env));
    const { config, source } = chooseLayout(opts, resolved, env2);
    out(`layout: ${source}\n`);
    if (config) {
      const diskSize = opts.imageSize ?? 4 * 2 ** 30;
      const plan = planLayout(config, { diskSize, ...(opts.rootLabel ? { rootLabel: opts.rootLabel } : {}), ...(opts.seed ? { seed: opts.seed } : {}) });
      if (opts.imageSize === undefined) out('(plan shown for an example size of 4 GiB; the build computes the size from the tree)\n');
      out(renderPlan(plan));
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
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
      dryRun(opts, process.env, (s) => process.stdout.write(s), progress.log);
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
