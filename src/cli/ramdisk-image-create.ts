/**
 * `ramdisk-image-create [OPTION]... FLAVOUR...`: diskimage-builder's command. The same options
 * and pipeline as disk-image-create, with the ramdisk flavour (--ramdisk-element) added first;
 * writes NAME.kernel and NAME.initramfs. `ramdisk-image-create -o NAME --root-dir DIR` (or
 * --root-tar FILE) with no flavour writes NAME.initramfs of that tree alone, without a chroot.
 */
import { runBuildCommand } from './build-command.js';
import { runMain } from './run.js';

runMain('ramdisk-image-create', (argv) => runBuildCommand('ramdisk-image-create', argv));
