/**
 * The reference images of fixtures/inspect/make.sh (sfdisk/sgdisk + mke2fs -d), made once per
 * version of the script into the test cache and shared by the inspect tests: made in a
 * scratch folder, then renamed into place, under a flock so parallel test files wait for one
 * build.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasTool } from '../helpers/tools.js';

export const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/inspect/make.sh');
export const IMAGES = ['mbr-logical', 'gpt-boot', 'mbr-label', 'mbr-nofstab', 'bare'] as const;
export type ImageName = (typeof IMAGES)[number];

/** Why the fixtures cannot be made here, or undefined. */
export function fixturesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'making the inspect fixtures needs root (chown, mknod)';
  for (const t of ['mke2fs', 'e2fsck', 'sfdisk', 'sgdisk', 'python3', 'flock']) if (!hasTool(t)) return `${t} is not installed (run scripts/setup-host.sh)`;
  return undefined;
}

/** The folder holding NAME.img, NAME.src/ and NAME.expect for every image. */
export function inspectFixtures(): string {
  const key = createHash('sha256').update(fs.readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  const base = path.join(os.tmpdir(), 'dit-inspect-fixtures');
  fs.mkdirSync(base, { recursive: true });
  const dir = path.join(base, key);
  if (fs.existsSync(path.join(dir, 'done'))) return dir;
  const script = `[ -e "${dir}/done" ] && exit 0; rm -rf "${dir}.tmp" && bash "${SCRIPT}" "${dir}.tmp" && touch "${dir}.tmp/done" && rm -rf "${dir}" && mv "${dir}.tmp" "${dir}"`;
  execFileSync('flock', [path.join(base, 'lock'), 'bash', '-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

/** "kernel PATH" / "initrd PATH" from NAME.expect. */
export function expected(dir: string, name: ImageName): { kernel: string; initrd: string } {
  const text = fs.readFileSync(path.join(dir, `${name}.expect`), 'utf8');
  return { kernel: /^kernel (.*)$/m.exec(text)![1]!, initrd: /^initrd (.*)$/m.exec(text)![1]! };
}

/**
 * The source trees as the guest sees them: for a partitioned image, the root's tree with the
 * /boot tree at /boot; for the bare one, its only tree. Map from image path to host path.
 */
export function sourceView(dir: string, name: ImageName): Map<string, string> {
  const src = path.join(dir, `${name}.src`);
  const out = new Map<string, string>();
  const add = (host: string, at: string) => {
    out.set(at, host);
    if (fs.lstatSync(host).isDirectory()) for (const n of fs.readdirSync(host)) add(path.join(host, n), at === '/' ? `/${n}` : `${at}/${n}`);
  };
  if (name === 'bare') add(path.join(src, 'disk'), '/');
  else {
    add(path.join(src, 'root'), '/');
    add(path.join(src, 'boot'), '/boot');
  }
  return out;
}

/** The tree model's name for the type of a host file (lstat). */
export function hostType(st: fs.Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  return st.isFIFO() ? 'fifo' : 'socket';
}
