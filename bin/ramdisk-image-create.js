#!/usr/bin/env node
// Entry point of `ramdisk-image-create`: the compiled command in dist/ (built by `npm ci` through `prepare`).
import '../dist/cli/ramdisk-image-create.js';
