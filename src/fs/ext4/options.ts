/**
 * Options of the ext4 writer, the subset of mke2fs's command line they come from
 * (`parseMkfsOptions`, for DIB's MKFS_OPTS / --mkfs-options), and their checks. Sizing
 * (what a tree needs, DIB's size rule) lives in sizing.ts.
 */
import { ConfigError } from '../../errors.js';
import { isGuid } from '../../binary/guid.js';
import { INODE_SIZE } from './constants.js';

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
