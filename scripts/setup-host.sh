#!/usr/bin/env bash
# Installs the host tools that diskimage-ts's tests, benchmarks and builds use,
# with apt-get, on Debian 12 (g++, make and python3 also build the zstd-napi native module
# at npm ci). Safe to run again: apt-get skips what is there.
# Every tool a test probes for is here: with CI set, a test skipped for a missing tool fails.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-host.sh: run as root (it calls apt-get install)" >&2
  exit 1
fi
packages=(
  e2fsprogs fdisk gdisk dosfstools mtools cpio zstd xz-utils tar
  qemu-system-x86 qemu-utils ovmf
  grub-pc-bin grub-efi-amd64-bin grub-common
  mmdebstrap debootstrap busybox-static
  util-linux attr acl file hyperfine libarchive-tools time
  shellcheck libcap2-bin python3 procps uidmap
  g++ make
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
