#!/usr/bin/env bash
# The whole test suite, from a fresh clone: host tools, npm packages (which builds dist/),
# then `npm test`: typecheck, unit and format tests in parallel, then the slow tests (full
# Debian trees, QEMU boots) one file at a time so each boot gets the machine's two cores;
# then the unit tests again on the newest Node LTS line (NODE_LTS_LINE), its binary from the
# npm registry (scripts/node-line.sh), the slow ones not: they exercise the same code on
# Node's side and spend their time in QEMU and the kernel.
# The install is strict: a dependency with an install script that package.json's allowScripts
# neither approves nor denies fails it, instead of being skipped with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_LTS_LINE=${NODE_LTS_LINE:-24}
bash scripts/setup-host.sh
npm ci --no-audit --no-fund --strict-allow-scripts
npm test
lts_bin=$(bash scripts/node-line.sh "$NODE_LTS_LINE")
echo "unit tests on Node $("$lts_bin/node" --version)"
PATH="$lts_bin:$PATH" npm run test:unit
