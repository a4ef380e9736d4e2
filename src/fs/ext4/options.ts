/**
 * Options of the ext4 writer, the subset of mke2fs's command line they come from
 * (`parseMkfsOptions`, for DIB's MKFS_OPTS / --mkfs-options), and sizing: DIB's rule
 * (content / 0.6, or content plus an extra size, plus the journal; rounded up to 64 KiB) and
 * the smallest filesystem a tree fits in.
 */
import { ConfigError } from '../../errors.js';
import type { FileTree } from '../../tree/model.js';
import { baseName, parentOf } from '../../tree/model.js';
import { isGuid } from '../../binary/guid.js';
import { utf8Length } from '../../binary/utf8.js';
import { BLOCK_SIZE, INODE_SIZE } from './constants.js';
import { estimateDirBlocks } from './dirblocks.js';
import { extentTreeBlocks } from './extent-tree.js';
import { groupHasSuper, planGeometry } from './geometry.js';
import { defaultJournalBlocks } from './journal.js';

export interface Ext4Options {
  /** Filesystem size in bytes (default: the whole device for writeExt4, DIB's rule for ext4SizeFor). */
  size?: number;
  /** Bytes added to the content instead of DIB's content / 0.6 rule. */
  extraSize?: number;
  label?: string;
  uuid?: string;
  /** htree hash seed, a UUID string. */
  hashSeed?: string;
  /** Bytes per inode (default 4096, as DIB passes -i 4096). */
  inodeRatio?: number;
  inodeCount?: number;
  inodeSize?: 256;
  /** Percentage of blocks reserved for root (default 5). */
  reservedPercent?: number;
  /** Journal size in bytes, 0 = no journal (default 64 MiB as DIB_JOURNAL_SIZE, scaled down like mke2fs on small filesystems). */
  journalSize?: number;
  /** Creation time in seconds (superblock times, lost+found, root when the tree has none). */
  timestamp?: number;
  /** Seed from which every invented value (UUID, hash seed) is derived; same seed => same bytes. */
  seed?: string;
}

export const DEFAULT_INODE_RATIO = 4096;
export const DEFAULT_JOURNAL_BYTES = 64 * 1024 * 1024;

function num(flag: string, v: string | undefined, min = 0): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) {
    throw new ConfigError(`mkfs option ${flag}`, `expected a whole number >= ${min} but got '${v ?? ''}'`);
  }
  return Number(v);
}

/** mke2fs options understood by the writer: -i -I -N -m -L -U -J size= -E hash_seed=,root_owner is not supported. */
export function parseMkfsOptions(opts: string[]): Partial<Ext4Options> {
  const out: Partial<Ext4Options> = {};
  const args = opts.flatMap((o) => o.split(/\s+/)).filter((s) => s.length > 0);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = () => {
      if (a.length > 2) return a.slice(2);
      const v = args[++i];
      if (v === undefined) throw new ConfigError(`mkfs option ${a}`, 'expected a value after it');
      return v;
    };
    const flag = a.slice(0, 2);
    switch (flag) {
      case '-i': out.inodeRatio = num('-i', next(), 1024); break;
      case '-I': {
        const v = num('-I', next());
        if (v !== 256) throw new ConfigError('mkfs option -I', `only 256-byte inodes are written but got ${v}`);
        out.inodeSize = 256;
        break;
      }
      case '-N': out.inodeCount = num('-N', next(), 1); break;
      case '-m': {
        const v = next();
        const p = Number(v);
        if (!/^\d+(\.\d+)?$/.test(v) || p > 50) throw new ConfigError('mkfs option -m', `expected a percentage 0-50 but got '${v}'`);
        out.reservedPercent = p;
        break;
      }
      case '-L': out.label = next(); break;
      case '-U': out.uuid = next(); break;
      case '-J': {
        for (const kv of next().split(',')) {
          const m = /^size=(\d+)$/.exec(kv);
          if (!m) throw new ConfigError('mkfs option -J', `only size=MiB is supported but got '${kv}'`);
          out.journalSize = Number(m[1]) * 1024 * 1024;
        }
        break;
      }
      case '-E': {
        for (const kv of next().split(',')) {
          const m = /^hash_seed=(.+)$/.exec(kv);
          if (m) out.hashSeed = m[1]!;
          else if (/^(lazy_itable_init|lazy_journal_init|nodiscard|discard)(=.*)?$/.test(kv)) continue;
          else throw new ConfigError('mkfs option -E', `unsupported extended option '${kv}'`, 'supported: hash_seed=UUID (lazy_*init and discard are accepted and ignored)');
        }
        break;
      }
      case '-t':
      case '-T': {
        const v = next();
        if (flag === '-t' && v !== 'ext4') throw new ConfigError('mkfs option -t', `the in-process writer makes ext4 but got '${v}'`);
        break;
      }
      case '-q': case '-F': break;
      default:
        throw new ConfigError(`mkfs option ${a}`, 'not supported by the in-process ext4 writer',
          'supported: -i -I 256 -N -m -L -U -J size= -E hash_seed= (-t ext4, -q, -F ignored)');
    }
  }
  return out;
}

/** What a tree needs, counted once per inode (hard links share). */
export interface TreeNeeds {
  inodes: number;
  /** Data, directory, slow-symlink, extent and xattr blocks. */
  blocks: number;
  /** Bytes as `du` would count them (blocks of the entries), for DIB's rule. */
  contentBytes: number;
}

/**
 * What `tree` needs, counted once per tree object: the assembler sizes the disk from it and
 * the writer checks it again (a pass over every entry: docs/benchmarks.md). A tree's
 * entries do not change once it is handed to the writers.
 */
export function treeNeeds(tree: FileTree): TreeNeeds {
  let needs = NEEDS.get(tree);
  if (!needs) NEEDS.set(tree, (needs = countTreeNeeds(tree)));
  return needs;
}
const NEEDS = new WeakMap<FileTree, TreeNeeds>();

function countTreeNeeds(tree: FileTree): TreeNeeds {
  const seen = new Set<string>();
  const dirNames = new Map<string, number[]>();
  let inodes = 0;
  let blocks = 0;
  let lastParent: string | undefined;
  let lastList: number[] = [];
  for (const e of tree.entries) {
    if (e.path !== '/') {
      // Siblings mostly come in a row: look the parent up only when it changes.
      const p = parentOf(e.path);
      if (p !== lastParent) {
        let l = dirNames.get(p);
        if (!l) dirNames.set(p, (l = []));
        lastParent = p;
        lastList = l;
      }
      lastList.push(utf8Length(baseName(e.path)));
    }
    if (e.hardlinkKey !== undefined) {
      if (seen.has(e.hardlinkKey)) continue;
      seen.add(e.hardlinkKey);
    }
    inodes++;
    if (e.type === 'file') {
      const b = Math.ceil(e.size / BLOCK_SIZE);
      blocks += b + extentTreeBlocks(Math.ceil(b / 32768));
    } else if (e.type === 'symlink' && e.size >= 60) blocks += 1;
    if (e.xattrs.size > 0) blocks += 1;
  }
  for (const e of tree.entries) if (e.type === 'dir') blocks += estimateDirBlocks(dirNames.get(e.path) ?? []);
  return { inodes, blocks, contentBytes: blocks * BLOCK_SIZE };
}

export function journalBlocksFor(fsBlocks: number, opts: Ext4Options): number {
  if (opts.journalSize === 0) return 0;
  if (opts.journalSize !== undefined) return Math.ceil(opts.journalSize / BLOCK_SIZE);
  return Math.min(DEFAULT_JOURNAL_BYTES / BLOCK_SIZE, defaultJournalBlocks(fsBlocks));
}

export function inodeCountFor(bytes: number, needed: number, opts: Ext4Options): number {
  if (opts.inodeCount !== undefined) return opts.inodeCount;
  const byRatio = Math.floor(bytes / (opts.inodeRatio ?? DEFAULT_INODE_RATIO));
  return Math.max(byRatio, needed + 16);
}

/** Metadata blocks of a filesystem of this geometry (superblocks, descriptors, bitmaps, inode tables, journal, lost+found). */
export function overheadBlocks(blocks: number, neededInodes: number, opts: Ext4Options): number {
  const geo = planGeometry(blocks, inodeCountFor(blocks * BLOCK_SIZE, neededInodes, opts));
  let n = geo.groups * (2 + geo.inodeTableBlocks);
  for (let g = 0; g < geo.groups; g++) if (groupHasSuper(g)) n += 1 + geo.gdtBlocks + geo.reservedGdtBlocks;
  return n + journalBlocksFor(geo.blocks, opts) + 4 /* lost+found */ + 1 /* root */ + 1 /* resize inode */;
}

/** The smallest size in bytes (whole blocks) the tree fits in with these options. */
export function minimumSize(needs: TreeNeeds, opts: Ext4Options): number {
  const inodes = needs.inodes + 11;
  let blocks = needs.blocks + 64;
  for (let i = 0; i < 50; i++) {
    // Slack for blocks lost where contiguous runs skip backup superblocks.
    const want = needs.blocks + overheadBlocks(blocks, inodes, opts) + 64 + Math.ceil(blocks / 32768) * 8;
    if (want <= blocks) break;
    blocks = want;
  }
  return blocks * BLOCK_SIZE;
}

const ALIGN = 64 * 1024;

/** The filesystem size for a tree: explicit size, content + extraSize, or DIB's content / 0.6; plus the journal. */
export function ext4SizeFor(tree: FileTree, opts: Ext4Options): number {
  if (opts.size !== undefined) return opts.size;
  const needs = treeNeeds(tree);
  const base = opts.extraSize !== undefined ? needs.contentBytes + opts.extraSize : needs.contentBytes / 0.6;
  const journal = opts.journalSize ?? DEFAULT_JOURNAL_BYTES;
  const dib = Math.ceil((base + journal) / ALIGN) * ALIGN;
  const min = Math.ceil(minimumSize(needs, opts) / ALIGN) * ALIGN;
  return Math.max(dib, min);
}

/** Refuses options the writer cannot honour, before anything is written. */
export function checkExt4Options(opts: Ext4Options, devSize: number): void {
  if (opts.inodeSize !== undefined && opts.inodeSize !== INODE_SIZE) {
    throw new ConfigError('ext4 inodeSize', `only ${INODE_SIZE}-byte inodes are written but got ${opts.inodeSize}`);
  }
  if (opts.size !== undefined && (opts.size > devSize || opts.size < 0)) {
    throw new ConfigError('ext4 size', `filesystem size ${opts.size} does not fit the device of ${devSize} bytes`);
  }
  if (opts.label !== undefined && Buffer.byteLength(opts.label) > 16) {
    throw new ConfigError('ext4 label', `'${opts.label}' is ${Buffer.byteLength(opts.label)} bytes; ext4 labels hold 16`);
  }
  for (const k of ['uuid', 'hashSeed'] as const) {
    const v = opts[k];
    if (v !== undefined && !isGuid(v)) throw new ConfigError(`ext4 ${k}`, `expected a UUID like 0b5b6a43-8d4f-4d55-9b51-5a0c9a1c7e21 but got '${v}'`);
  }
  if (opts.reservedPercent !== undefined && !(opts.reservedPercent >= 0 && opts.reservedPercent <= 50)) {
    throw new ConfigError('ext4 reservedPercent', `expected 0-50 but got ${opts.reservedPercent}`);
  }
}
