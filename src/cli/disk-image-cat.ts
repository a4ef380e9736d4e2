/**
 * `disk-image-cat IMAGE PATH`: the bytes of a regular file inside a raw or qcow2 disk image, written
 * to stdout in pieces (any size, holes read as zeros), read straight from the image file
 * (src/inspect). Symlinks are followed inside the image. `--partition N` reads inside one
 * partition's filesystem on its own (the EFI system partition's FAT too).
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { inspectImage, type InspectedImage, volumeFs } from '../inspect/index.js';
import { runMain } from './run.js';

const COMMAND = 'disk-image-cat';
const PIECE = 4 << 20;

const HELP = `Usage: ${COMMAND} IMAGE PATH [--partition N]

Writes the content of the regular file PATH inside the disk image IMAGE to stdout,
without mounting the image. Reads what disk-image-ls reads (raw or qcow2; MBR, GPT or a bare
filesystem; ext2, ext3, ext4, FAT; a separate /boot found through the image's fstab).
Symlinks are followed inside the image, never on the host.

  IMAGE           the image file
  PATH            an absolute path inside the image
  --partition N   PATH inside partition N's filesystem on its own (ext2/3/4 or FAT:
                  the EFI system partition), instead of the mounted system
  -h, --help      show this help
`;

/** Writes `chunk` to stdout and resolves once it has been handed to the system (the buffer is then free for the next piece). */
function write(chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    process.stdout.once('error', onError);
    process.stdout.write(chunk, (e) => {
      process.stdout.off('error', onError);
      if (e) reject(e);
      else resolve();
    });
  });
}

runMain(COMMAND, async (argv) => {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { partition: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    throw new UsageError((e as Error).message, `see ${COMMAND} --help`);
  }
  if (parsed.values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    throw new UsageError(`IMAGE and PATH expected but got ${parsed.positionals.length} argument${parsed.positionals.length === 1 ? '' : 's'}`, `see ${COMMAND} --help`);
  }
  const [image, path] = parsed.positionals as [string, string];
  let img: InspectedImage | undefined;
  try {
    img = inspectImage(image);
    const part = parsed.values.partition;
    const file = (part !== undefined ? volumeFs(img.layout, part) : img.mounted().fs).open(path);
    const buffer = new Uint8Array(Math.min(PIECE, file.size));
    for (let at = 0; at < file.size; at += PIECE) {
      const piece = buffer.subarray(0, Math.min(PIECE, file.size - at));
      file.readInto(at, piece);
      try {
        await write(piece);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') return 0; // the reader went away (| head)
        throw e;
      }
    }
    return 0;
  } finally {
    img?.close();
  }
});
