/**
 * What a test run may not change: every file, folder and link of the checkout, tracked,
 * untracked or ignored (a user's own `debian.qcow2` in the root included), recorded before
 * the run and compared after it (test/helpers/checkout-guard-setup.ts). A file is recorded by
 * inode, size, mtime and ctime: any write, rename, truncation or replacement changes at least
 * one of them (ctime cannot be set back by a program), so no content needs to be hashed and a
 * large image costs one stat. Left out: `.git` (git's own index refreshes) and `node_modules`
 * (the test runner keeps its result cache there; npm owns the rest).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Folders below the checkout's root that the comparison skips, with the reason above. */
export const NOT_GUARDED = ['.git', 'node_modules'] as const;

/** Path relative to the root -> what it is (type, and for files inode, size, mtime, ctime). */
export type CheckoutSnapshot = Map<string, string>;

/** Records every entry below `root` except the NOT_GUARDED folders at its top. */
export function snapshotCheckout(root: string): CheckoutSnapshot {
  const out: CheckoutSnapshot = new Map();
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel))) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (rel === '' && (NOT_GUARDED as readonly string[]).includes(name)) continue;
      const st = fs.lstatSync(path.join(root, r), { bigint: true });
      if (st.isDirectory()) {
        out.set(r, 'folder');
        walk(r);
      } else if (st.isSymbolicLink()) {
        out.set(r, `link to ${fs.readlinkSync(path.join(root, r))}`);
      } else {
        out.set(r, `file inode ${st.ino} size ${st.size} mtime ${st.mtimeNs} ctime ${st.ctimeNs}`);
      }
    }
  };
  walk('');
  return out;
}

/** One line per entry added, removed or changed between two snapshots (empty when equal). */
export function compareSnapshots(before: CheckoutSnapshot, after: CheckoutSnapshot): string[] {
  const lines: string[] = [];
  for (const [p, was] of before) {
    const now = after.get(p);
    if (now === undefined) lines.push(`removed: ${p} (was ${was})`);
    else if (now !== was) lines.push(`changed: ${p} (was ${was}, now ${now})`);
  }
  for (const [p, now] of after) if (!before.has(p)) lines.push(`added: ${p} (${now})`);
  return lines.sort();
}
