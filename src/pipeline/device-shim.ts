/**
 * Device nodes in an unprivileged build. The kernel lets no user namespace make block or
 * character devices (mknod(2) needs CAP_MKNOD in the initial namespace), so hooks there get a
 * stand-in `mknod` (sh/mknod.sh) first on PATH: it makes an empty regular file with the mode asked for and
 * records "TYPE MAJOR MINOR PATH" in a log (DIB_TS_MKNOD_LOG); FIFOs go to the real mkfifo, and so does every path
 * outside the image tree (DIB_TS_MKNOD_ROOT) to the real mknod, which fails there as it must. After each hook the
 * build marks every recorded file with the xattr DEVICE_PLACEHOLDER_XATTR ("c 1 3"), so the
 * mark travels with the file (chown, chmod, mv, hard links) and vanishes with it; the
 * directory source (src/tree/dir-source.ts) reads a marked empty file as that device, with
 * the owner and mode the hooks left on it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEVICE_PLACEHOLDER_XATTR } from '../tree/model.js';
import type { Logger } from './cleanup.js';
import { shellScript } from './shell-scripts.js';
import type { UserNamespace } from './userns.js';

/** The stand-in's folder inside the merged hook tree (bound writable under /tmp/in_target.d). */
export const SHIM_DIR = '.dib-ts';
/** The stand-in's log in that folder; hooks get its path as DIB_TS_MKNOD_LOG. */
export const DEVICE_LOG = 'devices';
/** The folder below SHIM_DIR that goes first on the hooks' PATH, holding the stand-in as mknod. */
export const SHIM_BIN = 'bin';


/** Writes the stand-in and its empty log into `dir` (HOOKS/.dib-ts). */
export function installDeviceShim(dir: string): void {
  fs.mkdirSync(path.join(dir, SHIM_BIN), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, SHIM_BIN, 'mknod'), fs.readFileSync(shellScript('mknod.sh')), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, DEVICE_LOG), '', { mode: 0o644 });
}

/** The stand-in's log (DIB_TS_MKNOD_LOG) as seen by whoever sees the stand-in's folder (SHIM_BIN) at `binDir`. */
export function deviceLogBeside(binDir: string): string {
  return path.posix.join(path.posix.dirname(binDir), DEVICE_LOG);
}

export interface DeviceRecord { type: 'b' | 'c'; major: number; minor: number; path: string }

/** The log's records (lines that do not parse are left out). */
export function parseDeviceLog(text: string): DeviceRecord[] {
  const out: DeviceRecord[] = [];
  for (const line of text.split('\n')) {
    const m = /^([bc]) (\d+) (\d+) (\/.*)$/.exec(line);
    if (m) out.push({ type: m[1] as 'b' | 'c', major: Number(m[2]), minor: Number(m[3]), path: m[4]! });
  }
  return out;
}

/**
 * Marks the files the stand-in recorded since the last call, then empties the log. Paths from
 * chroot hooks are in the tree; outside hooks give host paths, which must lie in the tree.
 */
export function markDevicePlaceholders(shimDir: string, root: string, where: 'outside' | 'chroot', ns: UserNamespace, log: Logger): void {
  const logFile = path.join(shimDir, DEVICE_LOG);
  const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
  if (text === '') return;
  fs.writeFileSync(logFile, '');
  for (const r of parseDeviceLog(text)) {
    const host = where === 'chroot' ? path.join(root, r.path) : path.resolve(r.path);
    if (!host.startsWith(root + '/')) {
      log(`warning: mknod ${r.path} (${r.type} ${r.major}:${r.minor}) is outside the image tree: an unprivileged build cannot make it`);
      continue;
    }
    try {
      ns.runSync('setfattr', ['-h', '-n', DEVICE_PLACEHOLDER_XATTR, '-v', `${r.type} ${r.major} ${r.minor}`, host], `mark ${r.path} as a device`, { pid: false });
    } catch (e) {
      log(`warning: the device ${r.path} (${r.type} ${r.major}:${r.minor}) was removed or replaced before it could be marked: ${(e as Error).message}`);
    }
  }
}
