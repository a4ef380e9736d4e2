// The fresh-machine test: README's quick-start build line itself, run as a new user runs it,
// with an EMPTY image cache (DIB_IMAGE_CACHE), so the Debian bootstrap really happens (about
// 70-90 s with network). The image must boot in QEMU to the login prompt. This is the one
// cold bootstrap of the suite; every other test reuses a cached root. It is the test that
// would have caught the bootstrap hook whose cleanup trap failed every first build.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
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

let work: string;
let cache: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'quick-start-'));
  // Outside the repo and the tmpfs-less /tmp worries: next to the other test caches, emptied after.
  cache = fs.mkdtempSync(path.join(testCacheDir(), 'empty-image-cache-'));
});
afterAll(() => {
  if (work && mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true });
  if (cache) fs.rmSync(cache, { recursive: true, force: true });
});

describe.skipIf(why !== undefined)(`README quick start on an empty cache${why ? ` (skipped: ${why})` : ''}`, () => {
  it('the quick-start line builds an image that boots to the login prompt', async () => {
    const { line, build } = quickStartLine(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8'));
    // scripts/test.sh has just run the two set-up steps of the line; what is left is the build.
    expect(line.startsWith('bash scripts/setup-host.sh && npm ci && ')).toBe(true);
    const name = /-o\s+(\S+)/.exec(build)?.[1];
    expect(name, build).toBeDefined();
    const before = new Set(fs.readdirSync(REPO));
    const tmpdir = path.join(work, 'tmp');
    fs.mkdirSync(tmpdir);
    expect(fs.readdirSync(cache)).toEqual([]);
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('bash', ['-c', build], {
        cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DIB_IMAGE_CACHE: cache, TMPDIR: tmpdir, NODE_OPTIONS: '' },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      child.stderr.on('data', (d) => (out += String(d)));
      child.on('close', (code) => resolve({ code, out }));
    });
    const made = fs.readdirSync(REPO).filter((n) => !before.has(n));
    try {
      expect(r.code, r.out.slice(-4000)).toBe(0);
      expect(r.out).toContain('debian-minimal: release trixie (DIB_RELEASE=stable)');
      // the bootstrap ran (the cache was empty) and its tarball is now cached, with no temporaries
      const cached = fs.readdirSync(path.join(cache, 'debian-minimal'));
      expect(cached.filter((n) => n.endsWith('.tar'))).toHaveLength(1);
      expect(cached.filter((n) => n.includes('.tmp'))).toEqual([]);
      expect(mountsBelow(tmpdir)).toEqual([]);
      expect(fs.readdirSync(tmpdir)).toEqual([]);
      const image = made.find((n) => n.startsWith(`${name}.`) && !/\.(md5|sha256)$/.test(n));
      expect(image, made.join(' ')).toBeDefined();
      const boot = await bootUntil(path.join(REPO, image!), 'login:', { uefi: false, workDir: work, timeoutSec: 240 });
      expect(boot.found, boot.log.slice(-3000)).toBe(true);
    } finally {
      for (const n of made) fs.rmSync(path.join(REPO, n), { force: true });
    }
  }, 1_800_000);
});
