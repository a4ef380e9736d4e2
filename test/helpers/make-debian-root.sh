#!/usr/bin/env bash
# Builds the cached Debian test root (release given by test/helpers/debian-root.ts) as a tarball, atomically (temp name, then rename).
# Usage: make-debian-root.sh OUT.tar RELEASE MIRROR PACKAGES(comma list) MARKER
# Called by test/helpers/debian-root.ts under flock; the cache key covers every argument.
set -euo pipefail
out=$1 release=$2 mirror=$3 packages=$4 marker=$5
tmp="${out%.tar}.tmp$$.tar"
trap 'rm -f "$tmp"' EXIT
unit='[Unit]
Description=diskimage-ts test marker
After=local-fs.target
[Service]
Type=oneshot
ExecStart=/bin/sh -c "echo '"$marker"' > /dev/ttyS0"
[Install]
WantedBy=multi-user.target'
# The hooks' $1 is mmdebstrap's (the new root), expanded when it runs them, not here.
# shellcheck disable=SC2016
mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" \
  --customize-hook="printf '%s\n' '$unit' > \"\$1/etc/systemd/system/diskimage-ts-marker.service\"" \
  --customize-hook='mkdir -p "$1/etc/systemd/system/multi-user.target.wants" && ln -sf /etc/systemd/system/diskimage-ts-marker.service "$1/etc/systemd/system/multi-user.target.wants/diskimage-ts-marker.service"' \
  --customize-hook='echo diskimage-ts-test > "$1/etc/hostname"' \
  "$release" "$tmp" "$mirror"
mv "$tmp" "$out"
trap - EXIT
