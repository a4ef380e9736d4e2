/**
 * Writes a planned layout's partition table into an image file (`disk-image-layout --write`).
 * The file is touched only after the whole plan succeeded: a new file is made sparse under a
 * temporary name in the same folder and linked into place at the end (never over a file that
 * appeared meanwhile); an existing file is opened for update and only the table's sectors are
 * written. Returns a sentence saying what was done.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SliceBlockDevice, type BlockDevice } from '../binary/block-device.js';
import { FileBlockDevice, publishFile } from '../binary/file-device.js';
import { DiskImageError, InputError, UsageError } from '../errors.js';
import type { LayoutPlan } from '../layout/plan.js';
import { writePartitionTable } from '../partition/index.js';

/** The size of an existing image file, or undefined when there is none (anything else is refused). */
export function existingImageSize(file: string): number | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(`${file}: cannot inspect it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  // As disk-image-create's outputs: never written through a symbolic link.
  if (st.isSymbolicLink()) throw new InputError(`${file} is a symbolic link; the table is not written through links`, 'give the path of the image file itself');
  if (!st.isFile()) throw new InputError(`${file} exists and is not a regular file`, 'give the path of an image file (or of a new one)');
  return st.size;
}

export function writeLayoutTable(plan: LayoutPlan, file: string, existing: number | undefined): string {
  const table = plan.table;
  if (table === null) {
    throw new UsageError(`the layout has no partition table (its filesystem covers the whole image): nothing to write to ${file}`,
      'drop --write, or use a layout with a partitioning node');
  }
  if (existing !== undefined) {
    if (existing < plan.diskSize) {
      throw new InputError(`${file} is ${existing} bytes but the layout was planned for ${plan.diskSize} bytes; nothing was written`,
        `plan for the file's size (leave out --size) or grow the file first (truncate -s ${plan.diskSize} ${file})`);
    }
    const dev = FileBlockDevice.open(file, 'r+');
    try {
      const target: BlockDevice = existing === plan.diskSize ? dev : new SliceBlockDevice(dev, 0, plan.diskSize);
      writePartitionTable(target, table);
      dev.sync();
    } finally {
      dev.close();
    }
    return `wrote the ${table.label.toUpperCase()} partition table into the first ${plan.diskSize} bytes of ${file}`;
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let dev: FileBlockDevice | undefined;
  try {
    dev = FileBlockDevice.create(tmp, plan.diskSize);
    writePartitionTable(dev, table);
    dev.sync();
    dev.close();
    // Never clobbers a file that appeared meanwhile (publishFile reports it).
    publishFile(tmp, file, { overwrite: false });
  } catch (e) {
    // FileBlockDevice wraps errno errors (the errno is on the cause): name the file asked for.
    const cause = (e as { cause?: unknown }).cause;
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    if (e instanceof DiskImageError && e.code === 'IO' && code !== undefined) {
      throw new InputError(`${file}: cannot write the image (${code}: ${(cause as Error).message})`, e.hint);
    }
    throw e;
  } finally {
    dev?.close();
    fs.rmSync(tmp, { force: true });
  }
  return `created ${file} (${plan.diskSize} bytes, sparse) with a ${table.label.toUpperCase()} partition table`;
}
