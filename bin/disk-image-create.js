#!/usr/bin/env node
// Entry point of `disk-image-create`: the bundled command in dist/bundle/ (built by `npm ci` through `prepare`: scripts/bundle.mjs).
// The image writer's process is started first (src/cli/writer-prestart.ts), then the command is loaded.
import './compile-cache.js';
import '../dist/bundle/cli/writer-prestart.js';
await import('../dist/bundle/cli/disk-image-create.js');
