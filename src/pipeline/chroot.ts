/**
 * The chroot for DIB's in-target phases — the ONLY module that mounts (an unprivileged
 * build's mounts are made the same way, inside its user namespace: chroot-userns.ts gives
 * them as a ChrootMounts). Entering binds
 * /proc, /sys (read-only, as DIB's mount_proc_dev_sys), /dev and /dev/pts from the host and
 * the merged hook tree read-only at /tmp/in_target.d; puts the host's resolv.conf in place
 * (the image's own kept aside, even when it is a symlink) and a usr/sbin/policy-rc.d that
 * exits 101 so installed packages start no services. Leaving undoes all of it in reverse:
 * processes whose root is inside the tree are ended (found through /proc/PID/root), each
 * mount is released with umount, and lazily (umount -l) if it stays busy.
 * Every step registers its undo on the build's CleanupStack before doing the work, so a
 * signal or a failure at any point leaves nothing mounted.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DiskImageError } from '../errors.js';
import { alive, sleepMs, type CleanupStack, type Logger } from './cleanup.js';

export const IN_TARGET = '/tmp/in_target.d';

function sh(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, err: (r.stderr ?? '') + (r.error ? r.error.message : '') };
}

/** Mount points at or below `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const root = path.resolve(dir);
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const mp = f[4]!.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mp === root || mp.startsWith(root + '/')) out.push(mp);
  }
  return out.reverse();
}

/** PIDs of processes whose root directory is `root` or below it. */
export function processesInside(root: string): number[] {
  const real = fs.realpathSync(root);
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const r = fs.readlinkSync(`/proc/${name}/root`);
      if (r === real || r.startsWith(real + '/')) pids.push(Number(name));
    } catch {
      /* gone or not ours to see */
    }
  }
  return pids;
}

/** Ends every process running inside `root`: SIGTERM, up to 5 s, then SIGKILL. */
export function killProcessesInside(root: string, log: Logger): void {
  if (!fs.existsSync(root)) return;
  let pids = processesInside(root);
  if (pids.length === 0) return;
  log(`ending ${pids.length} process(es) still running inside ${root}: ${pids.join(' ')}`);
  for (const pid of pids) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && pids.some((p) => alive(p))) sleepMs(100);
  pids = pids.filter((p) => alive(p));
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** Unmounts one mount point: umount, retried after ending processes, then umount -l. */
export function releaseMount(mp: string, root: string, log: Logger): void {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = sh('umount', [mp]);
    if (r.ok || !mountsUnder(mp).includes(mp)) return;
    if (attempt === 0) killProcessesInside(root, log);
    sleepMs(300);
  }
  log(`${mp} stays busy: detaching it lazily (umount -l)`);
  const r = sh('umount', ['-l', mp]);
  if (!r.ok && mountsUnder(mp).includes(mp)) {
    throw new DiskImageError('IO', `cannot unmount ${mp}: ${r.err.trim()}`, `unmount it by hand: umount -l ${mp}`);
  }
}

/**
 * How a chroot's mounts are made and undone: on the host as root (hostMounts), or inside an
 * unprivileged build's user namespace (chroot-userns.ts).
 */
export interface ChrootMounts {
  /** /proc, /sys, /dev (and /dev/pts), in this order; each mounted at target (made inside the tree). */
  system: { rel: string; mount: (target: string) => void }[];
  bindReadOnly(src: string, target: string): void;
  /** One more mount below /tmp/in_target.d (a mount point the caller made in the hook tree). */
  extra?: { rel: string; mount: (target: string) => void };
  release(target: string, root: string, log: Logger): void;
  endProcesses(root: string, log: Logger): void;
}

function hostMount(args: string[], target: string): void {
  const r = sh('mount', [...args, target]);
  if (!r.ok) throw new DiskImageError('IO', `mount ${args.join(' ')} ${target} failed: ${r.err.trim()}`, 'the chroot phases need root (run as root or with sudo)');
}

/** Root's chroot: proc, read-only sysfs, the host's /dev and /dev/pts bound in (DIB's mount_proc_dev_sys). */
export const hostMounts: ChrootMounts = {
  system: [
    { rel: 'proc', mount: (t) => hostMount(['-t', 'proc', 'proc'], t) },
    { rel: 'sys', mount: (t) => hostMount(['-t', 'sysfs', '-o', 'ro', 'sysfs'], t) },
    { rel: 'dev', mount: (t) => hostMount(['--bind', '/dev'], t) },
    { rel: 'dev/pts', mount: (t) => hostMount(['--bind', '/dev/pts'], t) },
  ],
  bindReadOnly(src, target) {
    hostMount(['--bind', src], target);
    const r = sh('mount', ['-o', 'remount,ro,bind', target]);
    if (!r.ok) throw new DiskImageError('IO', `remount read-only of ${target} failed: ${r.err.trim()}`);
  },
  release: (target, root, log) => releaseMount(target, root, log),
  endProcesses: (root, log) => killProcessesInside(root, log),
};

/** A directory inside the tree, refusing paths that a symlink would lead outside it. */
export function dirInside(root: string, rel: string): string {
  const p = path.join(root, rel);
  const parent = fs.realpathSync(path.dirname(p));
  const realRoot = fs.realpathSync(root);
  if (parent !== realRoot && !parent.startsWith(realRoot + '/')) {
    throw new DiskImageError('INPUT', `${rel} in the tree ${root} leads outside it (through a symlink)`, 'the image tree must not link its mount points outside itself');
  }
  let st: fs.Stats | undefined;
  try { st = fs.lstatSync(p); } catch { /* missing */ }
  if (st && !st.isDirectory()) {
    throw new DiskImageError('INPUT', `${rel} in the tree ${root} is not a directory`, 'the image tree needs real directories for /proc, /sys and /dev');
  }
  if (!st) fs.mkdirSync(p, { mode: 0o755 });
  return p;
}

/** Mounts of one chroot session; `leave()` (or the cleanup stack) undoes them. */
export class Chroot {
  private readonly undo: (() => void)[] = [];
  private readonly dropFromStack: (() => void)[] = [];

  constructor(readonly root: string, private readonly cleanup: CleanupStack, private readonly log: Logger,
    private readonly mounts: ChrootMounts = hostMounts) {}

  private step(label: string, undo: () => void, work: () => void): void {
    let armed = false;
    const guarded = (): void => { if (armed) undo(); };
    this.undo.push(guarded);
    this.dropFromStack.push(this.cleanup.push(`${label} (${this.root})`, guarded));
    work();
    armed = true;
  }

  private mount(rel: string, how: (target: string) => void, made = false): void {
    // `made`: the mount point is there already (in the hook tree below /tmp/in_target.d).
    const target = made ? path.join(this.root, rel) : dirInside(this.root, rel);
    // Undo is armed only after the mount succeeded; a failed mount leaves nothing to undo.
    this.step(`umount ${rel}`, () => this.mounts.release(target, this.root, this.log), () => how(target));
  }

  /** Sets up the chroot: mounts, hook tree, resolv.conf, policy-rc.d. */
  enter(hooksDir: string): void {
    const m = this.mounts;
    this.step('end processes inside the chroot', () => m.endProcesses(this.root, this.log), () => {});
    for (const sys of m.system) this.mount(sys.rel, sys.mount);
    dirInside(this.root, 'tmp');
    const madeInTarget = !fs.existsSync(path.join(this.root, IN_TARGET));
    this.step('remove /tmp/in_target.d', () => { if (madeInTarget) fs.rmdirSync(path.join(this.root, IN_TARGET)); }, () => {});
    this.mount(IN_TARGET.slice(1), (target) => m.bindReadOnly(hooksDir, target));
    if (m.extra) this.mount(path.posix.join(IN_TARGET.slice(1), m.extra.rel), (target) => m.extra!.mount(target), true);
    this.swapResolvConf();
    this.installPolicyRcD();
  }

  private swapResolvConf(): void {
    const etc = path.join(this.root, 'etc');
    if (!fs.existsSync(etc) || !fs.lstatSync(etc).isDirectory()) return;
    const conf = path.join(etc, 'resolv.conf');
    const saved = path.join(etc, 'resolv.conf.ORIG');
    const had = fs.existsSync(conf) || isSymlink(conf);
    this.step('restore the image resolv.conf', () => {
      fs.rmSync(conf, { force: true });
      if (had) fs.renameSync(saved, conf);
    }, () => {
      if (had) fs.renameSync(conf, saved); // rename never follows a symlink
      if (fs.existsSync('/etc/resolv.conf')) fs.writeFileSync(conf, fs.readFileSync('/etc/resolv.conf'), { mode: 0o644 });
    });
  }

  private installPolicyRcD(): void {
    const dir = path.join(this.root, 'usr/sbin');
    if (!fs.existsSync(dir) || !fs.lstatSync(dir).isDirectory()) return;
    const file = path.join(dir, 'policy-rc.d');
    const saved = path.join(dir, 'policy-rc.d.dib-ts-orig');
    const had = fs.existsSync(file) || isSymlink(file);
    this.step('remove policy-rc.d', () => {
      fs.rmSync(file, { force: true });
      if (had) fs.renameSync(saved, file);
    }, () => {
      if (had) fs.renameSync(file, saved);
      fs.writeFileSync(file, '#!/bin/sh\n# diskimage-ts: no services start while the image is built\nexit 101\n', { mode: 0o755 });
    });
  }

  /** Undoes everything, newest first. */
  leave(): void {
    let first: unknown;
    while (this.undo.length > 0) {
      const u = this.undo.pop()!;
      this.dropFromStack.pop()!();
      try { u(); } catch (e) { first ??= e; }
    }
    if (first) throw first;
  }
}

function isSymlink(p: string): boolean {
  try { return fs.lstatSync(p).isSymbolicLink(); } catch { return false; }
}
