/**
 * `--dry-run`: what a build would do, as data: the resolved flavours, the hooks every phase
 * would run (and those it would skip, with why), the first-boot scripts, where the layout
 * comes from and its plan. Hooks are merged into a scratch folder (removed again) so that the
 * environment.d files can be sourced as a build sources them; no hook runs, nothing is written.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { planLayout, type LayoutPlan } from '../layout/plan.js';
import type { Logger } from './cleanup.js';
import { hookEnvironment, sourcedEnvironment } from './environment.js';
import { mergeHooks, PHASES, selectHooks } from './hooks.js';
import { chooseLayout } from './layout-source.js';
import type { BuildOptions } from './options.js';
import { prepare } from './prepare.js';
import { withRamdiskFlavour } from './ramdisk.js';

/** The disk size a layout is shown for when the build would compute it from the tree. */
export const DRY_RUN_EXAMPLE_SIZE = 4 * 2 ** 30;

export interface DryRunPhase {
  name: string;
  where: string;
  run: { hook: string; flavour: string }[];
  skipped: { name: string; why: string }[];
}

export interface DryRunOutput {
  path: string;
  /** What a successful build does to an existing file of that name: 'renamed' (DIB's rule) or 'replaced'; none when there is none. */
  existing?: 'renamed' | 'replaced';
}

export interface DryRunReport {
  /** One per -t type, in order. */
  outputs: DryRunOutput[];
  flavours: string[];
  /** Virtual names (operating-system, block-device, ...) and the flavour providing each. */
  provided: [string, string][];
  phases: DryRunPhase[];
  firstBoot: string[];
  layoutSource: string;
  plan?: LayoutPlan;
  /** True when the plan is for DRY_RUN_EXAMPLE_SIZE, not for a size the build was given. */
  exampleSize: boolean;
}

export function planDryRun(given: BuildOptions, env: NodeJS.ProcessEnv, log: Logger): DryRunReport {
  const opts = withRamdiskFlavour(given);
  const { resolved, outputs } = prepare(opts, env, log);
  const report: DryRunReport = {
    outputs: outputs.map((p) => ({ path: p, ...(fs.existsSync(p) ? { existing: opts.overwrite ? 'replaced' as const : 'renamed' as const } : {}) })),
    flavours: resolved.flavours.map((f) => f.name),
    provided: [...resolved.provided],
    phases: [],
    firstBoot: [],
    layoutSource: '',
    exampleSize: opts.imageSize === undefined,
  };
  const scratch = fs.mkdtempSync(path.join(env.TMPDIR ?? os.tmpdir(), 'dib_dry.'));
  try {
    const hooks = mergeHooks(resolved.flavours, path.join(scratch, 'hooks'));
    for (const phase of PHASES) {
      const sel = selectHooks(path.join(hooks.dir, phase.name));
      if (sel.run.length === 0 && sel.skipped.length === 0) continue;
      report.phases.push({
        name: phase.name, where: phase.where,
        run: sel.run.map((h) => ({ hook: h, flavour: hooks.origin.get(`${phase.name}/${h}`) ?? '?' })),
        skipped: sel.skipped,
      });
    }
    report.firstBoot = selectHooks(path.join(hooks.dir, 'first-boot.d')).run;
    const finalEnv = sourcedEnvironment(hooks.dir, hookEnvironment(opts, resolved, { build: scratch, hooks: hooks.dir, mnt: path.join(scratch, 'mnt') }, env));
    const { config, source } = chooseLayout(opts, resolved, finalEnv);
    report.layoutSource = source;
    if (config) {
      report.plan = planLayout(config, {
        diskSize: opts.imageSize ?? DRY_RUN_EXAMPLE_SIZE,
        ...(opts.rootLabel ? { rootLabel: opts.rootLabel } : {}), ...(opts.seed ? { seed: opts.seed } : {}),
      });
    }
    return report;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
