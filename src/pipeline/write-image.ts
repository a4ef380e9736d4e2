/**
 * The writer-job stage of a build (pipeline.ts): the final environment (the flavours'
 * environment.d sourced once more), the layout (a hook's printed one, the command line's, or
 * a flavour's: layout-source.ts), and the job handed to the image writer started by setup
 * (writer-process.ts), which writes every output under its private name.
 */
import * as path from 'node:path';
import type { WriterJob } from '../assemble/writer-job.js';
import { DiskImageError } from '../errors.js';
import { sourcedEnvironment } from './environment.js';
import type { RootTree } from './hook-phases.js';
import { chooseLayout } from './layout-source.js';
import { privateName } from './publish.js';
import type { Build } from './setup.js';
import type { WriterProcess } from './writer-process.js';

/** What the writer sent back: one entry per output, with its checksums. */
export type WriterResult = Awaited<ReturnType<WriterProcess['run']>>;

/** Builds the writer's job from the options, the final environment and the layout, and runs it. */
export async function writeImage(b: Build, root: RootTree): Promise<WriterResult> {
  const job = writerJob(b, root);
  const result = await b.writer!.run(job, b.io);
  if (b.cleanup.interrupted) throw new DiskImageError('IO', `interrupted by ${b.cleanup.interrupted}`);
  return result;
}

/** The job: the tree, the layout and every setting the writer needs, all outputs under private names. */
export function writerJob(b: Build, root: RootTree): WriterJob {
  const { resolved, outputs } = b;
  const opts = root.printedLayout ? { ...b.opts, blockDeviceConfig: root.printedLayout } : b.opts;
  const finalEnv = sourcedEnvironment(root.hooksDir, root.hookEnv);
  const { config, source } = chooseLayout(opts, resolved, finalEnv);
  b.io.log(`layout: ${root.printedLayout ? 'printed by a block-device.d hook' : source}`);
  const bootloader = resolved.flavours.some((f) => f.name === 'bootloader');
  const mkfsOptions = [...opts.mkfsOptions, ...(opts.journalSizeMiB !== undefined ? ['-J', `size=${opts.journalSizeMiB}`] : [])];
  const grubTimeout = finalEnv.DIB_GRUB_TIMEOUT !== undefined && finalEnv.DIB_GRUB_TIMEOUT !== '' ? Number(finalEnv.DIB_GRUB_TIMEOUT) : undefined;
  return {
    tree: root.tree,
    options: {
      output: b.privateOutput, layout: config, bootloader, format: 'raw', overwrite: false, scratchDir: b.dir,
      containers: opts.types.map((type, i) => ({ type, path: privateName(outputs[i]!), name: path.basename(outputs[i]!) })),
      compress: !opts.uncompressed, checksums: opts.checksum,
      containerSettings: opts.containerSettings,
      ...(opts.imageSize !== undefined ? { imageSize: opts.imageSize } : {}),
      ...(opts.extraSize !== undefined ? { extraSize: opts.extraSize } : {}),
      ...(opts.rootLabel !== undefined ? { rootLabel: opts.rootLabel } : {}),
      ...(mkfsOptions.length ? { mkfsOptions } : {}),
      ...(grubTimeout !== undefined && Number.isFinite(grubTimeout) ? { grubTimeout } : {}),
      ...(finalEnv.DIB_BOOTLOADER_DEFAULT_CMDLINE ? { kernelCmdline: finalEnv.DIB_BOOTLOADER_DEFAULT_CMDLINE } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
    },
  };
}
