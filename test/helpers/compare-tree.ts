/**
 * Compares a FileTree with what the kernel shows of a mounted image (or with another tree),
 * field by field: type, mode, uid, gid, size, mtime to the nanosecond, device numbers,
 * symlink target, sha256 of content, hard-link groups and extended attributes. An empty
 * difference list means equal. Also builds, as root, a directory holding every entry type
 * the writers must carry (makeEveryTypeTree).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dirTree } from '../../src/tree/dir-source.js';
import type { FileTree, TreeEntry } from '../../src/tree/model.js';
import { hasTool } from './tools.js';

export type Field =
  | 'presence' | 'type' | 'mode' | 'uid' | 'gid' | 'size' | 'mtime' | 'atime' | 'ctime' | 'rdev'
  | 'linkTarget' | 'content' | 'hardlinks' | 'xattrs';

export interface Difference {
  path: string;
  field: Field;
  expected: string;
  actual: string;
}

export interface CompareOptions {
  /** Fields not compared. atime and ctime are never compared unless listed in `extra`. */
  ignore?: Field[];
  /** Fields compared on top of the defaults ('atime', 'ctime'). */
  extra?: Field[];
  /** Paths present only in the actual tree that are fine (e.g. '/lost+found'); their children too. */
  allowExtra?: string[];
  /** Time granularity of the target filesystem in ns (ext4 small inodes 1e9, FAT 2e9); default 1. */
  mtimeGranularityNs?: number;
  /** Extended attributes left out of the comparison (by name). */
  ignoreXattr?: (name: string) => boolean;
  /** Compare directories' mtime too (default true). */
  dirMtimes?: boolean;
}

function sha256(e: TreeEntry): string {
  if (!e.content) return e.type === 'file' ? 'no content' : '-';
  const h = createHash('sha256');
  const chunk = 1 << 20;
  for (let off = 0; off < e.content.size; off += chunk) h.update(e.content.read(off, Math.min(chunk, e.content.size - off)));
  return h.digest('hex');
}

function xattrText(e: TreeEntry, ignore?: (n: string) => boolean): string {
  return [...e.xattrs.entries()]
    .filter(([n]) => !ignore?.(n))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([n, v]) => `${n}=${Buffer.from(v).toString('hex')}`)
    .join(' ');
}

/** For each path, the sorted list of paths it is hard-linked with (itself included). */
function linkGroups(tree: FileTree): Map<string, string> {
  const byKey = new Map<string, string[]>();
  for (const e of tree.entries) {
    if (!e.hardlinkKey) continue;
    const g = byKey.get(e.hardlinkKey) ?? [];
    g.push(e.path);
    byKey.set(e.hardlinkKey, g);
  }
  const out = new Map<string, string>();
  for (const g of byKey.values()) for (const p of g) out.set(p, [...g].sort().join(','));
  return out;
}

function truncNs(sec: number, nsec: number, gran: number): bigint {
  const ns = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  const g = BigInt(gran);
  return ns - (((ns % g) + g) % g);
}

/** Compares two trees; `expected` is the source, `actual` what came back. */
export function compareFileTrees(expected: FileTree, actual: FileTree, opts: CompareOptions = {}): Difference[] {
  const ignore = new Set<Field>(opts.ignore ?? []);
  const extra = new Set<Field>(opts.extra ?? []);
  const on = (f: Field): boolean => !ignore.has(f) && ((f !== 'atime' && f !== 'ctime') || extra.has(f));
  const gran = opts.mtimeGranularityNs ?? 1;
  const diffs: Difference[] = [];
  const add = (p: string, field: Field, e: unknown, a: unknown): void => {
    if (String(e) !== String(a)) diffs.push({ path: p, field, expected: String(e), actual: String(a) });
  };
  const groupsE = linkGroups(expected);
  const groupsA = linkGroups(actual);
  const allowed = (p: string): boolean => (opts.allowExtra ?? []).some((x) => p === x || p.startsWith(x + '/'));

  for (const e of expected.entries) {
    const a = actual.get(e.path);
    if (!a) {
      diffs.push({ path: e.path, field: 'presence', expected: e.type, actual: 'missing' });
      continue;
    }
    add(e.path, 'type', e.type, a.type);
    if (e.type !== a.type) continue;
    if (on('mode')) add(e.path, 'mode', '0o' + e.mode.toString(8), '0o' + a.mode.toString(8));
    if (on('uid')) add(e.path, 'uid', e.uid, a.uid);
    if (on('gid')) add(e.path, 'gid', e.gid, a.gid);
    if (on('size') && e.type !== 'dir') add(e.path, 'size', e.size, a.size);
    for (const f of ['mtime', 'atime', 'ctime'] as const) {
      if (!on(f) || (f === 'mtime' && e.type === 'dir' && opts.dirMtimes === false)) continue;
      add(e.path, f, truncNs(e[f].sec, e[f].nsec, gran), truncNs(a[f].sec, a[f].nsec, gran));
    }
    if (on('rdev') && (e.type === 'chardev' || e.type === 'blockdev')) {
      add(e.path, 'rdev', `${e.rdevMajor}:${e.rdevMinor}`, `${a.rdevMajor}:${a.rdevMinor}`);
    }
    if (on('linkTarget') && e.type === 'symlink') add(e.path, 'linkTarget', e.linkTarget, a.linkTarget);
    if (on('content') && e.type === 'file') add(e.path, 'content', sha256(e), sha256(a));
    if (on('hardlinks')) add(e.path, 'hardlinks', groupsE.get(e.path) ?? '-', groupsA.get(e.path) ?? '-');
    if (on('xattrs')) add(e.path, 'xattrs', xattrText(e, opts.ignoreXattr), xattrText(a, opts.ignoreXattr));
  }
  for (const a of actual.entries) {
    if (!expected.get(a.path) && !allowed(a.path)) diffs.push({ path: a.path, field: 'presence', expected: 'missing', actual: a.type });
  }
  return diffs;
}

/** Compares a source tree with a mounted directory (read with the directory source). */
export function compareTrees(sourceTree: FileTree, mountedDir: string, opts: CompareOptions = {}): Difference[] {
  const actual = dirTree(mountedDir, { oneFileSystem: true });
  try {
    return compareFileTrees(sourceTree, actual, opts);
  } finally {
    actual.close();
  }
}

/** One line per difference, for assertion messages. */
export function formatDifferences(diffs: Difference[], max = 40): string {
  const lines = diffs.slice(0, max).map((d) => `${d.path} ${d.field}: expected ${d.expected} but it was ${d.actual}`);
  if (diffs.length > max) lines.push(`... and ${diffs.length - max} more`);
  return lines.join('\n');
}

export interface EveryTypeOptions {
  /** Number of entries in /many (default 100). */
  manyEntries?: number;
  /** Add a sparse file of 5 GiB (size > 4 GiB) with data near its end. */
  hugeSparse?: boolean;
  /** Add POSIX ACLs with setfacl (default true when setfacl exists). */
  acls?: boolean;
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// Re-exported for the tests that import it from here.
export { hasTool };

/** Why makeEveryTypeTree cannot run here, or undefined. */
export function everyTypeTreeUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'building the every-type tree needs root (mknod, chown, trusted.* xattrs)';
  for (const t of ['setfattr', 'setcap', 'mknod', 'mkfifo', 'touch', 'python3']) {
    if (!hasTool(t)) return `${t} is not installed (run scripts/setup-host.sh)`;
  }
  return undefined;
}

/**
 * Fills `dir` (which must exist and be empty) with every entry type. Returns `dir`.
 * Timestamps are set last so directory mtimes are pinned too.
 */
export function makeEveryTypeTree(dir: string, opts: EveryTypeOptions = {}): string {
  const p = (rel: string): string => path.join(dir, rel);
  const umask = process.umask();
  const write = (rel: string, data: string | Uint8Array, mode = 0o644): void => {
    fs.writeFileSync(p(rel), data, { mode });
    if ((mode & umask) !== 0 || mode > 0o777) fs.chmodSync(p(rel), mode); // else the create mode stands
  };
  for (const d of ['bin', 'etc', 'tmp', 'shared', 'many', 'empty-dir', 'links', 'dev', 'deep/a/b/c/d']) fs.mkdirSync(p(d), { recursive: true });

  write('empty', '');
  write('etc/small.txt', 'hello, tree\n');
  write('etc/exactly-4096', Buffer.alloc(4096, 0x41));
  write('etc/binary', Uint8Array.from({ length: 70000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
  // Sparse: data, a 1 MiB hole, data, and a hole at the end.
  const sfd = fs.openSync(p('sparse'), 'w', 0o600);
  fs.writeSync(sfd, Buffer.alloc(5000, 0x5a), 0, 5000, 0);
  fs.writeSync(sfd, Buffer.from('after the hole'), 0, 14, 1 << 20);
  fs.ftruncateSync(sfd, 3 * (1 << 20) + 123);
  fs.closeSync(sfd);
  // Fragmented-ish: two files written in alternating 4 KiB chunks, with one sync half way
  // (more syncs fragment more but cost seconds on a busy disk).
  const fa = fs.openSync(p('frag-a'), 'w', 0o644);
  const fb = fs.openSync(p('frag-b'), 'w', 0o644);
  for (let i = 0; i < 24; i++) {
    fs.writeSync(fa, Buffer.alloc(4096, i));
    fs.writeSync(fb, Buffer.alloc(4096, 255 - i));
    if (i === 11) {
      fs.fdatasyncSync(fa);
      fs.fdatasyncSync(fb);
    }
  }
  fs.closeSync(fa);
  fs.closeSync(fb);
  if (opts.hugeSparse) {
    const hfd = fs.openSync(p('huge-sparse'), 'w', 0o644);
    fs.writeSync(hfd, Buffer.from('start'), 0, 5, 0);
    fs.writeSync(hfd, Buffer.from('beyond 4 GiB'), 0, 12, 5 * 2 ** 30 - 12);
    fs.closeSync(hfd);
  }

  write('bin/setuid', '#!/bin/sh\n', 0o4755);
  write('bin/setgid', '#!/bin/sh\n', 0o2755);
  write('bin/cap', '#!/bin/sh\n', 0o755);
  fs.chmodSync(p('tmp'), 0o1777);
  fs.chmodSync(p('shared'), 0o2775);
  write('odd-owner', 'owned by nobody we know\n', 0o640);
  fs.chownSync(p('odd-owner'), 123456, 654321);
  fs.chownSync(p('shared'), 0, 100);
  write('no-perms', 'x', 0o000);

  fs.symlinkSync('etc/small.txt', p('short-link'));
  fs.symlinkSync('/' + 'long-target-'.repeat(10) + 'end', p('long-link-120'));
  fs.symlinkSync('x'.repeat(59), p('link-59'));
  fs.symlinkSync('y'.repeat(60), p('link-60'));
  fs.symlinkSync('/nonexistent/dangling', p('dangling'));
  fs.symlinkSync('z/'.repeat(300) + 'end', p('link-604'));
  fs.lchownSync(p('short-link'), 1000, 1000);

  sh('mknod', ['-m', '0620', p('dev/tty1'), 'c', '4', '1']);
  sh('mknod', ['-m', '0660', p('dev/loop7'), 'b', '7', '7']);
  sh('mknod', ['-m', '0600', p('dev/big-numbers'), 'b', '259', '1048575']);
  sh('mkfifo', ['-m', '0644', p('dev/fifo')]);
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', p('dev/socket')]);

  write('links/one', 'linked content\n', 0o644);
  fs.linkSync(p('links/one'), p('links/two'));
  fs.linkSync(p('links/one'), p('etc/three'));
  write('lone', 'file with nlink 1 after its link moved out\n');

  sh('setfattr', ['-n', 'user.comment', '-v', 'a user attribute', p('etc/small.txt')]);
  sh('setfattr', ['-n', 'user.empty', p('etc/small.txt')]);
  sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', p('deep')]);
  sh('setfattr', ['-h', '-n', 'trusted.on-link', '-v', 'link attr', p('long-link-120')]);
  sh('setfattr', ['-n', 'security.selinux', '-v', 'system_u:object_r:bin_t:s0', p('bin/setuid')]);
  sh('setfattr', ['-n', 'user.big', '-v', '0x' + 'ab'.repeat(3000), p('etc/binary')]);
  sh('setcap', ['cap_net_raw,cap_net_admin+ep', p('bin/cap')]);
  if (opts.acls ?? hasTool('setfacl')) {
    sh('setfacl', ['-m', 'u:1000:rwx,g:100:r-x', p('etc/binary')]);
    sh('setfacl', ['-d', '-m', 'u::rwx,g::r-x,o::---,u:1001:rwx', p('shared')]);
  }

  const n = opts.manyEntries ?? 100;
  for (let i = 0; i < n; i++) write(`many/entry-${String(i).padStart(6, '0')}-${'n'.repeat(i % 40)}`, `${i}\n`);
  write('many/' + 'L'.repeat(255), 'longest name\n');
  write('many/ünïcödé-名前', 'utf-8 name\n');
  write('deep/a/b/c/d/leaf', 'deep\n');

  // Pin every timestamp (with nanoseconds), children before parents so directories keep theirs.
  const all: string[] = [];
  const walk = (d: string): void => {
    for (const name of fs.readdirSync(d)) {
      const full = path.join(d, name);
      if (fs.lstatSync(full).isDirectory()) walk(full);
      all.push(full);
    }
  };
  walk(dir);
  all.push(dir);
  // touch changes only the inode it names, so the order does not matter; one touch per
  // timestamp and batch keeps a 20,000-entry tree quick. 17 distinct times, each with ns.
  const groups = new Map<number, string[]>();
  all.forEach((f, i) => {
    const g = i % 17;
    const list = groups.get(g);
    if (list) list.push(f);
    else groups.set(g, [f]);
  });
  for (const [g, files] of groups) {
    const t = `2021-03-04 05:06:${String(g * 3).padStart(2, '0')}.${String(123456789 - g * 1111).padStart(9, '0')} UTC`;
    for (let k = 0; k < files.length; k += 1000) sh('touch', ['-h', '-d', t, ...files.slice(k, k + 1000)]);
  }
  return dir;
}
