#!/bin/sh
# diskimage-ts, unprivileged build: the chroot's /dev, made inside the build's user namespace
# (src/pipeline/chroot-userns.ts runs it there): a tmpfs at DIR with each named host device
# bound onto an empty file, the usual symlinks, a fresh devpts instance at DIR/pts (or the
# host's, bound) and DIR/shm. No namespace may make device nodes; binding the host's is allowed.
#
# usage: dev-mounts.sh DIR NODE...   (NODE: a name under /dev, e.g. null)
set -eu
d=$1
shift
mount -t tmpfs -o mode=755,nosuid,size=65536k dib-dev "$d"
for n in "$@"; do
  : > "$d/$n"
  mount --bind "/dev/$n" "$d/$n"
done
mkdir -m 755 "$d/pts"
mkdir -m 1777 "$d/shm"
ln -s /proc/self/fd "$d/fd"
ln -s /proc/self/fd/0 "$d/stdin"
ln -s /proc/self/fd/1 "$d/stdout"
ln -s /proc/self/fd/2 "$d/stderr"
ln -s pts/ptmx "$d/ptmx"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$d/pts" 2>/dev/null || mount --rbind /dev/pts "$d/pts"
