// The checkout guard (checkout-guard.ts) on a folder laid out like a clone after the quick
// start: it sees nothing when files are only read, and names each way a test could touch the
// user's files -- the quick-start failure of issue 24 (the user's debian.qcow2 renamed to
// debian-DATE.qcow2 and a new debian.qcow2 written with the same bytes) included.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareSnapshots, snapshotCheckout } from './checkout-guard.js';

let root: string;
const USER_IMAGE = Buffer.from('the user\'s own image\n');
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'checkout-guard-'));
  for (const d of ['src', 'dist/bundle', 'node_modules/.vite', '.git']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.writeFileSync(path.join(root, 'README.md'), '# readme\n');
  fs.writeFileSync(path.join(root, 'src/a.ts'), 'export {};\n');
  fs.writeFileSync(path.join(root, 'dist/bundle/cli.js'), '// built\n');
  fs.writeFileSync(path.join(root, 'debian.qcow2'), USER_IMAGE);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('checkout guard', () => {
  it('reports nothing when files are only read, or when only .git and node_modules change', () => {
    const before = snapshotCheckout(root);
    expect([...before.keys()].sort()).toEqual(['README.md', 'debian.qcow2', 'dist', 'dist/bundle', 'dist/bundle/cli.js', 'src', 'src/a.ts']);
    fs.readFileSync(path.join(root, 'debian.qcow2'));
    fs.writeFileSync(path.join(root, 'node_modules/.vite/results.json'), '{}');
    fs.writeFileSync(path.join(root, '.git/index'), 'x');
    expect(compareSnapshots(before, snapshotCheckout(root))).toEqual([]);
  });

  it('names the user\'s image renamed aside and replaced by a file with the same bytes', () => {
    const before = snapshotCheckout(root);
    fs.renameSync(path.join(root, 'debian.qcow2'), path.join(root, 'debian-2026.12.06-03.48.43.qcow2'));
    fs.writeFileSync(path.join(root, 'debian.qcow2'), USER_IMAGE);
    const lines = compareSnapshots(before, snapshotCheckout(root));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^added: debian-2026\.12\.06-03\.48\.43\.qcow2 \(file /);
    expect(lines[1]).toMatch(/^changed: debian\.qcow2 \(was file inode \d+ /);
  });

  it('names a file rewritten in place with its own bytes and its times set back', () => {
    const file = path.join(root, 'dist/bundle/cli.js');
    const st = fs.statSync(file);
    const before = snapshotCheckout(root);
    fs.writeFileSync(file, '// built\n');
    fs.utimesSync(file, st.atime, st.mtime); // mtime restored; the ctime still moved
    expect(compareSnapshots(before, snapshotCheckout(root))).toEqual([expect.stringMatching(/^changed: dist\/bundle\/cli\.js /)]);
  });

  it('names removed files and folders and new empty folders', () => {
    const before = snapshotCheckout(root);
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    fs.mkdirSync(path.join(root, 'image.d'));
    expect(compareSnapshots(before, snapshotCheckout(root))).toEqual([
      'added: image.d (folder)', 'removed: dist (was folder)', 'removed: dist/bundle (was folder)',
      expect.stringMatching(/^removed: dist\/bundle\/cli\.js \(was file /),
    ]);
  });
});
