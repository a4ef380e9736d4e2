/**
 * Layers added or replaced entries over a FileTree without touching its source: the
 * bootloader step adds /boot/grub/*, /etc/fstab and the like to the tree the image gets.
 * Base entries are shared, not copied (content included); the result is a merge of two
 * sorted lists, so a large base costs one pass. Missing parent directories of an addition
 * are created as root-owned 0755 directories with the time of their nearest existing
 * ancestor. An addition replaces a base entry of the same path; a non-directory replacing a
 * directory takes the directory's whole subtree with it; adding a directory over a
 * directory replaces its metadata and keeps its children.
 */
import { InputError } from '../errors.js';
import { type FileTree, type TreeEntry, comparePaths, parentOf } from './model.js';
import { syntheticDir, treeFromEntries } from './entries.js';

export interface OverlayOptions {
  /** close() of the overlay also closes the base (default true) and an additions tree. */
  closeBase?: boolean;
}

function checkPath(p: string): void {
  if (p !== '/' && (!p.startsWith('/') || p.endsWith('/') || p.split('/').slice(1).some((c) => c === '' || c === '.' || c === '..'))) {
    throw new InputError(`overlay: '${p}' is not a tree path`, "use an absolute path without '.', '..', '//' or a trailing slash, like '/boot/grub/grub.cfg'");
  }
}

export function overlayTree(base: FileTree, additions: TreeEntry[] | FileTree, opts: OverlayOptions = {}): FileTree {
  const addTree = Array.isArray(additions) ? undefined : additions;
  const adds = new Map<string, TreeEntry>();
  for (const e of addTree ? addTree.entries : (additions as TreeEntry[])) {
    checkPath(e.path);
    // Hard-link keys of additions live in their own namespace.
    adds.set(e.path, e.hardlinkKey ? { ...e, hardlinkKey: `overlay:${e.hardlinkKey}` } : e);
  }

  // Parents: an existing directory, an earlier addition, or a new directory.
  const lookup = (p: string): TreeEntry | undefined => adds.get(p) ?? base.get(p);
  for (const e of [...adds.values()]) {
    const missing: string[] = [];
    let q = parentOf(e.path);
    let anc: TreeEntry | undefined;
    while (e.path !== '/') {
      anc = lookup(q);
      if (anc) break;
      missing.push(q);
      q = parentOf(q);
    }
    if (anc && anc.type !== 'dir') {
      throw new InputError(`overlay: cannot add '${e.path}': '${anc.path}' is a ${anc.type}, not a directory`,
        `add a directory at '${anc.path}' first to replace it`);
    }
    for (const m of missing) adds.set(m, syntheticDir(m, anc?.mtime));
  }

  // Base paths hidden by a non-directory addition over a directory.
  const hiddenRoots = [...adds.values()]
    .filter((a) => a.type !== 'dir' && base.get(a.path)?.type === 'dir')
    .map((a) => a.path + '/');
  const hidden = (p: string): boolean => hiddenRoots.some((r) => p.startsWith(r));

  const sortedAdds = [...adds.values()].sort((a, b) => comparePaths(a.path, b.path));
  const out: TreeEntry[] = [];
  let i = 0;
  for (const b of base.entries) {
    while (i < sortedAdds.length && comparePaths(sortedAdds[i]!.path, b.path) < 0) out.push(sortedAdds[i++]!);
    if (adds.has(b.path) || (hiddenRoots.length && hidden(b.path))) continue;
    out.push(b);
  }
  while (i < sortedAdds.length) out.push(sortedAdds[i++]!);
  return treeFromEntries(out, () => {
    if (opts.closeBase ?? true) base.close();
    addTree?.close();
  });
}
