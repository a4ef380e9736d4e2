/**
 * Human and machine views of a LayoutPlan: a table of partitions and filesystems, a
 * proportional bar of the disk, and the JSON shape `disk-image-layout --json` prints.
 * Returns strings; printing is the command line's job.
 */
import type { LayoutPlan, PlannedPartition } from './plan.js';
import { formatSize } from './size.js';

export interface LayoutJson {
  imageName: string;
  diskSize: number;
  /** 'mbr', 'gpt', or null for a bare filesystem on the whole image. */
  label: 'mbr' | 'gpt' | null;
  sectorSize: number;
  /** GPT: the disk GUID; null otherwise. */
  diskGuid: string | null;
  /** MBR: the disk signature ('0x1234abcd'); GPT: the disk GUID; null without a table. */
  diskId: string | null;
  partitions: Array<{
    number: number; name: string; role: string; firstLba: number; lastLba: number; sizeBytes: number;
    type: string; typeCode: string; guid: string | null; flags: string[];
    filesystem: string | null; label: string | null; uuid: string | null; mountPoint: string | null;
  }>;
  filesystems: Array<{ node: string; type: string; label: string; uuid: string; opts: string[];
    partitionNumber: number | null; offset: number; size: number; mountPoint: string | null }>;
  mountOrder: string[];
  fstab: string;
}

export function planToJson(plan: LayoutPlan): LayoutJson {
  const ss = plan.sectorSize;
  return {
    imageName: plan.imageName,
    diskSize: plan.diskSize,
    label: plan.table?.label ?? null,
    sectorSize: ss,
    diskGuid: plan.table?.label === 'gpt' ? plan.table.diskId : null,
    diskId: plan.table?.diskId ?? null,
    partitions: plan.partitions.map((p) => ({
      number: p.number, name: p.name, role: p.role, firstLba: Number(p.firstLba), lastLba: Number(p.lastLba),
      sizeBytes: Number(p.lastLba - p.firstLba + 1n) * ss, type: p.type, typeCode: p.typeCode, guid: p.guid ?? null,
      flags: p.flags, filesystem: p.filesystem?.type ?? null, label: p.filesystem?.label ?? null,
      uuid: p.filesystem?.uuid ?? null, mountPoint: p.filesystem?.mountPoint ?? null,
    })),
    filesystems: plan.filesystems.map((f) => ({
      node: f.node, type: f.type, label: f.label, uuid: f.uuid, opts: f.opts, partitionNumber: f.partitionNumber ?? null,
      offset: f.offset, size: f.size, mountPoint: f.mountPoint ?? null,
    })),
    mountOrder: plan.mountOrder,
    fstab: plan.fstab,
  };
}

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

const MARKS = '123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const markOf = (i: number) => MARKS[i % MARKS.length]!;

/** One character per slice of the disk; every partition and every gap gets at least one. */
export function renderBar(plan: LayoutPlan, width = 64): { bar: string; legend: string } {
  const ss = BigInt(plan.sectorSize);
  const total = BigInt(plan.diskSize) / ss;
  type Seg = { len: bigint; mark: string };
  const segs: Seg[] = [];
  const legend: string[] = [];
  if (plan.table === null) {
    segs.push({ len: total, mark: '=' });
    legend.push(`= ${plan.filesystems[0]?.node ?? 'image'} (whole image)`);
  } else {
    let at = 0n;
    const parts = plan.partitions.filter((p) => p.role !== 'extended').sort((a, b) => (a.firstLba < b.firstLba ? -1 : 1));
    parts.forEach((p: PlannedPartition) => {
      if (p.firstLba > at) segs.push({ len: p.firstLba - at, mark: '.' });
      segs.push({ len: p.lastLba - p.firstLba + 1n, mark: markOf(p.number - 1) });
      legend.push(`${markOf(p.number - 1)} ${p.name}`);
      at = p.lastLba + 1n;
    });
    if (at < total) segs.push({ len: total - at, mark: '.' });
    legend.push('. unpartitioned (tables, alignment, free)');
  }
  // Largest-remainder apportionment with a floor of one character per segment.
  const room = Math.max(width, segs.length);
  const exact = segs.map((s) => (Number(s.len) / Number(total)) * room);
  const cells = exact.map((e) => Math.max(1, Math.floor(e)));
  let used = cells.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, rem: e - Math.floor(e) })).sort((a, b) => b.rem - a.rem);
  for (let k = 0; used < room && order.length > 0; k = (k + 1) % order.length) {
    cells[order[k]!.i]!++;
    used++;
  }
  while (used > room) {
    const big = cells.indexOf(Math.max(...cells));
    cells[big]!--;
    used--;
  }
  return { bar: `|${segs.map((s, i) => s.mark.repeat(cells[i]!)).join('')}|`, legend: legend.join('   ') };
}

/** The table and bar `disk-image-layout` prints. */
export function renderPlan(plan: LayoutPlan): string {
  const ss = plan.sectorSize;
  const t = plan.table;
  let out = `${plan.imageName}: ${formatSize(plan.diskSize)} (${plan.diskSize} bytes), ` +
    (t ? `${t.label.toUpperCase()} partition table, ${ss}-byte sectors, disk ${t.label === 'gpt' ? 'GUID' : 'id'} ${t.diskId}` :
      `no partition table (one filesystem on the whole image), ${ss}-byte sectors`) + '\n\n';
  const rows: string[][] = [['#', 'NAME', 'START', 'END', 'SIZE', 'TYPE', 'FLAGS', 'FS', 'LABEL', 'MOUNT']];
  for (const p of plan.partitions) {
    const f = p.filesystem;
    rows.push([String(p.number), p.role === 'extended' ? '(extended)' : p.name, String(p.firstLba), String(p.lastLba),
      formatSize(Number(p.lastLba - p.firstLba + 1n) * ss), p.typeCode, p.flags.join(',') || '-',
      f?.type ?? '-', f?.label ?? '-', f?.mountPoint ?? '-']);
  }
  if (t === null) {
    for (const f of plan.filesystems) {
      rows.push(['-', f.node, '0', String(plan.diskSize / ss - 1), formatSize(f.size), '-', '-', f.type, f.label, f.mountPoint ?? '-']);
    }
  }
  out += columns(rows);
  const { bar, legend } = renderBar(plan);
  out += `\n${bar}\n${legend}\n`;
  if (plan.fstab) out += `\n/etc/fstab:\n${plan.fstab}`;
  return out;
}
