/**
 * What a build checks before it creates anything: the flavours resolve, the output folder
 * exists and is writable, the given root tree exists.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, InputError } from '../errors.js';
import type { Logger } from './cleanup.js';
import { preferBuiltins, refuseElements } from './elements-library.js';
import { builtinFlavoursDir, flavourSearchPath, indexFlavours, resolveFlavours, type Resolved } from './flavours.js';
import { checkElementFiles } from './package-installs.js';
import type { BuildOptions } from './options.js';
import { ramdiskOutputs } from './ramdisk.js';

/** Creates and removes a file in `dir`, so that an unwritable output folder fails before any hook runs. */
function probeWritable(dir: string): void {
  const probe = path.join(dir, `.dib-ts-probe-${process.pid}`);
  try {
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('-o', `cannot create files in the output folder ${dir} (${code}: ${(e as Error).message})`,
      code === 'EROFS' ? 'the folder is on a read-only filesystem: choose another -o' : 'choose a writable folder with -o, or fix its permissions');
  }
}

/** `output` is the first of `outputs` (NAME.TYPE for each -t type, in order). */
export interface Prepared { resolved: Resolved; output: string; outputs: string[]; }

/** Resolves flavours and checks the output name; nothing is created. */
export function prepare(opts: BuildOptions, env: NodeJS.ProcessEnv, log: Logger): Prepared {
  const builtins = builtinFlavoursDir();
  const index = indexFlavours(flavourSearchPath(env, builtins));
  const replaced = preferBuiltins(index, builtins);
  const resolved = resolveFlavours(opts.flavours, index, { skipBase: opts.skipBase, externalRoot: !!(opts.rootDir || opts.rootTar) });
  for (const f of resolved.flavours) if (replaced.has(f.name)) log(replaced.get(f.name)!);
  refuseElements(resolved, builtins);
  checkElementFiles(resolved.flavours);
  for (const w of resolved.warnings) log(`warning: ${w}`);
  // An existing output is no reason to stop: it is renamed (or replaced) only at the end of a
  // successful build (finishImage, DIB's rule).
  // ramdisk-image-create: NAME.kernel and NAME.initramfs (ramdisk.ts); the initramfs stands for both.
  const outputs = opts.ramdisk ? ramdiskOutputs(opts) : opts.types.map((t) => path.resolve(`${opts.imageName}.${t}`));
  const output = opts.ramdisk ? outputs.at(-1)! : outputs[0]!;
  if (!fs.existsSync(path.dirname(output))) throw new ConfigError('-o', `the output folder ${path.dirname(output)} does not exist`, 'create it first');
  if (!opts.dryRun) probeWritable(path.dirname(output));
  if (opts.rootDir && !fs.statSync(opts.rootDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new InputError(`--root-dir ${opts.rootDir} is not a directory`, 'give the folder holding the root tree');
  }
  if (opts.rootTar && opts.rootTar !== '-' && !fs.existsSync(opts.rootTar)) throw new InputError(`--root-tar ${opts.rootTar} does not exist`);
  return { resolved, output, outputs };
}
