// Imported first by every command of bin/: turns on Node's on-disk cache of compiled code
// (module.enableCompileCache, Node 22.1+; in the OS temporary folder, node-compile-cache/,
// keyed by Node version and file contents), so a command's bundle is parsed and compiled
// once, not at every start. On Node 20 there is no such cache and nothing happens. The
// command itself is then loaded with a dynamic import: static imports would all be compiled
// before this module runs. docs/benchmarks.md has the start-up figures per Node line.
import module from 'node:module';

module.enableCompileCache?.();
