/**
 * `disk-image-create [OPTION]... FLAVOUR...`: diskimage-builder's command over our pipeline
 * (the body is shared with ramdisk-image-create: build-command.ts).
 */
import { runBuildCommand } from './build-command.js';
import { runMain } from './run.js';

runMain('disk-image-create', (argv) => runBuildCommand('disk-image-create', argv));
