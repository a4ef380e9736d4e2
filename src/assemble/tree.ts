/**
 * What the assembler layers over the built tree on its way into the image: /etc/fstab, the
 * mount-point directories, and for the bootloader /boot/grub/grub.cfg and grub's platform
 * modules. The input tree is never modified: `layerTree` returns a new FileTree whose entries
 * are the base's (shared, not copied) merged with the additions.
 */
import * as fs from 'node:fs';
import { bufferContent, comparePaths, type FileTree, type Timestamp, type TreeEntry } from '../tree/model.js';
import { InputError } from '../errors.js';
import { memoryTree, type MemoryFile } from '../boot/memory-tree.js';
import type { GrubModules } from './grub-mkimage.js';

/**
 * Layers `additions` over `base`: files and symlinks in additions replace the base's entry at
 * the same path; a directory in additions that the base already has keeps the base's entry
 * (its owner, mode and times); new directories are added. Both inputs stay as they are.
 */
export function layerTree(base: FileTree, additions: FileTree): FileTree {
  const added = additions.entries.filter((a) => {
    const b = base.get(a.path);
    if (!b) return true;
    if (a.type === 'dir') {
      if (b.type !== 'dir') {
        throw new InputError(`the image tree has a ${b.type} at ${a.path} where the bootloader needs a directory`,
          `remove or rename ${a.path} in the image`);
      }
      return false;
    }
    if (b.type === 'dir') throw new InputError(`the image tree has a directory at ${a.path} where a file is to be written`);
    return true;
  });
  const replaced = new Set(added.map((a) => a.path));
  const byPath = new Map(added.map((a) => [a.path, a]));
  // Merge two sorted lists.
  const out: TreeEntry[] = [];
  const b = base.entries;
  let i = 0;
  let j = 0;
  while (i < b.length || j < added.length) {
    if (i < b.length && replaced.has(b[i]!.path)) {
      i++;
      continue;
    }
    if (j >= added.length || (i < b.length && comparePaths(b[i]!.path, added[j]!.path) < 0)) out.push(b[i++]!);
    else out.push(added[j++]!);
  }
  return {
    entries: out,
    get: (p) => byPath.get(p) ?? (replaced.has(p) ? undefined : base.get(p)),
    close: () => base.close(),
  };
}

export interface Additions {
  fstab?: string;
  /** Mount points (other than '/') that must exist as directories. */
  mountPoints: string[];
  grubCfg?: string;
  modules: GrubModules[];
  time: Timestamp;
}

const MODULE_FILE = /\.(mod|lst|o)$/;

/** The files the assembler adds, as a tree to layer over the image tree. */
export function additionsTree(a: Additions): FileTree {
  const items: MemoryFile[] = [];
  if (a.fstab !== undefined) items.push({ path: '/etc/fstab', data: a.fstab });
  for (const mp of a.mountPoints) items.push({ path: mp });
  if (a.grubCfg !== undefined) items.push({ path: '/boot/grub/grub.cfg', data: a.grubCfg });
  for (const m of a.modules) {
    for (const f of m.files) {
      if (!MODULE_FILE.test(f.name)) continue;
      const content = f.entry?.content ?? (f.hostPath ? hostFileContent(f.hostPath, f.size) : undefined);
      if (!content) continue;
      items.push({ path: `/boot/grub/${m.platform}/${f.name}`, content });
    }
  }
  return memoryTree(items, a.time);
}


/** A host file read lazily (grub modules from /usr/lib/grub when the tree has none). */
function hostFileContent(path: string, size: number) {
  let data: Uint8Array | undefined;
  return {
    size,
    read(offset: number, length: number) {
      data ??= new Uint8Array(fs.readFileSync(path));
      return bufferContent(data).read(offset, length);
    },
  };
}

/**
 * SOURCE_DATE_EPOCH's clamp (reproducible-builds.org/specs/source-date-epoch): every time later
 * than the epoch becomes the epoch. Reading a source tree moves its atimes; clamped, two builds
 * of an unchanged tree write the same bytes. Entries are changed in place.
 */
export function clampTimes(tree: FileTree, epoch: number): void {
  const clamp = (t: Timestamp): Timestamp => (t.sec > epoch || (t.sec === epoch && t.nsec > 0) ? { sec: epoch, nsec: 0 } : t);
  for (const e of tree.entries) {
    e.atime = clamp(e.atime);
    e.mtime = clamp(e.mtime);
    e.ctime = clamp(e.ctime);
  }
}
