/**
 * The reference images of fixtures/inspect/make.sh (sfdisk/sgdisk + mke2fs -d), made once per
 * version of the script into the test cache and shared by the inspect tests: made in a
 * scratch folder, then renamed into place, under a flock so parallel test files wait for one
 * build.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ImageFs } from '../../src/inspect/image-fs.js';
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

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Every entry of `view` (image path -> host path) against the image: type, mode, owner, size,
 * link target and device numbers; every regular file by sha256, read whole and through one
 * odd-sized buffer (readInto crosses run ends, holes and inline data); and nothing in the image
 * that the source lacks but lost+found. Returns the differences and the number of files read.
 */
export function compareWithSource(fsys: ImageFs, view: Map<string, string>): { problems: string[]; files: number } {
  const problems: string[] = [];
  const seen: string[] = [];
  const visit = (p: string): void => {
    seen.push(p);
    if (fsys.lstat(p).type === 'dir') for (const e of fsys.readdir(p)) visit(p === '/' ? `/${e.name}` : `${p}/${e.name}`);
  };
  visit('/');
  for (const p of seen) if (!view.has(p) && !p.endsWith('/lost+found')) problems.push(`${p}: in the image only`);
  let files = 0;
  for (const [p, host] of view) {
    const st = fs.lstatSync(host);
    const s = fsys.lstat(p);
    const got = { type: s.type, mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, target: s.linkTarget, rdev: [s.rdevMajor, s.rdevMinor] };
    const want = {
      type: hostType(st), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid,
      size: st.isFile() || st.isSymbolicLink() ? st.size : 0,
      target: st.isSymbolicLink() ? fs.readlinkSync(host) : undefined,
      rdev: st.isCharacterDevice() || st.isBlockDevice() ? [Math.floor(st.rdev / 256), st.rdev % 256] : [0, 0],
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${p}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
    if (!st.isFile()) continue;
    const c = fsys.open(p);
    const hash = sha(fs.readFileSync(host));
    if (sha(c.read(0, c.size)) !== hash) problems.push(`${p}: content differs (read)`);
    const h = createHash('sha256');
    const buf = new Uint8Array(65_543);
    for (let at = 0; at < c.size; at += buf.length) {
      c.readInto(at, buf);
      h.update(buf.subarray(0, Math.min(buf.length, c.size - at)));
    }
    if (h.digest('hex') !== hash) problems.push(`${p}: content differs (readInto)`);
    files++;
  }
  return { problems, files };
}
