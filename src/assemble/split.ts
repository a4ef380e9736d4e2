/**
 * Splitting the image tree by mount point, as DIB copies the built tree into the mounted
 * filesystems: every entry goes to the filesystem with the longest mount point that contains
 * it. A mount point's directory stays in its parent filesystem (as the empty mount point) and
 * is the root directory of its own. Entries are shared, not copied (only re-pathed).
 */
import type { FileTree, TreeEntry } from '../tree/model.js';

/** The mount point that owns `path` among `mountPoints` (which include '/'). */
export function owningMount(path: string, mountPoints: readonly string[]): string {
  let best = '/';
  for (const mp of mountPoints) {
    if (mp === '/' || mp.length <= best.length) continue;
    if (path === mp || path.startsWith(mp + '/')) best = mp;
  }
  return best;
}

function treeOf(entries: TreeEntry[], close: () => void = () => {}): FileTree {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return { entries, get: (p) => byPath.get(p), close };
}

/** One tree per mount point (always including '/'); a mount point the tree lacks gets just a root directory. */
export function splitTree(tree: FileTree, mountPoints: readonly string[]): Map<string, FileTree> {
  const mps = [...new Set(['/', ...mountPoints])];
  if (mps.length === 1) return new Map([['/', tree]]);
  const buckets = new Map<string, TreeEntry[]>(mps.map((m) => [m, []]));
  for (const e of tree.entries) {
    const owner = owningMount(e.path, mps);
    if (owner === '/') {
      buckets.get('/')!.push(e);
      continue;
    }
    if (e.path === owner) {
      // The mount point: an empty directory in the parent filesystem, the root of its own.
      const parent = owningMount(e.path.slice(0, e.path.lastIndexOf('/')) || '/', mps.filter((m) => m !== owner));
      buckets.get(parent)!.push(parent === '/' ? e : { ...e, path: e.path.slice(parent.length) });
      buckets.get(owner)!.push({ ...e, path: '/' });
    } else {
      buckets.get(owner)!.push({ ...e, path: e.path.slice(owner.length) });
    }
  }
  const root = tree.get('/');
  const out = new Map<string, FileTree>();
  for (const [mp, entries] of buckets) {
    if (mp === '/') {
      out.set(mp, treeOf(entries));
      continue;
    }
    if (entries[0]?.path !== '/' && root) entries.unshift({ ...root, path: '/' });
    out.set(mp, treeOf(entries));
  }
  return out;
}
