/**
 * The pipeline's shell programs, real files under src/pipeline/sh/ that shellcheck reads
 * (test/shellcheck.test.ts). Each takes the paths it shares with TypeScript as arguments or
 * from the environment, never written into it. The build copies the folder beside the
 * compiled modules (dist/pipeline/sh) and the bundles (dist/bundle/pipeline/sh:
 * scripts/bundle.mjs), so the URL below finds it from src/pipeline, dist/pipeline and
 * dist/bundle/cli alike.
 */
import { fileURLToPath } from 'node:url';

export type ShellScript = 'userns-holder.sh' | 'end-processes.sh' | 'dev-mounts.sh' | 'mknod.sh' | 'writer-watchdog.sh';

/** The path of one of the pipeline's shell programs. */
export function shellScript(name: ShellScript): string {
  return fileURLToPath(new URL(`../pipeline/sh/${name}`, import.meta.url));
}
