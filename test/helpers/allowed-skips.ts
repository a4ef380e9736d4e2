/**
 * The only tests that may be skipped when CI is set: each is a limit of this kind of machine
 * that a fresh machine cannot change (no set-up step installs a host kernel driver). docs/development.md
 * ("Tests that may skip") names every one with its reason; test/readme.test.ts keeps the two
 * equal. Any other skipped test fails a CI run (test/helpers/ci-skip-reporter.ts).
 */
export interface AllowedSkip {
  /** The describe block's title, as the table in docs/development.md names it. */
  describe: string;
  /**
   * The one reason the skip is allowed for: the describe block's title carries it as
   * `TITLE (skipped: REASON)` when it skips, and a skip for any other reason is not allowed.
   */
  reason: string;
  /** Why no set-up can make it run here; quoted in docs/development.md. */
  why: string;
}

export const ALLOWED_SKIPS: readonly AllowedSkip[] = [
  {
    describe: 'FAT writer against the kernel vfat driver',
    reason: 'the kernel has no vfat driver',
    why: 'the host kernel has no vfat driver (no vfat in /proc/filesystems), and a test cannot load one; fsck.fat and mtools check the FAT writer instead',
  },
];

/** True when a skipped test's full name (describe titles and its own, joined by ' > ') is allowed. */
export function skipAllowed(fullName: string): boolean {
  return ALLOWED_SKIPS.some((a) => fullName.startsWith(`${a.describe} (skipped: ${a.reason}) > `));
}
