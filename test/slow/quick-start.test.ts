// The fresh-machine test: README's quick-start build line itself, run as a new user runs it,
// with an EMPTY image cache (DIB_IMAGE_CACHE), so the Debian bootstrap really happens (about
// 70-90 s with network). The image must boot in QEMU to the login prompt. This is the one
// cold bootstrap of the suite; every other test reuses a cached root. It is the test that
// would have caught the bootstrap hook whose cleanup trap failed every first build.
// The line runs as written, but in a folder of its own that stands for the clone's root
// (a copy of the tracked files), so a user's own debian.qcow2 in the checkout is
// never met, renamed or removed; the image is found by the name the line gives.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootUntil, qemuReady } from '../boot/qemu.js';
import { mountsBelow, REPO } from '../helpers/cli-run.js';
import { testCacheDir } from '../helpers/debian-root.js';
import { hasTool } from '../helpers/tools.js';

/** The quick-start block's build line, and the part of it after setup-host.sh and npm ci. */
function quickStartLine(readme: string): { line: string; build: string } {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  const line = block?.split('\n').find((l) => l.includes('disk-image-create'));
  if (!line) throw new Error("README's Quick start has no ```sh block with a disk-image-create line");
  const parts = line.split('&&').map((p) => p.trim());
  return { line, build: parts.slice(parts.findIndex((p) => p.includes('disk-image-create'))).join(' && ') };
}

const why = process.getuid?.() !== 0 ? 'needs root (chroot, mmdebstrap)'
  : !hasTool('mmdebstrap') ? 'mmdebstrap is not installed (scripts/setup-host.sh)'
  : !qemuReady() ? 'qemu-system-x86_64 is not installed (scripts/setup-host.sh)' : undefined;

/**
 * A fresh clone's root as far as the line can tell, but not the checkout: a copy of the files
 * git tracks, with the checkout's node_modules linked in (what `npm ci` installed). `npx`
 * installs this project's own command from that folder and runs its install and prepare
 * scripts (the C addons, dist/) there, as in a new clone; linking dist/ or build/ instead made
 * those scripts rebuild the checkout's. Nothing the user keeps in the checkout's root (their
 * own debian.qcow2) is copied, and what the build writes in its working folder lands here.
 */
function cloneCopy(at: string): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of tracked) {
    if (!fs.existsSync(path.join(REPO, f))) continue; // deleted in the working tree, not yet in git
    fs.mkdirSync(path.dirname(path.join(at, f)), { recursive: true });
    fs.cpSync(path.join(REPO, f), path.join(at, f), { verbatimSymlinks: true });
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(at, 'node_modules'));
  return fs.readdirSync(at).sort();
}

function runLine(build: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', build], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    child.on('close', (code) => resolve({ code, out }));
  });
}

let work: string;
let cache: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'quick-start-'));
  // Outside the repo and the tmpfs-less /tmp worries: next to the other test caches, emptied after.
  cache = fs.mkdtempSync(path.join(testCacheDir(), 'empty-image-cache-'));
});
afterAll(() => {
  // rmSync removes the node_modules symlink itself, never what it points to.
  if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
  if (cache) fs.rmSync(cache, { recursive: true, force: true });
});

describe.skipIf(why !== undefined)(`README quick start on an empty cache${why ? ` (skipped: ${why})` : ''}`, () => {
  it('the quick-start line, run in a copy of the checkout, builds NAME.qcow2 that boots to the login prompt', async () => {
    const { line, build } = quickStartLine(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
    // scripts/test.sh has just run the two set-up steps of the line; what is left is the build.
    expect(line.startsWith('bash scripts/setup-host.sh && npm ci && ')).toBe(true);
    // The image is the name the line gives plus its output type (qcow2 unless -t says otherwise).
    const name = /-o\s+(\S+)/.exec(build)?.[1];
    expect(name, build).toBeDefined();
    const type = /-t\s+(\S+)/.exec(build)?.[1] ?? 'qcow2';
    const clone = path.join(work, 'clone');
    fs.mkdirSync(clone);
    const copied = cloneCopy(clone);
    expect(copied).toEqual(expect.arrayContaining(['bin', 'flavours', 'node_modules', 'package.json', 'src']));
    const tmpdir = path.join(work, 'tmp');
    fs.mkdirSync(tmpdir);
    expect(fs.readdirSync(cache)).toEqual([]);
    // offline: npx must find disk-image-create in this project, never fetch a package of that name.
    const r = await runLine(build, clone, {
      ...process.env, DIB_IMAGE_CACHE: cache, TMPDIR: tmpdir, NODE_OPTIONS: '', npm_config_offline: 'true', npm_config_update_notifier: 'false',
    });
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toContain('debian-minimal: release trixie (DIB_RELEASE=stable)');
    // the bootstrap ran (the cache was empty) and its tarball is now cached, with no temporaries
    const cached = fs.readdirSync(path.join(cache, 'debian-minimal'));
    expect(cached.filter((n) => n.endsWith('.tar'))).toHaveLength(1);
    expect(cached.filter((n) => n.includes('.tmp'))).toEqual([]);
    expect(mountsBelow(tmpdir)).toEqual([]);
    expect(fs.readdirSync(tmpdir)).toEqual([]);
    // the working folder gained the image, and what npx's install and prepare scripts build
    const image = `${name}.${type}`;
    expect(fs.readdirSync(clone).sort()).toEqual([...new Set([...copied, 'build', 'dist', image])].sort());
    expect(fs.lstatSync(path.join(clone, image)).isFile()).toBe(true);
    const boot = await bootUntil(path.join(clone, image), 'login:', { uefi: false, workDir: work, timeoutSec: 600 });
    expect(boot.found, boot.log.slice(-3000)).toBe(true);
  }, 1_800_000);
});
