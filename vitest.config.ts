import { defineConfig } from 'vitest/config';

// Unit tests run in parallel; tests under test/slow/ (QEMU boots, full Debian trees) share
// one cached Debian root and are serialised inside their own files.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 1_200_000,
    pool: 'forks',
    // Fails the run when a test wrote, renamed, rebuilt or deleted anything in the checkout.
    globalSetup: ['./test/helpers/checkout-guard-setup.ts'],
    // Each test file runs in a fresh temporary working folder, never the checkout.
    setupFiles: ['./test/helpers/temp-cwd.ts'],
    // A skipped test fails the run when CI is set (except the machine limits it lists).
    reporters: ['default', './test/helpers/ci-skip-reporter.ts'],
  },
});
