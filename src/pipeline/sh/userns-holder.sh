#!/bin/bash
# diskimage-ts, unprivileged build: pid 1 of the build's user namespace (src/pipeline/userns.ts
# starts it under unshare). It says "unshared", waits for "go" (the ids are mapped), then reads
# its orders until its stdin ends:
#   remove DIR   the build folder, to remove should the build process die without cleaning up
#   umount PATH  a mount made in the namespace below DIR, to detach first (newest first)
# The build ends the holder with SIGKILL; its stdin ends before that only when the build
# process died (SIGKILL). Then it ends every other process of the namespace, detaches the
# mounts and removes DIR, as root of the namespace, which the user could not do from outside.
# It runs `clean` through exec: the exec, made once the ids are mapped, is what gives it the
# namespace's capabilities. bash reaps every child that ends (orphans come to pid 1).
# No `set -e`: each cleanup step may fail (already gone) without stopping the others.
#
# usage: userns-holder.sh
#        userns-holder.sh clean DIR [MOUNT...]

if [ "${1-}" = clean ]; then
  dir=$2
  shift 2
  kill -KILL -1 2>/dev/null
  sleep 0.2
  for m in "$@"; do umount -l "$m" 2>/dev/null; done
  exec rm -rf --one-file-system "$dir"
fi

echo unshared
read -r _ || exit 1
dir=
mounts=()
while IFS= read -r line; do
  case $line in
    "remove "*) dir=${line#remove } ;;
    "umount "*) mounts=("${line#umount }" "${mounts[@]}") ;;
  esac
done
[ -n "$dir" ] || exit 0
exec /bin/bash "$0" clean "$dir" "${mounts[@]}"
