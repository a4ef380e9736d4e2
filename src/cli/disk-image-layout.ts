/**
 * `disk-image-layout CONFIG [--size SIZE] [--json] [--seed S] [--write FILE]`: plans a DIB
 * block-device layout (a YAML file, or a shipped name: mbr, gpt, efi, bare) for a disk size and
 * prints it as a table with a bar of the disk, or as JSON; `--write` puts the partition table
 * into an image file (src/assemble/layout-table.ts: nothing is touched unless the whole plan
 * succeeded).
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { readLayoutFile } from '../pipeline/path-checks.js';
import { loadLayout, planLayout } from '../layout/plan.js';
import { planToJson, renderPlan } from '../layout/render.js';
import { SHIPPED_LAYOUTS } from '../layout/shipped/index.js';
import { parseAbsoluteSize } from '../layout/size.js';
import { existingImageSize, writeLayoutTable } from '../assemble/layout-table.js';
import { runMain } from './run.js';

const COMMAND = 'disk-image-layout';

const HELP = `Usage: ${COMMAND} CONFIG [--size SIZE] [--json] [--seed SEED] [--write FILE]

Plans a diskimage-builder block-device layout and shows where every partition and
filesystem goes; optionally writes the partition table into an image file.

CONFIG            a block-device YAML file, or a shipped layout: ${Object.keys(SHIPPED_LAYOUTS).join(', ')}
  -s, --size SIZE   disk size, e.g. 2GiB, 512MiB, 4G (decimal), 1073741824 (bytes);
                    needed unless the layout's local_loop sets a size or --write names an
                    existing file (then its size is used)
  --json            print the plan as JSON instead of a table
  --seed SEED       derive disk/partition GUIDs and filesystem UUIDs from SEED (reproducible)
  --root-label L    label of the root filesystem (mkfs_root); default cloudimg-rootfs
  --root-fs-type T  type of the root filesystem when the layout leaves it open; default ext4
  --write FILE      write the partition table into FILE: a new FILE is created sparse with
                    SIZE bytes; an existing FILE (at least SIZE bytes) keeps all its other data
  -h, --help        show this help
`;

interface Args { config: string; size?: number; json: boolean; seed?: string; write?: string; rootLabel?: string; rootFsType?: string }

function parse(argv: string[]): Args | null {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: {
        size: { type: 'string', short: 's' }, json: { type: 'boolean' }, seed: { type: 'string' },
        write: { type: 'string' }, help: { type: 'boolean', short: 'h' },
        'root-label': { type: 'string' }, 'root-fs-type': { type: 'string' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, `see ${COMMAND} --help`);
  }
  const v = parsed.values;
  if (v.help) return null;
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? 'CONFIG is missing' : `one CONFIG expected but got ${parsed.positionals.length}: ${parsed.positionals.join(' ')}`,
      `give a layout file or one of ${Object.keys(SHIPPED_LAYOUTS).join(', ')}; see ${COMMAND} --help`);
  }
  let size: number | undefined;
  if (v.size !== undefined) {
    try {
      size = parseAbsoluteSize(v.size, '--size');
    } catch (e) {
      throw new UsageError(`--size '${v.size}' is not a size`, "write it like '2GiB', '512MiB', '4G' or a number of bytes");
    }
    if (size <= 0) throw new UsageError(`--size must be larger than 0 but it is '${v.size}'`);
  }
  if (v.write !== undefined && (v.write === '' || v.write.endsWith('/'))) {
    throw new UsageError(`--write '${v.write}' names ${v.write === '' ? 'nothing' : 'a folder'}, not an image file`, 'give the path of an image file, e.g. --write disk.raw');
  }
  return {
    config: parsed.positionals[0]!, json: v.json ?? false,
    ...(size !== undefined ? { size } : {}), ...(v.seed !== undefined ? { seed: v.seed } : {}),
    ...(v.write !== undefined ? { write: v.write } : {}), ...(v['root-label'] !== undefined ? { rootLabel: v['root-label'] } : {}),
    ...(v['root-fs-type'] !== undefined ? { rootFsType: v['root-fs-type'] } : {}),
  };
}

function readConfig(config: string): string {
  if (Object.hasOwn(SHIPPED_LAYOUTS, config)) return config;
  return readLayoutFile(config, config, `give a YAML file or one of the shipped layouts: ${Object.keys(SHIPPED_LAYOUTS).join(', ')}`);
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (args === null) {
    process.stdout.write(HELP);
    return 0;
  }
  const config = loadLayout(readConfig(args.config));
  const existing = args.write === undefined ? undefined : existingImageSize(args.write);
  let diskSize = args.size ?? existing;
  if (config.image.size !== undefined) {
    if (args.size !== undefined && args.size !== config.image.size) {
      throw new UsageError(`--size ${args.size} disagrees with the size ${config.image.size} the layout's local_loop '${config.image.name}' sets`,
        "leave out --size, or remove 'size' from the layout");
    }
    diskSize = config.image.size;
  }
  if (diskSize === undefined) throw new UsageError('--size is required: the layout does not set the image size', 'e.g. --size 2GiB');
  const plan = planLayout(config, {
    diskSize, ...(args.seed !== undefined ? { seed: args.seed } : {}),
    ...(args.rootLabel !== undefined ? { rootLabel: args.rootLabel } : {}),
    ...(args.rootFsType !== undefined ? { rootFsType: args.rootFsType } : {}),
  });
  const note = args.write === undefined ? undefined : writeLayoutTable(plan, args.write, existing);
  if (args.json) process.stdout.write(JSON.stringify(planToJson(plan), null, 2) + '\n');
  else process.stdout.write(renderPlan(plan));
  if (note) process.stderr.write(`${COMMAND}: ${note}\n`);
  return 0;
}

runMain(COMMAND, main);
