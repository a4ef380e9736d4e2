// Bundles each command of package.json's "bin" (src/cli/NAME.ts), the image writer's thread
// and child process (src/assemble/writer-thread.ts, writer-child.ts), the tree's worker
// threads (src/tree/read-ahead-worker.ts, xattr-worker.ts: started by URL, so each is an
// entry of its own), the module that
// starts the writer ahead of the command (src/cli/writer-prestart.ts) into one ES module each
// under dist/bundle/, with the npm packages left as imports. A command then starts by loading
// one file instead of some 60 modules (measured in docs/dependencies.md, esbuild). The relative layout is kept (dist/bundle/cli,
// dist/bundle/assemble), so the pipeline finds the bundled writer where it finds the plain
// one in dist/ (and the tree's code, from dist/bundle/cli or dist/bundle/assemble, finds its
// workers in dist/bundle/tree). It also copies src/pipeline/sh to dist/pipeline/sh and
// dist/bundle/pipeline/sh, where the pipeline finds its shell programs. The library API
// (package.json "exports") stays the plain dist/ modules tsc writes.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const entryPoints = {
  'assemble/writer-child': path.join(root, 'src/assemble/writer-child.ts'),
  'assemble/writer-thread': path.join(root, 'src/assemble/writer-thread.ts'),
  'cli/writer-prestart': path.join(root, 'src/cli/writer-prestart.ts'),
  'tree/read-ahead-worker': path.join(root, 'src/tree/read-ahead-worker.ts'),
  'tree/xattr-worker': path.join(root, 'src/tree/xattr-worker.ts'),
};
for (const name of Object.keys(pkg.bin)) entryPoints[`cli/${name}`] = path.join(root, 'src/cli', `${name}.ts`);
const out = path.join(root, 'dist/bundle');
fs.rmSync(out, { recursive: true, force: true });
await build({
  entryPoints, outdir: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
  packages: 'external', sourcemap: true, logLevel: 'warning',
});
// The pipeline's shell programs (src/pipeline/shell-scripts.ts) beside the modules that run them.
for (const to of ['dist/pipeline/sh', 'dist/bundle/pipeline/sh']) {
  fs.rmSync(path.join(root, to), { recursive: true, force: true });
  fs.cpSync(path.join(root, 'src/pipeline/sh'), path.join(root, to), { recursive: true });
}
