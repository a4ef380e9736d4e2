/**
 * A vitest reporter that makes a skipped test a failure when CI is set, unless it is one of
 * ALLOWED_SKIPS: on a CI machine every tool a test probes for is installed by
 * scripts/setup-host.sh, so a skip there means a missing install step, not a missing feature.
 * Outside CI it only lists the skips with their names, so a developer sees them.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { skipAllowed } from './allowed-skips.js';

export default class CiSkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        if (test.result().state !== 'skipped') continue;
        if (skipAllowed(test.fullName)) continue;
        skipped.push(`${mod.moduleId}: ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    const ci = Boolean(process.env.CI) && process.env.CI !== 'false' && process.env.CI !== '0';
    const head = ci
      ? `CI is set, and ${skipped.length} test(s) were skipped; on CI every skip is a failure (install what they need in scripts/setup-host.sh, or add a limit of the machine to test/helpers/allowed-skips.ts and docs/development.md):`
      : `${skipped.length} test(s) skipped (with CI set this fails the run):`;
    process.stderr.write(`\n${head}\n${skipped.map((s) => `  - ${s}`).join('\n')}\n`);
    if (ci) process.exitCode = 1;
  }
}
