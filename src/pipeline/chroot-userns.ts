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
 * Undoing a mount detaches it with everything below it (umount -l). Each mount is also told
 * to the namespace's holder, which detaches it should the build process die (userns.ts).
 */
import type { ChrootMounts } from './chroot.js';
import { shellScript } from './shell-scripts.js';
import type { UserNamespace } from './userns.js';

const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];


/** The chroot's mounts made inside `ns`; `extra` adds one writable bind below /tmp/in_target.d. */
export function namespaceMounts(ns: UserNamespace, extra?: { rel: string; src: string }): ChrootMounts {
  const run = (args: string[], what: string, pid = false): void => {
    ns.runSync('mount', args, what, { pid });
    if (!args.includes('remount,ro,bind')) ns.unmountIfOrphaned(args.at(-1)!); // a remount is the same mount
  };
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
      {
        rel: 'dev', mount: (t) => {
          ns.runSync('/bin/sh', [shellScript('dev-mounts.sh'), t, ...DEV_NODES], 'set up /dev');
          ns.unmountIfOrphaned(t);
        },
      },
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
