/**
 * Unprivileged builds: the build's user namespace. An ordinary user's hooks run as root of
 * a user + mount + pid namespace whose ids map to the user (uid/gid 0 inside is the user's own
 * uid/gid outside) and the user's subordinate range from /etc/subuid and /etc/subgid (1..N
 * inside are the range's ids), written with newuidmap/newgidmap (user_namespaces(7),
 * subuid(5)). Files a hook gives to root are the user's on the host, so the build folder and
 * the image file need no id changes; files it gives to other users belong to subordinate ids.
 *
 * The namespace is held by a small process (pid 1 of the namespace's pid namespace, started by
 * util-linux unshare --fork --kill-child); every hook, mount and removal enters it with
 * nsenter. Mounts made there exist only in its mount namespace, and ending it (SIGKILL to the
 * holder) ends every process left in its pid namespace: nothing of it can outlive the build.
 * The holder also ends when the build process dies (its stdin, a pipe from the build, closes).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, DiskImageError, MissingToolError } from '../errors.js';
import { alive, sleepMs, type Logger } from './cleanup.js';
import { shellScript } from './shell-scripts.js';

export interface IdRange { start: number; count: number }

/** Who builds, and the ids mapped for them. */
export interface IdMap {
  user: string;
  uid: number;
  gid: number;
  subuid: IdRange;
  subgid: IdRange;
}

/** Where the preflight looks (tests point these at their own files). */
export interface HostFacts {
  etc: string;
  procSys: string;
  /** PATH searched for newuidmap/newgidmap. */
  path: string;
  user: string;
  uid: number;
  gid: number;
}

export function hostFacts(env: NodeJS.ProcessEnv): HostFacts {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let user = String(uid);
  try { user = os.userInfo().username; } catch { /* a uid without a passwd entry (containers): subuid(5) allows the number */ }
  return { etc: '/etc', procSys: '/proc/sys', path: env.PATH ?? '', user, uid, gid };
}

/** The first entry of a subuid(5)/subgid(5) file for `user` (by name or by numeric id). */
export function subordinateRange(text: string, user: string, id: number): IdRange | undefined {
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || (f[0] !== user && f[0] !== String(id))) continue;
    const start = Number(f[1]);
    const count = Number(f[2]);
    if (Number.isInteger(start) && Number.isInteger(count) && start > 0 && count > 0) return { start, count };
  }
  return undefined;
}

/** A program on `pathList` (colon list), or undefined. */
export function onPath(name: string, pathList: string): string | undefined {
  for (const dir of pathList.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

/** System programs (chroot, mount, nsenter) also from the sbin folders an ordinary user's PATH lacks. */
export function systemTool(name: string, env: NodeJS.ProcessEnv): string {
  const found = onPath(name, `${env.PATH ?? ''}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`);
  if (!found) throw new MissingToolError(name, 'run the hooks of an unprivileged build', 'util-linux');
  return found;
}

function readSysctl(procSys: string, name: string): string | undefined {
  try { return fs.readFileSync(path.join(procSys, name), 'utf8').trim(); } catch { return undefined; }
}

/**
 * Checks, before anything is created, that this user can have a mapped user namespace:
 * subordinate ids, newuidmap/newgidmap, and a kernel that allows user namespaces. Each refusal
 * names what is missing and the command that fixes it.
 */
export function unprivilegedPreflight(h: HostFacts): IdMap {
  const kernel = (name: string, bad: (v: string) => boolean, what: string, fix: string): void => {
    const v = readSysctl(h.procSys, name);
    if (v !== undefined && bad(v)) {
      throw new DiskImageError('UNSUPPORTED', `user namespaces are not allowed for ordinary users here (${name.replace(/\//g, '.')} = ${v}): ${what}`,
        `as root: ${fix} (an unprivileged build needs a user namespace; or build as root)`);
    }
  };
  kernel('kernel/unprivileged_userns_clone', (v) => v === '0', 'the kernel refuses them',
    'sysctl -w kernel.unprivileged_userns_clone=1, and put kernel.unprivileged_userns_clone=1 in /etc/sysctl.d/90-userns.conf');
  kernel('user/max_user_namespaces', (v) => v === '0', 'the limit is zero',
    'sysctl -w user.max_user_namespaces=15000, and put it in /etc/sysctl.d/90-userns.conf');
  kernel('kernel/apparmor_restrict_unprivileged_userns', (v) => v === '1', "AppArmor's restriction is on",
    'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give /usr/bin/unshare an AppArmor profile with "userns,"');
  const ranges: IdRange[] = [];
  for (const [file, id, flag] of [['subuid', h.uid, 'subuids'], ['subgid', h.gid, 'subgids']] as const) {
    const full = path.join(h.etc, file);
    let text = '';
    try { text = fs.readFileSync(full, 'utf8'); } catch { /* missing: no entry */ }
    const r = subordinateRange(text, h.user, h.uid);
    if (!r) {
      throw new ConfigError(full, `no entry for ${h.user} (uid ${h.uid}${file === 'subgid' ? `, gid ${id}` : ''}): an unprivileged build maps the user's subordinate ids into its user namespace`,
        `as root: usermod --add-${flag} 100000-165535 ${h.user}   (any free range of 65536 ids; then run the build again)`);
    }
    ranges.push(r);
  }
  for (const tool of ['newuidmap', 'newgidmap']) {
    if (!onPath(tool, h.path)) throw new MissingToolError(tool, "map the subordinate ids into an unprivileged build's user namespace", 'uidmap');
  }
  return { user: h.user, uid: h.uid, gid: h.gid, subuid: ranges[0]!, subgid: ranges[1]! };
}

/** The ids inside map 0 to the user and 1..N to the subordinate range (at most 65536 of it). */
export function mapArgs(own: number, r: IdRange): string[] {
  return ['0', String(own), '1', '1', String(r.start), String(Math.min(r.count, 65536))];
}

/** The map applied backwards: the user's own id is 0, the range's ids are 1..N, others overflow (65534). */
export function insideId(ids: IdMap, id: number, kind: 'uid' | 'gid'): number {
  const own = kind === 'uid' ? ids.uid : ids.gid;
  const r = kind === 'uid' ? ids.subuid : ids.subgid;
  if (id === own) return 0;
  if (id >= r.start && id < r.start + Math.min(r.count, 65536)) return id - r.start + 1;
  return 65534;
}

/** The running namespace: enter it, end what runs in it, end it. */
export class UserNamespace {
  private ended = false;
  private constructor(
    private readonly unshare: ChildProcess,
    /** Host pid of the namespace's pid 1. */
    readonly holderPid: number,
    private readonly nsenter: string,
    readonly env: NodeJS.ProcessEnv,
    readonly ids: IdMap,
  ) {}

  /** A host id as the namespace (and so the image) sees it; 65534 (overflow) when not mapped. */
  readonly toInside = (id: number, kind: 'uid' | 'gid'): number => insideId(this.ids, id, kind);

  /** Starts the holder and maps the ids; rejects with what went wrong (the holder is gone then). */
  static async start(ids: IdMap, env: NodeJS.ProcessEnv, log: Logger): Promise<UserNamespace> {
    const unshareTool = systemTool('unshare', env);
    const nsenter = systemTool('nsenter', env);
    // The holder, pid 1 of the namespace (sh/userns-holder.sh says what it does).
    const child = spawn(unshareTool, ['--user', '--mount', '--pid', '--fork', '--kill-child', '--',
      '/bin/bash', shellScript('userns-holder.sh')], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const kill = (): void => { try { process.kill(child.pid!, 'SIGKILL'); } catch { /* gone */ } };
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.stdin!.on('error', () => { /* the holder is gone (EPIPE): end() and the checks below say so */ });
    const ready = await new Promise<boolean>((resolve) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('unshared\n')) resolve(true); });
      child.once('exit', () => resolve(false));
      child.once('error', () => resolve(false));
    });
    if (!ready || child.pid === undefined) {
      kill();
      throw new DiskImageError('UNSUPPORTED', `cannot create a user namespace: ${stderr.trim() || 'unshare ended'}`,
        'user namespaces are refused here (a container\'s seccomp or AppArmor profile, or a kernel setting): allow them, or build as root');
    }
    try {
      for (const [tool, own, range] of [['newuidmap', ids.uid, ids.subuid], ['newgidmap', ids.gid, ids.subgid]] as const) {
        const r = spawnSync(tool, [String(child.pid), ...mapArgs(own, range)], { encoding: 'utf8', env });
        if (r.error || r.status !== 0) {
          throw new DiskImageError('CONFIG', `${tool} ${child.pid} ${mapArgs(own, range).join(' ')} failed: ${(r.stderr ?? '').trim() || r.error?.message}`,
            `check the entry for ${ids.user} in /etc/sub${tool === 'newuidmap' ? 'uid' : 'gid'} and that ${tool} is setuid root (apt-get install --reinstall uidmap)`);
        }
      }
      const holder = childOf(child.pid);
      if (holder === undefined) throw new DiskImageError('IO', 'the user namespace holder process is gone');
      child.stdin!.write('go\n');
      const ns = new UserNamespace(child, holder, nsenter, env, ids);
      const id = ns.runSync('id', ['-u'], 'check the user namespace').trim();
      if (id !== '0') throw new DiskImageError('IO', `inside the build's user namespace the uid is ${id}, not 0`);
      log(`unprivileged build: user namespace (holder pid ${holder}) maps 0 to ${ids.user} and 1..${Math.min(ids.subuid.count, 65536)} to subordinate uids from ${ids.subuid.start}`);
      return ns;
    } catch (e) {
      kill();
      throw e;
    }
  }

  /**
   * The command line that runs `cmd` inside as root. `pid`: in the namespace's pid namespace
   * too (hooks, so that ending it ends them); `keepGroups`: keep the caller's supplementary
   * groups (the writer, which writes where the user may).
   */
  wrap(cmd: string, args: string[], o: { pid?: boolean; mount?: boolean; keepGroups?: boolean; cwd?: string } = {}): [string, string[]] {
    const flags = ['-t', String(this.holderPid), '-U'];
    if (o.mount ?? true) flags.push('-m');
    if (o.pid ?? true) flags.push('-p');
    if (o.keepGroups) flags.push('--preserve-credentials');
    if (o.cwd) flags.push(`--wd=${o.cwd}`);
    return [this.nsenter, [...flags, '--', cmd, ...args]];
  }

  /** Runs a short command inside to the end; returns stdout, throws with stderr on failure. */
  runSync(cmd: string, args: string[], what: string, o: { pid?: boolean } = {}): string {
    const [c, a] = this.wrap(cmd, args, o);
    const r = spawnSync(c, a, { encoding: 'utf8', env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error || r.status !== 0) {
      throw new DiskImageError('IO', `${what} failed in the build's user namespace (${cmd} exit ${r.status ?? r.signal}): ${(r.stderr ?? '').trim() || r.error?.message}`);
    }
    return r.stdout;
  }

  /** Ends every process in the namespace's pid namespace but its pid 1: SIGTERM, up to 5 s, then SIGKILL. */
  endProcesses(): void {
    if (this.ended) return;
    const [c, a] = this.wrap('/bin/bash', [shellScript('end-processes.sh')], { mount: false });
    spawnSync(c, a, { env: this.env, stdio: 'ignore' });
  }

  /** Tells the holder which folder to remove if the build process dies without cleaning up. */
  removeIfOrphaned(dir: string): void {
    if (!dir.includes('\n')) this.unshare.stdin!.write(`remove ${dir}\n`);
  }

  /** Tells the holder about a mount made inside, to detach before that removal (newest first). */
  unmountIfOrphaned(target: string): void {
    if (!target.includes('\n')) this.unshare.stdin!.write(`umount ${target}\n`);
  }

  /** Removes a folder from inside, where the subordinate ids' files are root's to remove. */
  removeTree(dir: string): void {
    if (this.ended || !fs.existsSync(dir)) return;
    const [c, a] = this.wrap('rm', ['-rf', '--one-file-system', dir], { pid: false });
    spawnSync(c, a, { env: this.env, stdio: 'ignore' });
  }

  /** Ends the namespace: its pid 1 goes, the kernel ends everything left in it, its mounts vanish. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const pid of [this.holderPid, this.unshare.pid]) {
      try { process.kill(pid!, 'SIGKILL'); } catch { /* gone */ }
    }
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (alive(this.holderPid) || alive(this.unshare.pid))) sleepMs(20);
  }
}

/** The one child of `pid` (the unshare process forks the namespace's pid 1). */
function childOf(pid: number): number | undefined {
  for (let i = 0; i < 100; i++) {
    try {
      const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
      if (kids) return Number(kids.split(' ')[0]);
    } catch {
      return undefined;
    }
    sleepMs(10);
  }
  return undefined;
}
