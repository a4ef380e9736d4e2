#!/usr/bin/env node
// Entry point of `ramdisk-image-create`: the bundled command in dist/bundle/ (built by `npm ci` through `prepare`: scripts/bundle.mjs).
import './compile-cache.js';
await import('../dist/bundle/cli/ramdisk-image-create.js');
