/**
 * The chroot's mounts in an unprivileged build, made inside the build's user namespace
 * (userns.ts), where they exist for the namespace alone. A user namespace may mount proc for
 * its own pid namespace, tmpfs and devpts, and bind what is already mounted, but not sysfs (that
 * needs its own network namespace) nor make device nodes; so, as mmdebstrap's unshare mode:
 *  - /proc: a proc of the namespace's pid namespace, or a recursive bind of the host's /proc
 *    where the container masks parts of it and a new proc is refused;
 *  - /sys: a recursive bind of the host's /sys, made read-only at the top (DIB's container hint);
 *  - /dev: a tmpfs with the host's null, zero, full, random, urandom and tty bound onto empty
 *    files, the usual symlinks, a fresh devpts instance at /dev/pts (or the host's, bound) and
 *    /dev/shm; the tree's own /dev stays untouched below it.
 * Undoing a mount detaches it with everything below it (umount -l).
 */
import type { ChrootMounts } from './chroot.js';
import type { UserNamespace } from './userns.js';

const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

const DEV_SCRIPT = [
  'set -eu', 'd=$1',
  'mount -t tmpfs -o mode=755,nosuid,size=65536k dib-dev "$d"',
  `for n in ${DEV_NODES.join(' ')}; do : > "$d/$n"; mount --bind "/dev/$n" "$d/$n"; done`,
  'mkdir -m 755 "$d/pts"; mkdir -m 1777 "$d/shm"',
  'ln -s /proc/self/fd "$d/fd"; ln -s /proc/self/fd/0 "$d/stdin"; ln -s /proc/self/fd/1 "$d/stdout"; ln -s /proc/self/fd/2 "$d/stderr"',
  'ln -s pts/ptmx "$d/ptmx"',
  'mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$d/pts" 2>/dev/null || mount --rbind /dev/pts "$d/pts"',
].join('\n');

/** The chroot's mounts made inside `ns`; `extra` adds one writable bind below /tmp/in_target.d. */
export function namespaceMounts(ns: UserNamespace, extra?: { rel: string; src: string }): ChrootMounts {
  const run = (args: string[], what: string, pid = false): void => { ns.runSync('mount', args, what, { pid }); };
  return {
    system: [
      {
        rel: 'proc', mount: (t) => {
          try { run(['-t', 'proc', 'proc', t], 'mount proc', true); } catch { run(['--rbind', '/proc', t], 'bind /proc'); }
        },
      },
      {
        rel: 'sys', mount: (t) => {
          run(['--rbind', '/sys', t], 'bind /sys');
          try { run(['-o', 'remount,ro,bind', t], 'make /sys read-only'); } catch { /* the rbind stays writable where the kernel says no */ }
        },
      },
      { rel: 'dev', mount: (t) => { ns.runSync('/bin/sh', ['-c', DEV_SCRIPT, 'dib-dev', t], 'set up /dev'); } },
    ],
    bindReadOnly(src, target) {
      run(['--bind', src, target], `bind ${src}`);
      run(['-o', 'remount,ro,bind', target], `make ${target} read-only`);
    },
    ...(extra ? { extra: { rel: extra.rel, mount: (t: string) => run(['--bind', extra.src, t], `bind ${extra.src}`) } } : {}),
    release(target) {
      // A lazy detach takes every mount below the target with it.
      ns.runSync('umount', ['-l', target], `unmount ${target}`);
    },
    endProcesses() {
      ns.endProcesses();
    },
  };
}
