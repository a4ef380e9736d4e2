#!/usr/bin/env node
// Entry point of `disk-image-cat`: the compiled command in dist/ (built by `npm ci` through `prepare`).
import '../dist/cli/disk-image-cat.js';
