// The fresh-machine test: README's quick-start build line itself, run as a new user runs it,
// with an EMPTY image cache (DIB_IMAGE_CACHE), so the Debian bootstrap really happens (about
// 70-90 s with network). The image must boot in QEMU to the login prompt. This is the one
// cold bootstrap of the suite; every other test reuses a cached root. It is the test that
// would have caught the bootstrap hook whose cleanup trap failed every first build.
// The line runs as written, but in a folder of its own that stands for the clone's root
// (symlinks to the checkout's entries), so a user's own debian.qcow2 in the checkout is
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
 * A folder that looks like the clone's root after `npm ci` to every tool the line runs, but is
 * not the checkout: one symlink per top-level entry git tracks, plus what `npm ci` made
 * (node_modules, dist, build). Nothing the user keeps in the root (their own debian.qcow2) is
 * linked, and what the build writes in its working folder lands here, not in the checkout.
 */
function cloneRootOfLinks(at: string): string[] {
  const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  const names = [...new Set([...tracked.map((f) => f.split('/')[0]!), 'node_modules', 'dist', 'build'])]
    .filter((n) => fs.existsSync(path.join(REPO, n))).sort();
  fs.mkdirSync(at);
  for (const n of names) fs.symlinkSync(path.join(REPO, n), path.join(at, n));
  return names;
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
  // rmSync removes the clone's symlinks themselves, never what they point to.
  if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
  if (cache) fs.rmSync(cache, { recursive: true, force: true });
});

describe.skipIf(why !== undefined)(`README quick start on an empty cache${why ? ` (skipped: ${why})` : ''}`, () => {
  it('the quick-start line, run in a clone-like folder outside the checkout, builds NAME.qcow2 that boots to the login prompt', async () => {
    const { line, build } = quickStartLine(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
    // scripts/test.sh has just run the two set-up steps of the line; what is left is the build.
    expect(line.startsWith('bash scripts/setup-host.sh && npm ci && ')).toBe(true);
    // The image is the name the line gives plus its output type (qcow2 unless -t says otherwise).
    const name = /-o\s+(\S+)/.exec(build)?.[1];
    expect(name, build).toBeDefined();
    const type = /-t\s+(\S+)/.exec(build)?.[1] ?? 'qcow2';
    const clone = path.join(work, 'clone');
    const linked = cloneRootOfLinks(clone);
    expect(linked).toEqual(expect.arrayContaining(['bin', 'dist', 'flavours', 'node_modules', 'package.json']));
    const tmpdir = path.join(work, 'tmp');
    fs.mkdirSync(tmpdir);
    expect(fs.readdirSync(cache)).toEqual([]);
    // offline: npx must find disk-image-create in this project, never fetch a package of that name.
    const r = await runLine(build, clone, {
      ...process.env, DIB_IMAGE_CACHE: cache, TMPDIR: tmpdir, NODE_OPTIONS: '', npm_config_offline: 'true', npm_config_update_notifier: 'false',
    });
    expect(r.code, r.out.slice(-4000)).toBe(0);
    expect(r.out).toContain('debian-minimal: release bookworm');
    // the bootstrap ran (the cache was empty) and its tarball is now cached, with no temporaries
    const cached = fs.readdirSync(path.join(cache, 'debian-minimal'));
    expect(cached.filter((n) => n.endsWith('.tar'))).toHaveLength(1);
    expect(cached.filter((n) => n.includes('.tmp'))).toEqual([]);
    expect(mountsBelow(tmpdir)).toEqual([]);
    expect(fs.readdirSync(tmpdir)).toEqual([]);
    // the working folder gained the image and nothing else
    const image = `${name}.${type}`;
    expect(fs.readdirSync(clone).sort()).toEqual([...linked, image].sort());
    expect(fs.lstatSync(path.join(clone, image)).isFile()).toBe(true);
    const boot = await bootUntil(path.join(clone, image), 'login:', { uefi: false, workDir: work, timeoutSec: 240 });
    expect(boot.found, boot.log.slice(-3000)).toBe(true);
  }, 1_800_000);
});
