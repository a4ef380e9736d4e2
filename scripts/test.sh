#!/usr/bin/env bash
# The whole test suite, from a fresh clone: host tools, npm packages, build, then vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
npm ci --no-audit --no-fund
npm test
