// The native builds a clone needs, run by `npm ci` as the last step of our own `prepare`
// (the root package's scripts run under npm 12's install-script policy; a dependency's run
// only when package.json's allowScripts approves it, and ours approves none: docs/dependencies.md).
// 1. Our C addons (native/: the directory walk, src/tree/native-walk.ts, and the read-ahead,
//    src/tree/read-ahead.ts) with node-gyp. They are an optional speed-up: when they cannot be
//    built (no compiler, no Node headers) their TypeScript twins are used and the install goes
//    on; `npm test` with CI set then fails on the native tests.
// 2. zstd-napi, only on a Node whose node:zlib has no zstd (Node 20, 22 before 22.15): there
//    src/binary/zstd.ts needs it. Its own install script is denied in allowScripts (it would
//    build on every Node, for nothing from 22.15 on), so it is compiled here from the sources
//    it ships; when that fails the ramdisk's zstd says so, naming the cause.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `node-gyp rebuild` in `dir`: npm's own node-gyp when npm runs us (npm_config_node_gyp), else the one on PATH. */
function gypRebuild(dir) {
  const gyp = process.env.npm_config_node_gyp;
  const r = gyp
    ? spawnSync(process.execPath, [gyp, 'rebuild'], { cwd: dir, stdio: 'inherit' })
    : spawnSync('node-gyp', ['rebuild'], { cwd: dir, stdio: 'inherit' });
  return r.status === 0;
}

if (!gypRebuild(root)) {
  process.stderr.write('diskimage-ts: the native addons (directory walk, read-ahead) were not built (node-gyp failed, see above); their TypeScript twins will be used\n');
}

if (typeof zlib.zstdCompressSync !== 'function') {
  let dir;
  try {
    dir = path.dirname(createRequire(path.join(root, 'package.json')).resolve('zstd-napi/package.json'));
  } catch {
    dir = undefined;
  }
  const built = dir !== undefined && fs.existsSync(path.join(dir, 'build', 'Release', 'binding.node'));
  if (dir !== undefined && !built && !gypRebuild(dir)) {
    process.stderr.write(`diskimage-ts: Node ${process.version} has no zstd in node:zlib and zstd-napi did not build (see above): zstd ramdisks and qcow2 need Node 22.15+ or a C++ compiler, make and python3\n`);
  }
}
