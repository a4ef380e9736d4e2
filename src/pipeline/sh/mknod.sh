#!/bin/sh
# diskimage-ts, unprivileged build: a user namespace cannot make device nodes, so an empty
# file stands in for each block or character device and is recorded for the image writer.
# src/pipeline/device-shim.ts copies it first on the hooks' PATH, as mknod; the hooks'
# environment names its log (DIB_TS_MKNOD_LOG) and the image tree (DIB_TS_MKNOD_ROOT).
# The usage is mknod's: mknod [-m MODE] NAME TYPE [MAJOR MINOR]
set -eu
mode=
while [ $# -gt 0 ]; do
  case $1 in
    -m|--mode) mode=$2; shift 2 ;;
    -m*) mode=${1#-m}; shift ;;
    --mode=*) mode=${1#--mode=}; shift ;;
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
root=${DIB_TS_MKNOD_ROOT:-/}
case $abs in
  "${root%/}"/*) ;;
  *)
    self=${0%/mknod}
    IFS=:
    for d in $PATH; do
      if [ "$d" != "$self" ] && [ -x "$d/mknod" ]; then exec "$d/mknod" ${mode:+-m "$mode"} -- "$name" "$type" "$3" "$4"; fi
    done
    echo "mknod: command not found" >&2; exit 127 ;;
esac
log=${DIB_TS_MKNOD_LOG:?mknod (diskimage-ts stand-in): DIB_TS_MKNOD_LOG is not set (the hook cleared its environment)}
if [ -e "$name" ] || [ -L "$name" ]; then echo "mknod: $name: File exists" >&2; exit 1; fi
major=$(($3)) minor=$(($4))
: > "$name"
chmod "$(printf '%o' $((0666 & ~0$(umask))))" "$name"
if [ -n "$mode" ]; then chmod "$mode" "$name"; fi
printf '%s %s %s %s\n' "$type" "$major" "$minor" "$abs" >> "$log"
