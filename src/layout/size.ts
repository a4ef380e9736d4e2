/**
 * Size specifications of DIB's block-device YAML (diskimage_builder/block_device/utils.py):
 * a decimal number, an optional single space and a unit. Binary units TiB GiB MiB KiB
 * (1024^n), decimal units TB GB MB KB and T G M K (1000^n), B or no unit for bytes. A
 * trailing '%' makes the size relative to the space that is still free when the size is
 * taken; the result is truncated to whole bytes as DIB does (int()).
 */
import { LayoutError } from '../errors.js';

const UNITS: ReadonlyMap<string, number> = new Map([
  ['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024],
  ['TB', 1000 ** 4], ['GB', 1000 ** 3], ['MB', 1000 ** 2], ['KB', 1000],
  ['T', 1000 ** 4], ['G', 1000 ** 3], ['M', 1000 ** 2], ['K', 1000],
  ['B', 1], ['', 1],
]);

const SPEC_RE = /^(\d+(?:\.\d*)?|\.\d+)? ?([A-Za-z]*)$/;

export type SizeSpec = { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

/** Parses an absolute size ('10MiB', '1.5 G', '4096'); `node` is named in errors. */
export function parseAbsoluteSize(spec: string | number, node: string): number {
  const text = String(spec).trim();
  const m = SPEC_RE.exec(text);
  const factor = m ? UNITS.get(m[2]!) : undefined;
  if (m && factor !== undefined && m[1] === undefined && m[2] !== '') {
    throw new LayoutError(node, `size '${text}' has a unit but no number`, `write the number before the unit, e.g. '1${m[2]}'`);
  }
  if (!m || factor === undefined || m[1] === undefined) {
    throw new LayoutError(node, `size '${text}' is not a size: expected a number and one of the units ` +
      `KiB MiB GiB TiB (binary), KB MB GB TB or K M G T (decimal), B, or none (bytes)`,
      "write it like '512MiB', '2G', '1.5 GiB' or '1048576'");
  }
  const count = Number(m[1]);
  const bytes = Math.trunc(count * factor);
  if (!Number.isSafeInteger(bytes)) throw new LayoutError(node, `size '${text}' is too large`);
  return bytes;
}

/** Parses a partition size: absolute, or a percentage of the space still free ('100%', '40.5%'). */
export function parseSizeSpec(spec: string | number, node: string): SizeSpec {
  const text = String(spec).trim();
  if (text.endsWith('%')) {
    const num = text.slice(0, -1).trim();
    const percent = Number(num);
    if (num === '' || !Number.isFinite(percent) || percent <= 0 || percent > 100) {
      throw new LayoutError(node, `size '${text}' is not a percentage between 0 (excluded) and 100`,
        "write it like '100%' or '40%'");
    }
    return { kind: 'percent', percent };
  }
  return { kind: 'bytes', bytes: parseAbsoluteSize(text, node) };
}

/** The bytes a spec stands for when `free` bytes are still unallocated (DIB: int(free * p / 100)). */
export function resolveSize(spec: SizeSpec, free: number): number {
  return spec.kind === 'bytes' ? spec.bytes : Math.trunc((free * spec.percent) / 100);
}

/**
 * '2 GiB', '550 MiB', '1488 MiB', '1.5 KiB', '512 B': the largest binary unit in which the size is
 * whole, unless that needs more than 5 digits, then the largest unit with two decimals.
 */
export function formatSize(bytes: number): string {
  const units: Array<[string, number]> = [['TiB', 1024 ** 4], ['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024], ['B', 1]];
  for (const [name, f] of units) {
    if (bytes % f === 0 && bytes / f < 100000) return `${bytes / f} ${name}`;
  }
  for (const [name, f] of units) {
    if (bytes >= f) return `${(bytes / f).toFixed(2)} ${name}`;
  }
  return `${bytes} B`;
}
