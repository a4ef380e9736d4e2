/**
 * vitest globalSetup: records the checkout before the first test file runs and compares it
 * after the last one (test/helpers/checkout-guard.ts). Any file a test wrote, renamed,
 * rebuilt or deleted in the checkout fails the run, named, with what it was and what it is.
 * Not in watch mode, where the developer edits the checkout while vitest runs.
 */
import type { TestProject } from 'vitest/node';
import { REPO } from './cli-run.js';
import { compareSnapshots, snapshotCheckout } from './checkout-guard.js';

export default function setup(project: TestProject): (() => void) | undefined {
  if (project.config.watch) return undefined;
  const before = snapshotCheckout(REPO);
  return () => {
    const changed = compareSnapshots(before, snapshotCheckout(REPO));
    if (changed.length === 0) return;
    const shown = changed.slice(0, 40).map((l) => `  - ${l}`).join('\n');
    const more = changed.length > 40 ? `\n  ... and ${changed.length - 40} more` : '';
    // vitest reports an error thrown here but keeps its exit status: set the status ourselves.
    process.exitCode = 1;
    throw new Error(`the test run changed ${changed.length} entr${changed.length === 1 ? 'y' : 'ies'} of the checkout ${REPO}; `
      + `tests must work in their own temporary folders (os.tmpdir()):\n${shown}${more}`);
  };
}
