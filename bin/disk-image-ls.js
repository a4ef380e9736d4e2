#!/usr/bin/env node
// Entry point of `disk-image-ls`: the compiled command in dist/ (built by `npm ci` through `prepare`).
import '../dist/cli/disk-image-ls.js';
