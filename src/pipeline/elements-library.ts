/**
 * diskimage-builder's own element library on the search path (ELEMENTS_PATH). Every element
 * is found by DIB's rule (the earliest path entry wins), except two kinds:
 * - replaced: the elements whose job this tool's in-process assembly, its own bootstrap or its
 *   own implementation of an element interface does. The built-in flavour of that name wins
 *   wherever the library stands on the path, and one log line names each one replaced;
 * - refused: elements that can never work here (they need the image on a loop device or a
 *   device-mapper volume). Selecting one, directly or through element-deps, stops the build
 *   before anything is made, with the reason.
 * The lists and their reasons are documented in docs (DIB compatibility) and flavours/*.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../errors.js';
import { readFlavour, type FlavourIndex, type Resolved } from './flavours.js';

/** Built-in flavours that replace DIB's element of the same name, with why. */
export const REPLACED_ELEMENTS: Readonly<Record<string, string>> = {
  'vm': 'the image is assembled in-process (partitions, filesystems, boot code)',
  'bootloader': 'grub boot code and grub.cfg are written by the in-process assembly',
  'grub2': 'grub boot code and grub.cfg are written by the in-process assembly',
  'block-device-mbr': 'partition tables are written by the in-process assembly',
  'block-device-gpt': 'partition tables are written by the in-process assembly',
  'block-device-efi': 'partition tables and the EFI system partition are written by the in-process assembly',
  'base': "this tool's base (first-boot.d support); DIB's cloud-init and dist-upgrade steps are not run",
  'debian-minimal': "this tool's own Debian bootstrap (mmdebstrap/debootstrap, cached)",
  'ramdisk': 'the ramdisk archive is written in-process (no cpio in a hook)',
  'ramdisk-base': 'the ramdisk archive and its /init are made by the ramdisk flavour',
  'dpkg': 'install-packages is our own (apt, non-interactive, with DIB\'s dpkg options)',
  'package-installs': 'package-installs files are checked and squashed by the pipeline before the build',
  'pkg-map': 'our own pkg-map (same JSON, options and exit codes)',
  'install-bin': 'our own implementation of the interface',
  'install-static': 'our own implementation of the interface',
  'install-types': 'our own implementation of the interface',
  'dib-init-system': 'our own implementation of the interface',
  'svc-map': 'our own implementation of the interface',
  'dib-python': 'our own implementation of the interface',
};

/** DIB elements that cannot work with this tool, with why. */
export const REFUSED_ELEMENTS: Readonly<Record<string, string>> = {
  'block-device-efi-lvm': 'its layout puts LVM volumes in the image, which needs device-mapper on the build host; the in-process assembly writes partitions and filesystems only',
  'lvm': 'it needs the image on a loop device with device-mapper volumes at finalise time',
  'uboot': 'it writes u-boot into the image through a loop device in cleanup.d',
  'zipl': 'it installs the s390x boot loader into a mounted image, which the in-process assembly does not make',
};

/**
 * Makes every replaced name resolve to the built-in flavour, wherever DIB's library stands on
 * the search path. Returns, by name, one log line per element replaced (the caller logs those
 * the build selects); the index is updated in place and its override warnings for those
 * names are dropped (the log line says it instead).
 */
export function preferBuiltins(index: FlavourIndex, builtinDir: string): Map<string, string> {
  const lines = new Map<string, string>();
  for (const name of Object.keys(REPLACED_ELEMENTS)) {
    const chosen = index.flavours.get(name);
    const dir = path.join(builtinDir, name);
    if (!chosen || chosen.dir === dir || !fs.existsSync(dir)) continue;
    index.flavours.set(name, readFlavour(name, dir));
    index.warnings = index.warnings.filter((w) => !w.startsWith(`flavour ${name} in `));
    lines.set(name, `element ${name} from ${chosen.dir} is replaced by the built-in flavour (${REPLACED_ELEMENTS[name]})`);
  }
  return lines;
}

/** Stops the build when a refused element was selected (by name or through element-deps). */
export function refuseElements(resolved: Resolved, builtinDir: string): void {
  for (const f of resolved.flavours) {
    const why = REFUSED_ELEMENTS[f.name];
    if (why === undefined || f.dir.startsWith(builtinDir + '/')) continue;
    throw new ConfigError(`element ${f.name}`, `DIB's element '${f.name}' (${f.dir}) cannot be used with diskimage-ts: ${why}`,
      'drop it (and any element that depends on it); see the DIB compatibility page for what replaces it');
  }
}
