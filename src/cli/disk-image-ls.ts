/**
 * `disk-image-ls IMAGE [PATH] [-R] [--json]`: the volumes of a raw or qcow2 disk image, then the
 * entries of PATH (default /) as `ls -l` shows them, read straight from the image file
 * (src/inspect): no mount, no root, no loop device. A separate /boot is shown where the
 * image's fstab mounts it; `--partition N` lists one partition's filesystem on its own (the
 * EFI system partition's FAT too).
 */
import { parseArgs } from 'node:util';
import { DiskImageError, UsageError } from '../errors.js';
import { inspectImage, type InspectedImage, volumeFs } from '../inspect/index.js';
import type { ImageFs } from '../inspect/image-fs.js';
import { type EntryJson, entryJson, longLines, ownerNames, volumeRows, volumeTable } from '../inspect/listing.js';
import { runMain } from './run.js';

const COMMAND = 'disk-image-ls';

const HELP = `Usage: ${COMMAND} IMAGE [PATH] [-R] [--json] [--partition N]

Lists what a disk image holds without mounting it: its partitions (or the bare
filesystem), then the entries of PATH inside the image as 'ls -l' shows them.
Reads raw and qcow2 images with an MBR (logical partitions too) or GPT, or a bare filesystem;
ext2, ext3, ext4 and FAT. A separate /boot (and /boot/efi) is found through the image's /etc/fstab.

  IMAGE             the image file (raw or qcow2)
  PATH              a path inside the image (default /); symlinks are followed
                    inside the image, never on the host
  -R, --recursive   list subdirectories too (as ls -lR)
  --partition N     PATH inside partition N's filesystem on its own (ext2/3/4 or
                    FAT: the EFI system partition), instead of the mounted system
  --json            print {image, format, table, volumes, entries} as JSON
  -h, --help        show this help
`;

interface Args { image: string; path: string; recursive: boolean; json: boolean; partition?: string }

function parse(argv: string[]): Args | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { recursive: { type: 'boolean', short: 'R' }, json: { type: 'boolean' }, partition: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, `see ${COMMAND} --help`);
  }
  if (parsed.values.help) return null;
  const pos = parsed.positionals;
  if (pos.length < 1 || pos.length > 2) {
    throw new UsageError(pos.length === 0 ? 'IMAGE is missing' : `at most IMAGE and PATH expected but got ${pos.length} arguments`, `see ${COMMAND} --help`);
  }
  const partition = parsed.values.partition;
  return {
    image: pos[0]!, path: pos[1] ?? '/', recursive: parsed.values.recursive ?? false, json: parsed.values.json ?? false,
    ...(partition !== undefined ? { partition } : {}),
  };
}

function childPath(dir: string, name: string): string {
  return dir === '/' ? '/' + name : `${dir}/${name}`;
}

/** Entries of `path` (a directory's children, or the entry itself), and of subdirectories with `recursive`. */
function collect(fs: ImageFs, path: string, recursive: boolean, names: ReturnType<typeof ownerNames>,
  emit: (dir: string | undefined, items: Array<{ e: EntryJson; name: string }>) => void): void {
  const top = fs.stat(path);
  if (top.type !== 'dir') {
    const l = fs.lstat(path);
    emit(undefined, [{ e: entryJson(l, path, names), name: path }]);
    return;
  }
  const seen = new Set<string>();
  const visit = (dir: string): void => {
    const items = fs.readdir(dir).map((c) => {
      const p = childPath(dir, c.name);
      return { e: entryJson(fs.lstat(p), p, names), name: c.name };
    });
    emit(dir, items);
    if (!recursive) return;
    for (const { e } of items) {
      if (e.type !== 'dir') continue;
      const key = `${fs.lstat(e.path).mount.point}:${e.ino}`;
      if (seen.has(key)) continue; // a directory loop in a damaged image
      seen.add(key);
      visit(e.path);
    }
  };
  visit(path);
}

runMain(COMMAND, async (argv) => {
  const args = parse(argv);
  if (!args) {
    process.stdout.write(HELP);
    return 0;
  }
  let img: InspectedImage | undefined;
  try {
    img = inspectImage(args.image);
    const layout = img.layout;
    let asm;
    let fsError: DiskImageError | undefined;
    try {
      asm = args.partition === undefined ? img.mounted() : undefined;
    } catch (e) {
      if (!(e instanceof DiskImageError)) throw e;
      fsError = e;
    }
    const rows = volumeRows(layout, asm);
    const entries: EntryJson[] = [];
    let text = '';
    for (const w of layout.warnings) process.stderr.write(`${COMMAND}: warning: ${w}\n`);
    if (!args.json) text += volumeTable(rows, layout.table?.label.toUpperCase()) + '\n';
    const fsToList = args.partition !== undefined ? volumeFs(layout, args.partition) : asm?.fs;
    if (fsToList) {
      const names = ownerNames(fsToList);
      collect(fsToList, args.path, args.recursive, names, (dir, items) => {
        if (args.json) entries.push(...items.map((i) => i.e));
        else {
          if (dir !== undefined && args.recursive) text += `${dir}:\n`;
          text += longLines(items).map((l) => l + '\n').join('');
          if (args.recursive) text += '\n';
        }
      });
    }
    if (args.json) {
      text = JSON.stringify({
        image: args.image, format: img.image.format, table: layout.table?.label ?? null, volumes: rows, entries,
        ...(fsError ? { error: fsError.message } : {}),
      }, null, 2) + '\n';
    }
    process.stdout.write(text);
    if (fsError) throw fsError;
    return 0;
  } finally {
    img?.close();
  }
});
