/**
 * `disk-image-get-kernel -i IMAGE [-d DIR] [-o PREFIX] [-x] [--list] [--json]`:
 * diskimage-builder's command (removed from DIB in 2015; it mounted the image through
 * qemu-nbd as root). Writes DIR/PREFIX-vmlinuz and DIR/PREFIX-initrd, the kernel and initrd
 * DIB's select_boot_kernel_initrd would pick (src/inspect/kernel.ts), read straight from the
 * image file. Each output is written under a temporary name in DIR and renamed into place
 * when complete. `--list` shows every kernel and initrd found instead.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileError, publishFile } from '../binary/file-device.js';
import { InputError, UsageError } from '../errors.js';
import { inspectImage, type InspectedImage } from '../inspect/index.js';
import type { ImageFs } from '../inspect/image-fs.js';
import { type BootFile, listBootFiles, selectKernel } from '../inspect/kernel.js';
import { runMain } from './run.js';

const COMMAND = 'disk-image-get-kernel';
const PIECE = 8 << 20;

const HELP = `Usage: ${COMMAND} -i IMAGE [-d DIR] [-o PREFIX] [-x] [--list] [--json]

Extracts the kernel and initrd of a disk image, as diskimage-builder's command did,
without mounting the image: writes DIR/PREFIX-vmlinuz and DIR/PREFIX-initrd.
The files are chosen as diskimage-builder's select_boot_kernel_initrd chooses them
(by distribution, newest in version order); a separate /boot is found through the
image's /etc/fstab, or by looking at every partition.

  -i IMAGE      the image (raw or qcow2; MBR, GPT or a bare ext2/3/4 filesystem)
  -d DIR        output directory (default /tmp, as diskimage-builder)
  -o PREFIX     output name prefix (default baremetal)
  -x            trace: say on stderr what was found and why each file was chosen
  --list        list every kernel and initrd found (version, size, partition) instead
  --json        print the result (or the --list) as JSON on stdout
  -h, --help    show this help

Environment:
  DIB_BAREMETAL_KERNEL_PATTERN, DIB_BAREMETAL_INITRD_PATTERN
                shell patterns below /boot that choose the files (both must be set)
  DIB_SIGNED_KERNEL_VERSION
                Debian/Ubuntu: take the signed kernel (vmlinu*generic.efi.signed)
`;

interface Args { image: string; dir: string; prefix: string; trace: boolean; list: boolean; json: boolean }

function parse(argv: string[]): Args | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: false, strict: true,
      options: {
        image: { type: 'string', short: 'i' }, dir: { type: 'string', short: 'd' }, prefix: { type: 'string', short: 'o' },
        trace: { type: 'boolean', short: 'x' }, list: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, `see ${COMMAND} --help`);
  }
  const v = parsed.values;
  if (v.help) return null;
  if (!v.image) throw new UsageError('-i IMAGE is missing', `give the image to read: ${COMMAND} -i IMAGE`);
  const prefix = v.prefix ?? 'baremetal';
  if (prefix === '' || prefix.includes('/')) throw new UsageError(`-o '${prefix}' must be a file name prefix without '/'`, 'use -d for the directory');
  return { image: v.image, dir: v.dir ?? '/tmp', prefix, trace: v.trace ?? false, list: v.list ?? false, json: v.json ?? false };
}

/** Temporary files being written; a signal removes them before the process ends. */
const pending = new Set<string>();
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    for (const t of pending) fs.rmSync(t, { force: true });
    process.exit(code);
  });
}

/**
 * Copies `src` from the image into a new temporary file next to `dest` and returns its name.
 * The event loop turns between pieces, so Ctrl-C is handled (and the temporary removed).
 */
async function extractToTemp(fsys: ImageFs, src: BootFile, dest: string, imageSize: number): Promise<string> {
  const file = fsys.open(src.path);
  if (file.size > imageSize) {
    throw new InputError(`${src.path} claims ${file.size} bytes, more than the whole image (${imageSize}); the filesystem is damaged`,
      'run e2fsck -fn on the partition, or choose the files with DIB_BAREMETAL_KERNEL_PATTERN and DIB_BAREMETAL_INITRD_PATTERN');
  }
  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
  } catch (e) {
    throw fileError(e, tmp, 'creating');
  }
  pending.add(tmp);
  const buffer = new Uint8Array(Math.min(PIECE, file.size));
  try {
    for (let at = 0; at < file.size; at += PIECE) {
      const piece = buffer.subarray(0, Math.min(PIECE, file.size - at));
      file.readInto(at, piece);
      let done = 0;
      try {
        while (done < piece.length) done += fs.writeSync(fd, piece, done, piece.length - done, at + done);
      } catch (e) {
        throw fileError(e, tmp, 'writing');
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    pending.delete(tmp);
    throw e;
  }
  fs.closeSync(fd);
  return tmp;
}

/** Writes both files, then renames both into place: neither final name is touched unless both copies are complete. */
async function extractBoth(fsys: ImageFs, jobs: Array<[BootFile, string]>, imageSize: number): Promise<void> {
  const temps: string[] = [];
  try {
    for (const [src, dest] of jobs) temps.push(await extractToTemp(fsys, src, dest, imageSize));
    jobs.forEach(([, dest], i) => publishFile(temps[i]!, dest, { overwrite: true }));
  } finally {
    for (const t of temps) {
      fs.rmSync(t, { force: true });
      pending.delete(t);
    }
  }
}

function describe(f: BootFile): string {
  return `${f.path}${f.realPath !== f.path ? ` -> ${f.realPath}` : ''} (${f.size} bytes, partition ${f.volume})`;
}

runMain(COMMAND, async (argv) => {
  const args = parse(argv);
  if (!args) {
    process.stdout.write(HELP);
    return 0;
  }
  const trace = (s: string) => {
    if (args.trace) process.stderr.write(`${COMMAND}: ${s}\n`);
  };
  let img: InspectedImage | undefined;
  try {
    img = inspectImage(args.image);
    trace(`${args.image}: ${img.image.format}, ${img.layout.table ? `${img.layout.table.label} partition table` : 'no partition table'}`);
    for (const v of img.layout.volumes) trace(`  ${v.name === 'disk' ? 'whole disk' : `partition ${v.name}`}: ${v.fsType}${v.label ? ` '${v.label}'` : ''}${v.error ? ` (${v.error.message})` : ''}`);
    for (const w of img.layout.warnings) process.stderr.write(`${COMMAND}: warning: ${w}\n`);
    const asm = img.mounted();
    for (const n of asm.notes) trace(n);
    if (args.list) {
      const found = listBootFiles(asm.fs);
      if (args.json) process.stdout.write(JSON.stringify({ dir: found.dir, kernels: found.kernels, initrds: found.initrds }, null, 2) + '\n');
      else {
        const rows = [['KIND', 'VERSION', 'SIZE', 'PART', 'PATH'],
          ...found.kernels.map((k) => ['kernel', k.version ?? '-', String(k.size), k.volume, k.path + (k.realPath !== k.path ? ` -> ${k.realPath}` : '')]),
          ...found.initrds.map((k) => ['initrd', k.version ?? '-', String(k.size), k.volume, k.path + (k.realPath !== k.path ? ` -> ${k.realPath}` : '')])];
        const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        process.stdout.write(rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ')).join('\n') + '\n');
      }
      return 0;
    }
    const env = process.env;
    const choice = selectKernel(asm.fs, {
      ...(env.DIB_BAREMETAL_KERNEL_PATTERN ? { kernelPattern: env.DIB_BAREMETAL_KERNEL_PATTERN } : {}),
      ...(env.DIB_BAREMETAL_INITRD_PATTERN ? { initrdPattern: env.DIB_BAREMETAL_INITRD_PATTERN } : {}),
      ...(env.DIB_SIGNED_KERNEL_VERSION ? { signedKernelVersion: env.DIB_SIGNED_KERNEL_VERSION } : {}),
    });
    trace(`distribution: ${choice.distro}; rule: ${choice.rule}`);
    trace(`kernel: ${describe(choice.kernel)}`);
    trace(`initrd: ${describe(choice.initrd)}`);
    if (!fs.existsSync(args.dir) || !fs.statSync(args.dir).isDirectory()) {
      throw new UsageError(`-d ${args.dir} is not a directory`, 'create it first, or choose another with -d');
    }
    const kernelOut = path.join(args.dir, `${args.prefix}-vmlinuz`);
    const initrdOut = path.join(args.dir, `${args.prefix}-initrd`);
    await extractBoth(asm.fs, [[choice.kernel, kernelOut], [choice.initrd, initrdOut]], img.image.dev.size);
    trace(`wrote ${kernelOut} and ${initrdOut}`);
    if (args.json) {
      process.stdout.write(JSON.stringify({
        image: args.image, format: img.image.format, distro: choice.distro, rule: choice.rule,
        kernel: { ...choice.kernel, output: kernelOut }, initrd: { ...choice.initrd, output: initrdOut },
      }, null, 2) + '\n');
    }
    return 0;
  } finally {
    img?.close();
  }
});
