// Test helpers for boot tests: disks partitioned by the reference tools (sfdisk, sgdisk),
// read back as our PartitionTable model from `sfdisk --json`.
import * as fs from 'node:fs';
import type { PartitionTable } from '../../src/partition/table.js';
import { mustRun } from '../helpers/tools.js';

export function sfdiskTable(img: string): PartitionTable {
  const j = JSON.parse(mustRun('sfdisk', ['--json', img])).partitiontable;
  return {
    label: j.label === 'dos' ? 'mbr' : 'gpt',
    sectorSize: j.sectorsize ?? 512,
    diskSize: fs.statSync(img).size,
    diskId: j.id,
    partitions: j.partitions.map((p: { node: string; start: number; size: number; type: string; bootable?: boolean }, i: number) => ({
      number: Number(/(\d+)$/.exec(p.node)?.[1] ?? i + 1),
      firstLba: BigInt(p.start),
      lastLba: BigInt(p.start + p.size - 1),
      type: p.type.toLowerCase(),
      bootable: !!p.bootable,
    })),
  };
}

/** A sparse image file of `size` bytes partitioned by sfdisk from `script`. */
export function sfdiskImage(img: string, size: number, script: string): void {
  fs.writeFileSync(img, '');
  fs.truncateSync(img, size);
  mustRun('sfdisk', ['-q', img], { input: script });
}
