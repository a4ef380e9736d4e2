/**
 * Device nodes in an unprivileged build. The kernel lets no user namespace make block or
 * character devices (mknod(2) needs CAP_MKNOD in the initial namespace), so hooks there get a
 * stand-in `mknod` first on PATH: it makes an empty regular file with the mode asked for and
 * records "TYPE MAJOR MINOR PATH" in a log; FIFOs go to the real mkfifo, and so does every path
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
import type { UserNamespace } from './userns.js';

/** The stand-in's folder inside the merged hook tree (bound writable under /tmp/in_target.d). */
export const SHIM_DIR = '.dib-ts';

const MKNOD = `#!/bin/sh
# diskimage-ts, unprivileged build: a user namespace cannot make device nodes, so an empty
# file stands in for each block or character device and is recorded for the image writer.
set -eu
log=\${0%/bin/mknod}/devices
mode=
while [ $# -gt 0 ]; do
  case $1 in
    -m|--mode) mode=$2; shift 2 ;;
    -m*) mode=\${1#-m}; shift ;;
    --mode=*) mode=\${1#--mode=}; shift ;;
    -Z|--context|--context=*) shift ;;
    --) shift; break ;;
    -*) echo "mknod (diskimage-ts stand-in): unsupported option $1" >&2; exit 1 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "mknod: missing operand" >&2; exit 1; }
name=$1 type=$2
case $type in
  p) if [ -n "$mode" ]; then exec mkfifo -m "$mode" -- "$name"; else exec mkfifo -- "$name"; fi ;;
  b|c|u) [ $# -eq 4 ] || { echo "mknod: $name: a $type device needs MAJOR and MINOR" >&2; exit 1; } ;;
  *) echo "mknod: invalid device type '$type'" >&2; exit 1 ;;
esac
[ "$type" = u ] && type=c
case $name in /*) abs=$name ;; *) abs=$(pwd)/$name ;; esac
# Only in the image tree (DIB_TS_MKNOD_ROOT): elsewhere the real mknod answers, and fails as it
# must, so that tools probing for mknod (mmdebstrap) are not misled.
root=\${DIB_TS_MKNOD_ROOT:-/}
case $abs in
  "\${root%/}"/*) ;;
  *)
    self=\${0%/mknod}
    IFS=:
    for d in $PATH; do
      if [ "$d" != "$self" ] && [ -x "$d/mknod" ]; then exec "$d/mknod" \${mode:+-m "$mode"} -- "$name" "$type" "$3" "$4"; fi
    done
    echo "mknod: command not found" >&2; exit 127 ;;
esac
if [ -e "$name" ] || [ -L "$name" ]; then echo "mknod: $name: File exists" >&2; exit 1; fi
major=$(($3)) minor=$(($4))
: > "$name"
chmod "$(printf '%o' $((0666 & ~0$(umask))))" "$name"
if [ -n "$mode" ]; then chmod "$mode" "$name"; fi
printf '%s %s %s %s\\n' "$type" "$major" "$minor" "$abs" >> "$log"
`;

/** Writes the stand-in and its empty log into `dir` (HOOKS/.dib-ts). */
export function installDeviceShim(dir: string): void {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true, mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'bin/mknod'), MKNOD, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'devices'), '', { mode: 0o644 });
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
  const logFile = path.join(shimDir, 'devices');
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
