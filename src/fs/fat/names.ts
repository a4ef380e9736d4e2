/**
 * File names on FAT: the 8.3 short name every entry has, and the VFAT long-name entries that
 * carry the real name (Microsoft FAT spec v1.03 section 7: "Basis-Name Generation Algorithm",
 * "Numeric-Tail Generation Algorithm", the short-name checksum, and the LFN entry layout).
 */
import { InputError } from '../../errors.js';
import { ATTR_LONG_NAME, LAST_LONG_ENTRY, LfnEntry } from './structs.js';

const SHORT_OK = /^[A-Z0-9$%'\-_@~`!(){}^#&]$/;
const LONG_BAD = /[\x00-\x1f"*/:<>?\\|\x7f]/;
export const MAX_LONG_NAME = 255;

/** Checks a long name; throws InputError naming the path when FAT cannot store it. */
export function checkLongName(name: string, path: string): void {
  if (name === '.' || name === '..' || name.length === 0) throw new InputError(`FAT: '${path}' has an unusable name`);
  const bad = LONG_BAD.exec(name);
  if (bad) {
    throw new InputError(`FAT: the name of '${path}' contains ${JSON.stringify(bad[0])}, which FAT cannot store`,
      'rename the file; FAT forbids control characters and " * / : < > ? \\ |');
  }
  if (name.length > MAX_LONG_NAME) throw new InputError(`FAT: the name of '${path}' is ${name.length} characters; FAT allows ${MAX_LONG_NAME}`);
  if (/[ .]$/.test(name)) throw new InputError(`FAT: the name of '${path}' ends with a space or period, which FAT drops`);
}

/** The 11-byte short name as it is stored: 8 name characters then 3 extension characters, space padded. */
export function packShortName(base: string, ext: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) out[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length; i++) out[8 + i] = ext.charCodeAt(i);
  return out;
}

export interface ShortName {
  /** The 11 stored bytes. */
  bytes: Uint8Array;
  /** True when a long-name entry is needed to keep the real name. */
  needsLong: boolean;
}

function mapShort(s: string): { text: string; lossy: boolean } {
  let lossy = false;
  let text = '';
  for (const ch of s.toUpperCase()) {
    if (ch === ' ' || ch === '.') {
      lossy = true;
      continue;
    }
    if (SHORT_OK.test(ch)) text += ch;
    else {
      text += '_';
      lossy = true;
    }
  }
  return { text, lossy };
}

/**
 * Chooses the short name of `name` in a directory whose short names so far are `taken`
 * (11-byte strings in latin1). Adds a ~N tail when the basis name is lossy or collides.
 */
export function makeShortName(name: string, taken: Set<string>): ShortName {
  const stripped = name.replace(/^[. ]+/, '');
  const dot = stripped.lastIndexOf('.');
  const rawBase = dot > 0 ? stripped.slice(0, dot) : stripped;
  const rawExt = dot > 0 ? stripped.slice(dot + 1) : '';
  const b = mapShort(rawBase);
  const e = mapShort(rawExt);
  let lossy = b.lossy || e.lossy || stripped !== name;
  if (b.text.length > 8 || e.text.length > 3) lossy = true;
  const base = b.text.slice(0, 8) || '_';
  const ext = e.text.slice(0, 3);
  const exact = !lossy && `${base}${ext ? '.' + ext : ''}` === name;
  const key = (bs: string) => Buffer.from(packShortName(bs, ext)).toString('latin1');
  if (!lossy && !taken.has(key(base))) {
    const bytes = packShortName(base, ext);
    taken.add(key(base));
    return { bytes, needsLong: !exact };
  }
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const candidate = base.slice(0, 8 - tail.length) + tail;
    if (!taken.has(key(candidate))) {
      taken.add(key(candidate));
      return { bytes: packShortName(candidate, ext), needsLong: true };
    }
  }
  throw new InputError(`FAT: no free short name for '${name}' in its directory`);
}

/** The checksum of a short name that every long-name entry of it carries. */
export function shortNameChecksum(name11: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + name11[i]!) & 0xff;
  return sum;
}

/**
 * The long-name entries for `name`, in on-disk order (last piece first, flagged 0x40),
 * to be followed directly by the short entry whose 11 bytes are `short11`.
 */
export function longNameEntries(name: string, short11: Uint8Array): Uint8Array[] {
  const units: number[] = [];
  for (let i = 0; i < name.length; i++) units.push(name.charCodeAt(i));
  if (units.length % 13 !== 0) {
    units.push(0);
    while (units.length % 13 !== 0) units.push(0xffff);
  }
  const count = units.length / 13;
  const sum = shortNameChecksum(short11);
  const piece = (from: number, n: number) => {
    const b = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) {
      b[2 * i] = units[from + i]! & 0xff;
      b[2 * i + 1] = units[from + i]! >> 8;
    }
    return b;
  };
  const out: Uint8Array[] = [];
  for (let k = count; k >= 1; k--) {
    const at = (k - 1) * 13;
    out.push(LfnEntry.encode({
      LDIR_Ord: k | (k === count ? LAST_LONG_ENTRY : 0),
      LDIR_Name1: piece(at, 5),
      LDIR_Attr: ATTR_LONG_NAME,
      LDIR_Type: 0,
      LDIR_Chksum: sum,
      LDIR_Name2: piece(at + 5, 6),
      LDIR_FstClusLO: 0,
      LDIR_Name3: piece(at + 11, 2),
    }));
  }
  return out;
}
