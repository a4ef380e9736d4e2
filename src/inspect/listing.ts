/**
 * What disk-image-ls shows: the volumes of an image as rows, and directory entries the way
 * `ls -l` prints them (mode string, links, owner and group names from the image's own
 * /etc/passwd and /etc/group, size or device numbers, modification time in UTC, link
 * target), plus the same facts as JSON-ready objects.
 */
import { DiskImageError } from '../errors.js';
import type { FsStat } from '../fs/readable.js';
import type { EntryType } from '../tree/model.js';
import type { ImageFs } from './image-fs.js';
import type { Assembled } from './mounts.js';
import type { DiskLayout } from './volumes.js';

export interface VolumeRow {
  name: string;
  start: number;
  size: number;
  type?: string;
  fs: string;
  label?: string;
  uuid?: string;
  partUuid?: string;
  mountedOn?: string;
  error?: string;
}

export function volumeRows(layout: DiskLayout, asm?: Assembled): VolumeRow[] {
  return layout.volumes.map((v) => {
    const m = asm?.fs.mounts.find((x) => x.volume === v);
    return {
      name: v.name, start: v.start, size: v.size, fs: v.fsType,
      ...(v.partitionType !== undefined ? { type: v.partitionType } : {}),
      ...(v.label ? { label: v.label } : {}), ...(v.uuid ? { uuid: v.uuid } : {}),
      ...(v.partUuid ? { partUuid: v.partUuid } : {}), ...(m ? { mountedOn: m.point } : {}),
      ...(v.error ? { error: v.error.message } : {}),
    };
  });
}

export interface EntryJson {
  path: string;
  type: EntryType;
  /** Permission bits with setuid/setgid/sticky (the low 12 bits of st_mode). */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  user?: string;
  group?: string;
  /** Bytes for files and symlinks, 0 for the rest (as the tree model keeps it). */
  size: number;
  /** Seconds since the epoch (UTC). */
  mtime: number;
  target?: string;
  rdev?: [number, number];
  ino: number;
}

/** uid and gid names from the image's /etc/passwd and /etc/group (empty when missing or unreadable). */
export function ownerNames(fs: ImageFs): { users: Map<number, string>; groups: Map<number, string> } {
  const read = (path: string): Map<number, string> => {
    const out = new Map<number, string>();
    try {
      const text = Buffer.from(fs.readSmall(path, 4 << 20)).toString('utf8');
      for (const line of text.split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && /^\d+$/.test(f[2]!) && !out.has(Number(f[2]))) out.set(Number(f[2]), f[0]!);
      }
    } catch (e) {
      if (!(e instanceof DiskImageError)) throw e;
    }
    return out;
  };
  return { users: read('/etc/passwd'), groups: read('/etc/group') };
}

export function entryJson(s: FsStat, path: string, names: ReturnType<typeof ownerNames>): EntryJson {
  const user = names.users.get(s.uid);
  const group = names.groups.get(s.gid);
  return {
    path, type: s.type, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid,
    ...(user !== undefined ? { user } : {}), ...(group !== undefined ? { group } : {}),
    size: s.size, mtime: s.mtime.sec, ino: s.ino,
    ...(s.type === 'symlink' ? { target: s.linkTarget ?? '' } : {}),
    ...(s.type === 'chardev' || s.type === 'blockdev' ? { rdev: [s.rdevMajor, s.rdevMinor] as [number, number] } : {}),
  };
}

const TYPE_CHAR: Record<EntryType, string> = { file: '-', dir: 'd', symlink: 'l', chardev: 'c', blockdev: 'b', fifo: 'p', socket: 's' };

/** 'drwxr-xr-x', with s/S, t/T for setuid, setgid and sticky, as ls prints them. */
export function modeString(type: EntryType, mode: number): string {
  const bit = (m: number, c: string) => (mode & m ? c : '-');
  const special = (x: string, set: boolean, lower: string, upper: string) => (set ? (x === '-' ? upper : lower) : x);
  const ux = special(bit(0o100, 'x'), (mode & 0o4000) !== 0, 's', 'S');
  const gx = special(bit(0o010, 'x'), (mode & 0o2000) !== 0, 's', 'S');
  const ox = special(bit(0o001, 'x'), (mode & 0o1000) !== 0, 't', 'T');
  return TYPE_CHAR[type] + bit(0o400, 'r') + bit(0o200, 'w') + ux + bit(0o040, 'r') + bit(0o020, 'w') + gx + bit(0o004, 'r') + bit(0o002, 'w') + ox;
}

function time(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? String(sec) : d.toISOString().slice(0, 16).replace('T', ' ');
}

/** `ls -l` lines for `entries` (name column: the last path component, or `label` when given). */
export function longLines(entries: Array<{ e: EntryJson; name: string }>): string[] {
  const rows = entries.map(({ e, name }) => [
    modeString(e.type, e.mode), String(e.nlink), e.user ?? String(e.uid), e.group ?? String(e.gid),
    e.rdev ? `${e.rdev[0]}, ${e.rdev[1]}` : String(e.size), time(e.mtime),
    e.target !== undefined ? `${name} -> ${e.target}` : name,
  ]);
  const width = (i: number) => Math.max(0, ...rows.map((r) => r[i]!.length));
  const w = [0, 1, 2, 3, 4].map(width);
  return rows.map((r) => [r[0], r[1]!.padStart(w[1]!), r[2]!.padEnd(w[2]!), r[3]!.padEnd(w[3]!), r[4]!.padStart(w[4]!), r[5], r[6]].join(' '));
}

function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}

/** The volume table disk-image-ls prints first. */
export function volumeTable(rows: VolumeRow[], label?: string): string {
  const head = ['PART', 'START', 'SIZE', 'TYPE', 'FS', 'LABEL', 'UUID', 'MOUNT'];
  const body = rows.map((r) => [r.name, String(r.start), human(r.size), r.type ?? '-', r.fs, r.label ?? '-', r.uuid ?? '-',
    r.mountedOn ?? (r.error ? `(${r.error})` : '-')]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const lines = all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ').trimEnd());
  return (label ? `${label} partition table\n` : '') + lines.join('\n') + '\n';
}
