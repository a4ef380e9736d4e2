/**
 * The ramdisk end of the pipeline (`ramdisk-image-create`, diskimage-builder's
 * lib/ramdisk-image-create path): a ramdisk flavour's hooks leave the ramdisk tree and the
 * kernel in the image tree (RAMDISK_BUILD below); this module archives the tree in-process
 * (src/assemble/initramfs.ts) and publishes NAME.kernel and NAME.initramfs, each written
 * under a private name first and put in place, under DIB's rule for existing outputs
 * (publish.ts finishImage: an old file is renamed NAME-DATE.EXT, or replaced with
 * OVERWRITE_OLD_IMAGE), only when both are complete. From a ready tree (--root-dir,
 * --root-tar without flavours) it writes NAME.initramfs alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeInitramfs, type Compression } from '../assemble/initramfs.js';
import { ConfigError, InputError } from '../errors.js';
import { dirTree, type DirTreeOptions } from '../tree/dir-source.js';
import type { FileTree } from '../tree/model.js';
import { tarTree } from '../tree/tar-source.js';
import type { CleanupStack, Logger } from './cleanup.js';
import type { BuildOptions } from './options.js';
import { checksumFiles, finishImage, privateName } from './publish.js';

/** Where, inside the image tree, a ramdisk flavour leaves `root/` (the ramdisk tree) and `kernel`. */
export const RAMDISK_BUILD = '/tmp/ramdisk-build';

export interface RamdiskOptions {
  /** The ramdisk flavour added first (--ramdisk-element; default 'ramdisk'). */
  element: string;
  compression: Compression;
  level?: number;
  /** A folder written first as an uncompressed archive (early microcode). */
  earlyDir?: string;
}

/** The options with the ramdisk flavour first (as DIB prepends RAMDISK_ELEMENT), once. */
export function withRamdiskFlavour(opts: BuildOptions): BuildOptions {
  const rd = opts.ramdisk;
  return rd ? { ...opts, flavours: [rd.element, ...opts.flavours.filter((f) => f !== rd.element)] } : opts;
}

/** NAME.kernel and NAME.initramfs (DIB's names); only the initramfs from a ready tree. */
export function ramdiskOutputs(opts: BuildOptions): string[] {
  const base = path.resolve(opts.imageName);
  const fromTree = opts.flavours.length === 0;
  return fromTree ? [`${base}.initramfs`] : [`${base}.kernel`, `${base}.initramfs`];
}

export interface RamdiskResult {
  outputs: string[];
  /** Bytes of the initramfs file and of the uncompressed archive in it. */
  size: number;
  archiveSize: number;
}

/**
 * Writes the initramfs of `tree` (and copies `kernel` when given) under private names, then
 * publishes them. Half-written files are removed by a cleanup step, also on a signal.
 */
export async function writeRamdiskOutputs(tree: FileTree, kernel: string | undefined, opts: BuildOptions, cleanup: CleanupStack, log: Logger): Promise<RamdiskResult> {
  const rd = opts.ramdisk!;
  const outputs = ramdiskOutputs(opts);
  const privates = outputs.map(privateName);
  const undo = cleanup.push('remove the unfinished ramdisk files', () => {
    for (const p of privates) fs.rmSync(p, { force: true });
  });
  const early: FileTree[] = [];
  try {
    if (rd.earlyDir) early.push(dirTree(rd.earlyDir));
    const initramfs = privates.at(-1)!;
    if (kernel) fs.copyFileSync(kernel, privates[0]!, fs.constants.COPYFILE_EXCL);
    const r = await writeInitramfs(tree, initramfs, {
      compression: rd.compression, ...(rd.level !== undefined ? { level: rd.level } : {}),
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
      early, warn: (w) => log(`warning: ${w}`),
    });
    if (cleanup.interrupted) throw new InputError(`interrupted by ${cleanup.interrupted}`);
    const sums = [];
    for (let i = 0; i < outputs.length; i++) sums.push(await checksumFiles(privates[i]!, outputs[i]!, opts.checksum));
    if (cleanup.interrupted) throw new InputError(`interrupted by ${cleanup.interrupted}`);
    for (let i = 0; i < outputs.length; i++) finishImage(privates[i]!, outputs[i]!, { overwrite: opts.overwrite, sums: sums[i]!, log });
    log(`wrote ${outputs.join(' and ')} (initramfs ${r.size} bytes, ${rd.compression}; archive ${r.archiveSize} bytes)`);
    return { outputs, size: r.size, archiveSize: r.archiveSize };
  } finally {
    for (const t of early) t.close();
    for (const p of privates) for (const f of [p, `${p}.md5`, `${p}.sha256`]) fs.rmSync(f, { force: true });
    undo();
  }
}

/** `--root-dir DIR` / `--root-tar FILE` without flavours: the archive of that tree alone. */
export async function ramdiskFromTree(opts: BuildOptions, cleanup: CleanupStack, log: Logger): Promise<RamdiskResult> {
  checkOutputs(opts);
  let tree: FileTree;
  if (opts.rootDir) {
    if (!fs.statSync(opts.rootDir, { throwIfNoEntry: false })?.isDirectory()) throw new InputError(`--root-dir ${opts.rootDir} is not a directory`, 'give the folder holding the ramdisk tree');
    tree = dirTree(opts.rootDir);
  } else {
    const input = opts.rootTar!;
    if (input !== '-' && !fs.existsSync(input)) throw new InputError(`--root-tar ${input} does not exist`);
    tree = await tarTree(input === '-' ? process.stdin : input);
  }
  try {
    return await writeRamdiskOutputs(tree, undefined, opts, cleanup, log);
  } finally {
    tree.close();
  }
}

/**
 * Refuses to start when the output folder is missing. An existing output is no reason to stop
 * (DIB's rule: it is renamed, or replaced, when the build has succeeded).
 */
export function checkOutputs(opts: BuildOptions): void {
  const dir = path.dirname(ramdiskOutputs(opts)[0]!);
  if (!fs.existsSync(dir)) throw new ConfigError('-o', `the output folder ${dir} does not exist`, 'create it first');
}

/** After the phases: the ramdisk flavour's tree and kernel, archived and published. */
export async function finishRamdisk(mnt: string, opts: BuildOptions, cleanup: CleanupStack, log: Logger, treeOptions: DirTreeOptions = {}): Promise<RamdiskResult> {
  const build = path.join(mnt, RAMDISK_BUILD);
  const root = path.join(build, 'root');
  const kernel = path.join(build, 'kernel');
  for (const [p, what] of [[root, 'the ramdisk tree'], [kernel, 'the kernel']] as const) {
    if (!fs.existsSync(p)) {
      throw new InputError(`the ramdisk flavour '${opts.ramdisk!.element}' left no ${what} at ${path.join(RAMDISK_BUILD, path.basename(p))} in the image tree`,
        'a --ramdisk-element flavour must build the tree in /tmp/ramdisk-build/root and copy the kernel to /tmp/ramdisk-build/kernel (see flavours/ramdisk)');
    }
  }
  const tree = dirTree(root, treeOptions);
  try {
    return await writeRamdiskOutputs(tree, kernel, opts, cleanup, log);
  } finally {
    tree.close();
  }
}
