// Builds our C addons (native/: the directory walk, src/tree/native-walk.ts, and the read-ahead,
// src/tree/read-ahead.ts) with node-gyp, as `npm ci` installs the package (package.json
// "install"). They are an optional speed-up: when they cannot be built (no compiler, no Node
// headers) their TypeScript twins are used and the install goes on; `npm test` with CI set then
// fails on the native tests.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// npm runs install scripts with its own node-gyp on PATH (and tells where in npm_config_node_gyp).
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: root, stdio: 'inherit' })
  : spawnSync('node-gyp', ['rebuild'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  process.stderr.write('diskimage-ts: the native addons (directory walk, read-ahead) were not built (node-gyp failed, see above); their TypeScript twins will be used\n');
}
