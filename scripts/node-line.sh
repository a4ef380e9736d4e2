#!/usr/bin/env bash
# Prints the bin folder of Node's newest release on LINE (a major version: 24), installed
# first when it is not there yet. The binary comes from the npm registry's node-<os>-<cpu>
# package (what the `node` package's preinstall fetches, without running any script), into
# a cache outside the checkout keyed by the exact version:
#   CACHE/<version>/node_modules/node-<os>-<cpu>/bin
# CACHE is $NODE_LINE_CACHE, else /var/cache/diskimage-ts/node for root (not root's home: the
# unprivileged tests run this node as another user, who cannot enter /root), else
# ${XDG_CACHE_HOME:-~/.cache}/diskimage-ts/node.
# Offline, the newest version of LINE already in the cache is used.
# Usage: PATH="$(bash scripts/node-line.sh 24):$PATH" npx vitest run ...
set -euo pipefail
line=${1:?usage: node-line.sh MAJOR}
os=$(node -p process.platform)
cpu=$(node -p process.arch)
pkg="node-$os-$cpu"
if [ -n "${NODE_LINE_CACHE:-}" ]; then cache=$NODE_LINE_CACHE
elif [ "$(id -u)" -eq 0 ]; then cache=/var/cache/diskimage-ts/node
else cache="${XDG_CACHE_HOME:-$HOME/.cache}/diskimage-ts/node"
fi
# One version: "24.1.0"; several: ["24.0.0", ...]. Either way, the newest.
version=$( (npm view "$pkg@$line" version --json 2>/dev/null || true) | tr -d '[]" \n' | tr ',' '\n' | sort -V | tail -n 1)
if [ -z "$version" ]; then
  version=$(find "$cache" -mindepth 1 -maxdepth 1 -name "$line.*" -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
  [ -n "$version" ] || { echo "node-line.sh: cannot reach the npm registry and no Node $line in $cache" >&2; exit 1; }
fi
dir="$cache/$version"
bin="$dir/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ]; then
  rm -rf "$dir.tmp"
  (umask 022 && mkdir -p "$dir.tmp")
  echo '{"private": true}' > "$dir.tmp/package.json"
  (umask 022 && npm install --prefix "$dir.tmp" --no-audit --no-fund --no-save --strict-allow-scripts "$pkg@$version" >&2)
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi
actual=$("$bin/node" --version)
[ "$actual" = "v$version" ] || { echo "node-line.sh: $bin/node is $actual, not v$version" >&2; exit 1; }
echo "$bin"
