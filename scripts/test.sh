#!/usr/bin/env bash
# The whole test suite, from a fresh clone: host tools, npm packages (which builds dist/),
# then `npm test`: typecheck, unit and format tests in parallel, then the slow tests (full
# Debian trees, QEMU boots) one file at a time so each boot gets the machine's two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
npm ci --no-audit --no-fund
npm test
