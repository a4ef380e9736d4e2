/**
 * Parser of DIB's block-device YAML layouts (diskimage_builder/block_device/config.py and the
 * plugins in level0..level4; user guide "Disk Image Layout"). The document is a list of
 * single-key mappings whose key names a plugin. Two notations, freely mixed:
 *  - graph: every node names itself (`name`) and its parent (`base`);
 *  - tree: plugin keys nested in a node; a nested node without `base` takes its parent's
 *    name, one without `name` is called `<plugin>_<base>` (mkfs under partition `root` is
 *    `mkfs_root`, its mount `mount_mkfs_root`, that mount's fstab `fstab_mount_mkfs_root`).
 *    Plugin keys inside a `partitions` entry take the partition's name as their base.
 * The tree is first flattened to graph notation exactly as DIB does (`treeToGraph`), then each
 * node is validated into a typed model. Every error names the node it is about.
 *
 * Scalars are read with the YAML failsafe schema (all strings), so `type: 0x83` and
 * `type: '0x83'` mean the same, as do `type: 8300` and `type: '8300'`.
 */
import { checkFstabOptions, checkFstabText } from './text-fields.js';
import { createRequire } from 'node:module';
import { ConfigError, LayoutError } from '../errors.js';
import { isGuid } from '../binary/guid.js';
import { parseAbsoluteSize, parseSizeSpec, type SizeSpec } from './size.js';

export const PLUGINS = ['local_loop', 'partitioning', 'lvm', 'mkfs', 'mount', 'fstab'] as const;
export type PluginName = (typeof PLUGINS)[number];

export interface LoopNode { plugin: 'local_loop'; name: string; size?: number; blockSize: 512 | 4096 }
export interface PartitionNode {
  plugin: 'partition'; name: string; base: string; size: SizeSpec; sizeText: string;
  flags: Array<'boot' | 'primary'>;
  /** As written, or the default: MBR '0x83' style, GPT sgdisk code ('8300', 'EF00', '0x4100'), a type name ('esp') or a GUID. */
  type: string;
  typeGiven: boolean;
}
export interface PartitioningNode {
  plugin: 'partitioning'; name: string; base: string; label: 'mbr' | 'gpt'; align: number;
  partitions: PartitionNode[];
}
export interface MkfsNode { plugin: 'mkfs'; name: string; base: string; type?: string; label?: string; opts?: string[]; uuid?: string }
export interface MountNode { plugin: 'mount'; name: string; base: string; mountPoint: string }
export interface FstabNode { plugin: 'fstab'; name: string; base: string; options: string; dumpFreq: number; fsckPassno: number }

/** A validated layout in graph notation: one image, at most one partitioning, filesystems on top. */
export interface LayoutConfig {
  image: LoopNode;
  partitioning: PartitioningNode | null;
  mkfs: MkfsNode[];
  mounts: MountNode[];
  fstabs: FstabNode[];
}

type Dict = Record<string, unknown>;
type GraphEntry = Record<string, Dict>;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlugin = (k: string): k is PluginName => (PLUGINS as readonly string[]).includes(k);

function entryLabel(index: number, value: unknown): string {
  if (isDict(value)) {
    const inner = Object.values(value)[0];
    if (isDict(inner) && typeof inner['name'] === 'string') return inner['name'];
    return `entry ${index + 1} (${Object.keys(value).join(', ')})`;
  }
  return `entry ${index + 1}`;
}

/** Flattens tree notation into graph notation, one `{ plugin: {name, base, ...} }` per node, as DIB's config_tree_to_graph. */
export function treeToGraph(doc: unknown): GraphEntry[] {
  if (!Array.isArray(doc)) {
    throw new ConfigError('layout', `the document must be a YAML list of single-key mappings (one per node) but it is ${doc === null || doc === '' ? 'empty' : typeof doc}`,
      'start each node with "- local_loop:", "- partitioning:", "- mkfs:", "- mount:" or "- fstab:"');
  }
  const out: GraphEntry[] = [];
  doc.forEach((entry, i) => {
    const where = entryLabel(i, entry);
    if (!isDict(entry)) throw new LayoutError(where, `each entry of the layout must be a mapping with one plugin key, but it is '${String(entry)}'`);
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      throw new LayoutError(where, `a node must have exactly one plugin key but it has ${keys.length}: ${keys.join(', ')}`,
        'start a new list item ("- ") for each node');
    }
    out.push(...recurse(keys[0]!, entry[keys[0]!], undefined, where));
  });
  return out;
}

function recurse(key: string, raw: unknown, parentBase: string | undefined, where: string): GraphEntry[] {
  checkPlugin(key, where);
  const values: Dict = raw === '' ? {} : isDict(raw) ? raw : notAMapping(key, raw, where);
  const self: Dict = {};
  const base = values['base'] ?? parentBase;
  if (base !== undefined) self['base'] = base;
  self['name'] = values['name'] ?? `${key}_${String(base)}`;
  const name = String(self['name']);
  const out: GraphEntry[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (k === 'partitions' && key === 'partitioning') {
      if (!Array.isArray(v)) throw new LayoutError(name, `'partitions' must be a list of partitions but it is '${String(v)}'`);
      self['partitions'] = v.map((part, i) => {
        if (!isDict(part)) throw new LayoutError(name, `partition ${i + 1} must be a mapping but it is '${String(part)}'`);
        const p: Dict = {};
        for (const [pk, pv] of Object.entries(part)) {
          if (isPlugin(pk)) out.push(...recurse(pk, pv, String(part['name']), String(part['name'] ?? name)));
          else p[pk] = pv;
        }
        p['base'] = self['base'];
        return p;
      });
    } else if (isPlugin(k)) {
      out.push(...recurse(k, v, name, name));
    } else if (k !== 'name' && k !== 'base') {
      self[k] = v;
    }
  }
  out.push({ [key]: self });
  return out;
}

function checkPlugin(key: string, where: string): void {
  if (!isPlugin(key)) {
    throw new LayoutError(where, `'${key}' is not a block-device plugin`,
      `the plugins are: ${PLUGINS.join(', ')}`);
  }
}

function notAMapping(key: string, v: unknown, where: string): never {
  throw new LayoutError(where, `the value of '${key}' must be a mapping of its settings but it is '${String(v)}'`);
}

/**
 * The `yaml` package, loaded on the first layout that is parsed: a build that writes a bare
 * filesystem, and every command that never reads a layout, skip its loading (docs/benchmarks.md).
 */
let yamlParse: typeof import('yaml').parse | undefined;
function yamlParser(): typeof import('yaml').parse {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse;
  return yamlParse;
}

/** The deepest nesting a layout may have; DIB's layouts need six levels. */
export const MAX_LAYOUT_DEPTH = 64;

/**
 * An upper bound of the document's nesting: block levels (a stack of indents) plus flow
 * brackets outside quotes, line by line. Checked before parsing, so that a hostile document
 * meets a stated limit instead of the parser's recursion running out of stack.
 */
function nestingDepth(text: string): number {
  const indents: number[] = [];
  let flow = 0;
  let deepest = 0;
  for (const line of text.split('\n')) {
    const body = line.trimStart();
    if (body === '' || body.startsWith('#')) continue;
    const indent = line.length - body.length + (/^- /.test(body) ? 2 : 0);
    while (indents.length > 0 && indents.at(-1)! >= indent) indents.pop();
    indents.push(indent);
    let quote = '';
    for (const c of body) {
      if (quote) { if (c === quote) quote = ''; }
      else if (c === '"' || c === "'") quote = c;
      else if (c === '[' || c === '{') deepest = Math.max(deepest, indents.length + ++flow);
      else if ((c === ']' || c === '}') && flow > 0) flow--;
    }
    deepest = Math.max(deepest, indents.length + flow);
  }
  return deepest;
}

/** Parses and validates a layout document (tree, graph or mixed notation). */
export function parseLayout(yamlText: string): LayoutConfig {
  const tooDeep = (): ConfigError => new ConfigError('layout', `the YAML nests deeper than ${MAX_LAYOUT_DEPTH} levels`,
    'a block-device layout nests a few levels (partitions inside partitioning inside the list): check the file');
  if (nestingDepth(yamlText) > MAX_LAYOUT_DEPTH) throw tooDeep();
  let doc: unknown;
  try {
    doc = yamlParser()(yamlText, { schema: 'failsafe' });
  } catch (e) {
    if (e instanceof RangeError || /call stack/.test((e as Error).message)) throw tooDeep();
    throw new ConfigError('layout', `not valid YAML: ${(e as Error).message}`);
  }
  return validateGraph(treeToGraph(doc));
}

function str(node: string, d: Dict, key: string, required: true): string;
function str(node: string, d: Dict, key: string, required?: false): string | undefined;
function str(node: string, d: Dict, key: string, required = false): string | undefined {
  const v = d[key];
  if (v === undefined || v === '') {
    if (required) throw new LayoutError(node, `'${key}' is required but missing`);
    return undefined;
  }
  if (typeof v !== 'string') throw new LayoutError(node, `'${key}' must be a single value but it is ${Array.isArray(v) ? 'a list' : 'a mapping'}`);
  return v;
}

function int(node: string, d: Dict, key: string, dflt: number): number {
  const v = str(node, d, key);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new LayoutError(node, `'${key}' must be a whole number but it is '${v}'`);
  return Number(v);
}

function onlyKeys(node: string, plugin: string, d: Dict, allowed: string[]): void {
  for (const k of Object.keys(d)) {
    if (!allowed.includes(k)) {
      throw new LayoutError(node, `unknown setting '${k}' for ${plugin}`, `the settings of ${plugin} are: ${allowed.join(', ')}`);
    }
  }
}

const MBR_TYPE_RE = /^0x[0-9a-f]{1,2}$/i;
const GPT_CODE_RE = /^(0x)?[0-9a-f]{4}$/i;

function parsePartition(d: Dict, parting: string, label: 'mbr' | 'gpt', index: number): PartitionNode {
  const name = str(parting, d, 'name') ?? missingName(parting, index);
  onlyKeys(name, 'a partition', d, ['name', 'base', 'size', 'flags', 'type']);
  const sizeText = str(name, d, 'size', true);
  const rawFlags = d['flags'] ?? [];
  if (!Array.isArray(rawFlags)) throw new LayoutError(name, `'flags' must be a list like [boot, primary] but it is '${String(rawFlags)}'`);
  const flags: Array<'boot' | 'primary'> = [];
  for (const f of rawFlags) {
    if (f !== 'boot' && f !== 'primary') {
      throw new LayoutError(name, `unknown flag '${String(f)}'`, "the flags are 'boot' and 'primary' (MBR only)");
    }
    if (f === 'primary' && label === 'gpt') {
      throw new LayoutError(name, "flag 'primary' is only meaningful on an MBR label but this table is GPT",
        "remove 'primary': every GPT partition is a primary partition");
    }
    if (!flags.includes(f)) flags.push(f);
  }
  const typeText = str(name, d, 'type');
  let type: string;
  if (label === 'mbr') {
    type = (typeText ?? '0x83').toLowerCase();
    if (!MBR_TYPE_RE.test(type)) throw new LayoutError(name, `MBR partition type '${typeText}' is not a hex byte`, "write it like '0x83' (Linux) or '0xef' (EFI)");
    type = `0x${parseInt(type, 16).toString(16).padStart(2, '0')}`;
    if (type === '0x00' || type === '0x05' || type === '0x0f' || type === '0x85') {
      throw new LayoutError(name, `MBR partition type ${type} is reserved (empty or extended partition)`, 'the extended partition is made for you when a partition is not primary');
    }
    if (type === '0xee') {
      throw new LayoutError(name, 'MBR partition type 0xee marks a GPT protective MBR, not a data partition', "use 'label: gpt' for a GPT disk, or a data type such as 0x83");
    }
  } else {
    type = typeText ?? '8300';
    if (!GPT_CODE_RE.test(type) && !isGuid(type) && !/^[a-z][a-z0-9_-]*$/i.test(type)) {
      throw new LayoutError(name, `GPT partition type '${typeText}' is neither an sgdisk type code, a type name nor a GUID`, "write it like '8300', 'EF00', 'EF02', 'esp' or a type GUID");
    }
    type = GPT_CODE_RE.test(type) ? type.replace(/^0x/i, '').toUpperCase() : type.toLowerCase();
    if (isGuid(type) && /^[0-]+$/.test(type)) {
      throw new LayoutError(name, 'GPT partition type 00000000-0000-0000-0000-000000000000 marks an unused entry, not a partition', "use a type such as '8300' (Linux) or 'EF00' (ESP)");
    }
    // Whether a code or name is known is checked by the planner (gpt-types.ts).
  }
  return {
    plugin: 'partition', name, base: String(d['base']), size: parseSizeSpec(sizeText, name), sizeText,
    flags, type, typeGiven: typeText !== undefined,
  };
}

function missingName(parting: string, index: number): never {
  throw new LayoutError(parting, `partition ${index + 1} has no 'name'`, 'every partition needs a unique name');
}

/** Validates a flattened layout into the typed model: required settings, names, edges and kinds. */
export function validateGraph(graph: GraphEntry[]): LayoutConfig {
  const loops: LoopNode[] = [];
  const partitionings: PartitioningNode[] = [];
  const cfg: Omit<LayoutConfig, 'image' | 'partitioning'> = { mkfs: [], mounts: [], fstabs: [] };
  for (const entry of graph) {
    const [plugin, d] = Object.entries(entry)[0]!;
    const name = String(d['name']);
    switch (plugin) {
      case 'local_loop': {
        onlyKeys(name, 'local_loop', d, ['name', 'base', 'size', 'block_size', 'directory']);
        const sizeText = str(name, d, 'size');
        const bs = int(name, d, 'block_size', 512);
        if (bs !== 512 && bs !== 4096) throw new LayoutError(name, `block_size must be 512 or 4096 but it is ${bs}`);
        loops.push({ plugin: 'local_loop', name, blockSize: bs, ...(sizeText ? { size: parseAbsoluteSize(sizeText, name) } : {}) });
        break;
      }
      case 'partitioning': {
        onlyKeys(name, 'partitioning', d, ['name', 'base', 'label', 'align', 'partitions']);
        str(name, d, 'base', true);
        const label = str(name, d, 'label', true);
        if (label !== 'mbr' && label !== 'gpt') throw new LayoutError(name, `label must be 'mbr' or 'gpt' but it is '${label}'`);
        const alignText = str(name, d, 'align');
        const align = alignText === undefined ? 1024 * 1024 : parseAbsoluteSize(alignText, name);
        const parts = d['partitions'];
        if (!Array.isArray(parts) || parts.length === 0) throw new LayoutError(name, "'partitions' is required: a list of at least one partition");
        partitionings.push({
          plugin: 'partitioning', name, base: String(d['base']), label, align,
          partitions: parts.map((p, i) => parsePartition(p as Dict, name, label, i)),
        });
        break;
      }
      case 'lvm':
        throw new LayoutError(name, 'LVM (the lvm plugin) is not supported yet',
          'use plain partitions: diskimage-ts writes filesystems straight into partitions, without device-mapper');
      case 'mkfs': {
        onlyKeys(name, 'mkfs', d, ['name', 'base', 'type', 'label', 'opts', 'uuid']);
        const base = str(name, d, 'base', true);
        const type = str(name, d, 'type');
        if (d['type'] === '') throw new LayoutError(name, "filesystem type '' is not one mkfs knows: 'type' is empty", "write e.g. 'type: ext4', or leave 'type' out on mkfs_root");
        if (type === undefined && name !== 'mkfs_root') {
          throw new LayoutError(name, "'type' is required (only the node named mkfs_root takes its type from the build options)", "add e.g. 'type: ext4' or 'type: vfat'");
        }
        const uuid = str(name, d, 'uuid');
        if (uuid !== undefined && !isGuid(uuid)) throw new LayoutError(name, `uuid '${uuid}' is not a UUID (8-4-4-4-12 hex digits)`);
        const label = str(name, d, 'label');
        const opts = str(name, d, 'opts');
        cfg.mkfs.push({
          plugin: 'mkfs', name, base, ...(type !== undefined ? { type } : {}), ...(label !== undefined ? { label } : {}),
          ...(opts !== undefined ? { opts: opts.trim().split(/\s+/) } : {}), ...(uuid ? { uuid: uuid.toLowerCase() } : {}),
        });
        break;
      }
      case 'mount': {
        onlyKeys(name, 'mount', d, ['name', 'base', 'mount_point']);
        const mp = str(name, d, 'mount_point', true);
        if (mp !== 'none' && !mp.startsWith('/')) throw new LayoutError(name, `mount_point '${mp}' must be an absolute path (or 'none' for swap)`);
        checkFstabText(name, 'mount_point', mp);
        cfg.mounts.push({ plugin: 'mount', name, base: str(name, d, 'base', true), mountPoint: mp.length > 1 ? mp.replace(/\/+$/, '') : mp });
        break;
      }
      case 'fstab': {
        onlyKeys(name, 'fstab', d, ['name', 'base', 'options', 'dump-freq', 'fsck-passno']);
        const options = str(name, d, 'options') ?? 'defaults';
        checkFstabOptions(name, options);
        cfg.fstabs.push({
          plugin: 'fstab', name, base: str(name, d, 'base', true), options,
          dumpFreq: int(name, d, 'dump-freq', 0), fsckPassno: int(name, d, 'fsck-passno', 2),
        });
        break;
      }
    }
  }
  return checkGraph(loops, partitionings, cfg);
}

function checkGraph(loops: LoopNode[], partitionings: PartitioningNode[], rest: Omit<LayoutConfig, 'image' | 'partitioning'>): LayoutConfig {
  const kinds = new Map<string, string>();
  const add = (name: string, kind: string) => {
    if (kinds.has(name)) throw new LayoutError(name, `duplicate node name: '${name}' is used by a ${kinds.get(name)} and by a ${kind}`, 'give every node a unique name');
    kinds.set(name, kind);
  };
  for (const l of loops) add(l.name, 'local_loop');
  for (const p of partitionings) for (const part of p.partitions) add(part.name, 'partition');
  for (const m of rest.mkfs) add(m.name, 'mkfs');
  for (const m of rest.mounts) add(m.name, 'mount');
  for (const f of rest.fstabs) add(f.name, 'fstab');

  const edge = (node: string, base: string, want: string[]) => {
    const kind = kinds.get(base);
    if (kind === undefined) throw new LayoutError(node, `edge not defined: ${base}->${node} ('${base}' is not a node of this layout)`, 'check the spelling of base, or add the missing node');
    if (!want.includes(kind)) throw new LayoutError(node, `its base '${base}' is a ${kind} but it must be a ${want.join(' or ')}`);
  };
  const once = (nodes: Array<{ name: string; base: string }>, what: string) => {
    const seen = new Map<string, string>();
    for (const n of nodes) {
      const prev = seen.get(n.base);
      if (prev !== undefined) throw new LayoutError(n.name, `'${n.base}' already has ${what} '${prev}'`, `one ${what} per base`);
      seen.set(n.base, n.name);
    }
  };
  if (loops.length !== 1) {
    throw new LayoutError(loops[1]?.name ?? 'local_loop', loops.length === 0 ? 'the layout has no local_loop node (the image)' : `the layout has ${loops.length} local_loop nodes but only one image is supported`,
      'start the layout with "- local_loop: {name: image0}"');
  }
  if (partitionings.length > 1) throw new LayoutError(partitionings[1]!.name, 'only one partitioning per image is supported');
  for (const p of partitionings) {
    edge(p.name, p.base, ['local_loop']);
    for (const part of p.partitions) edge(part.name, part.base, ['local_loop']);
  }
  for (const m of rest.mkfs) edge(m.name, m.base, ['partition', 'local_loop']);
  for (const m of rest.mounts) edge(m.name, m.base, ['mkfs']);
  for (const f of rest.fstabs) edge(f.name, f.base, ['mount']);
  once(rest.mkfs, 'a filesystem');
  once(rest.mounts, 'a mount');
  once(rest.fstabs, 'an fstab entry');
  const points = new Map<string, string>();
  for (const m of rest.mounts) {
    const prev = points.get(m.mountPoint);
    if (prev !== undefined && m.mountPoint !== 'none') throw new LayoutError(m.name, `mount point '${m.mountPoint}' is already used by '${prev}'`);
    points.set(m.mountPoint, m.name);
  }
  const image = loops[0]!;
  const partitioning = partitionings[0] ?? null;
  const onImage = rest.mkfs.find((m) => m.base === image.name);
  if (onImage && partitioning) {
    throw new LayoutError(onImage.name, `a filesystem directly on the image '${image.name}' cannot share it with the partition table '${partitioning.name}'`);
  }
  return { image, partitioning, ...rest };
}
