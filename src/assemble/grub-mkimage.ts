/**
 * Runs grub-mkimage to make the BIOS core.img and the UEFI BOOTX64.EFI, with the modules of
 * the image's own grub (the tree's usr/lib/grub/<platform>, extracted to a scratch
 * directory) or, when the tree has none, the host's /usr/lib/grub/<platform>.
 * Facts from /work/shared/reference/boot-notes.md: `search` must be listed next to
 * `search_fs_uuid`, or grub stops silently.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InputError, MissingToolError } from '../errors.js';
import type { FileTree, TreeEntry } from '../tree/model.js';

/** Whether TOOL is on PATH. */
function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'has-tool', tool], { stdio: 'ignore' }).status === 0;
}

export type GrubPlatform = 'i386-pc' | 'x86_64-efi';

export const BIOS_MODULES = ['biosdisk', 'part_msdos', 'part_gpt', 'ext2', 'fat', 'search', 'search_fs_uuid', 'search_label',
  'normal', 'configfile', 'linux', 'echo', 'serial', 'terminal', 'test', 'gzio', 'halt'];
export const EFI_MODULES = ['part_msdos', 'part_gpt', 'ext2', 'fat', 'search', 'search_fs_uuid', 'search_label', 'normal',
  'configfile', 'linux', 'echo', 'serial', 'terminal', 'test', 'gzio', 'halt', 'efi_gop', 'all_video'];

/** The files grub needs at build time from a platform directory. */
const NEEDED: Record<GrubPlatform, string[]> = {
  'i386-pc': ['kernel.img', 'boot.img', 'moddep.lst', 'normal.mod'],
  'x86_64-efi': ['kernel.img', 'moddep.lst', 'normal.mod'],
};

export interface GrubModules {
  platform: GrubPlatform;
  /** 'tree' when the image's own grub is used, 'host' otherwise. */
  source: 'tree' | 'host';
  /** The tree's platform directory entries (for copying into /boot/grub/<platform>), or host files. */
  files: { name: string; entry?: TreeEntry; hostPath?: string; size: number }[];
}

function treePlatformDir(tree: FileTree, platform: GrubPlatform): TreeEntry[] {
  const dir = `/usr/lib/grub/${platform}`;
  return tree.entries.filter((e) => e.type === 'file' && e.path.startsWith(dir + '/') && !e.path.slice(dir.length + 1).includes('/'));
}

/**
 * Finds grub's platform modules: in the tree first, then on the host. Throws InputError
 * (naming both places) when neither has them. Does not write anything.
 */
export function findGrubModules(tree: FileTree, platform: GrubPlatform, hostDir = `/usr/lib/grub/${platform}`): GrubModules {
  const inTree = treePlatformDir(tree, platform);
  const names = new Set(inTree.map((e) => path.posix.basename(e.path)));
  if (NEEDED[platform].every((n) => names.has(n))) {
    // A symlinked file in the tree would have type 'symlink' and is skipped; grub ships regular files.
    return { platform, source: 'tree', files: inTree.map((e) => ({ name: path.posix.basename(e.path), entry: e, size: e.size })) };
  }
  if (fs.existsSync(hostDir) && NEEDED[platform].every((n) => fs.existsSync(path.join(hostDir, n)))) {
    const files = fs.readdirSync(hostDir).filter((n) => fs.statSync(path.join(hostDir, n)).isFile())
      .map((n) => ({ name: n, hostPath: path.join(hostDir, n), size: fs.statSync(path.join(hostDir, n)).size }));
    return { platform, source: 'host', files };
  }
  const pkg = platform === 'i386-pc' ? 'grub-pc-bin' : 'grub-efi-amd64-bin';
  throw new InputError(
    `grub's ${platform} modules were found neither in the image tree (/usr/lib/grub/${platform}) nor on the host (${hostDir})`,
    `install ${pkg} into the image (add it to the package list) or on the host (apt-get install ${pkg})`,
  );
}

export function readModuleFile(m: GrubModules, name: string): Uint8Array {
  const f = m.files.find((x) => x.name === name);
  if (!f) throw new InputError(`grub ${m.platform}: ${name} is missing from the module directory`);
  if (f.hostPath) return new Uint8Array(fs.readFileSync(f.hostPath));
  return f.entry!.content!.read(0, f.size);
}

export function checkGrubMkimage(): void {
  if (!hasTool('grub-mkimage')) {
    throw new MissingToolError('grub-mkimage', 'make grub core.img / BOOTX64.EFI', 'grub-common');
  }
}

export interface MkimageOptions {
  modules: GrubModules;
  /** The embedded early configuration (run before prefix's normal.mod loads). */
  earlyConfig: string;
  /** The prefix grub loads normal.mod and grub.cfg from, e.g. '/boot/grub'. */
  prefix: string;
  moduleList?: string[];
  /** Folder for the scratch files (default the system temp folder); the build passes its build folder. */
  scratchDir?: string;
}

/** The modules `list` needs, with their dependencies from moddep.lst ("name: dep dep"). */
export function moduleClosure(moddep: string, list: string[]): Set<string> {
  const deps = new Map<string, string[]>();
  for (const line of moddep.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) deps.set(line.slice(0, i).trim(), line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
  }
  const out = new Set<string>();
  const visit = (m: string) => {
    if (out.has(m)) return;
    out.add(m);
    for (const d of deps.get(m) ?? []) visit(d);
  };
  list.forEach(visit);
  return out;
}

/**
 * Runs grub-mkimage and returns the image bytes. From a tree, only what grub-mkimage reads is
 * extracted to the scratch directory: the images (*.img), the lists (*.lst) and the closure of
 * the requested modules.
 */
export async function grubMkimage(o: MkimageOptions): Promise<Uint8Array> {
  checkGrubMkimage();
  const list = o.moduleList ?? (o.modules.platform === 'i386-pc' ? BIOS_MODULES : EFI_MODULES);
  const work = fs.mkdtempSync(path.join(o.scratchDir ?? os.tmpdir(), 'dit-grub-'));
  try {
    let dir: string;
    if (o.modules.source === 'host') {
      dir = path.dirname(o.modules.files[0]!.hostPath!);
    } else {
      dir = path.join(work, o.modules.platform);
      fs.mkdirSync(dir);
      const wanted = moduleClosure(Buffer.from(readModuleFile(o.modules, 'moddep.lst')).toString('utf8'), list);
      for (const f of o.modules.files) {
        const mod = f.name.endsWith('.mod') ? f.name.slice(0, -4) : undefined;
        if (mod !== undefined ? !wanted.has(mod) : !/\.(img|lst)$/.test(f.name)) continue;
        fs.writeFileSync(path.join(dir, f.name), f.entry!.content!.read(0, f.size));
      }
    }
    const cfg = path.join(work, 'early.cfg');
    fs.writeFileSync(cfg, o.earlyConfig);
    const out = path.join(work, 'out.img');
    const args = ['-d', dir, '-O', o.modules.platform, '-c', cfg, '-p', o.prefix, '-o', out, ...list];
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn('grub-mkimage', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += String(d)));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    if (code !== 0) {
      throw new InputError(`grub-mkimage -O ${o.modules.platform} failed (exit ${code}): ${stderr.trim()}`,
        `check that the ${o.modules.source === 'tree' ? "image's" : "host's"} grub modules include: ${list.join(' ')}`);
    }
    return new Uint8Array(fs.readFileSync(out));
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
