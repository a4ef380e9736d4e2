// debian-minimal's root.d/08-debian-bootstrap as it meets a new machine: an empty image cache,
// and stand-in mmdebstrap / debootstrap scripts first on PATH (no network, no root needed).
// Its cleanup trap must never change the outcome: success exits 0 with the tarball cached and
// nothing temporary left; a failing bootstrap exits non-zero and leaves no tarball, no .tmp
// file and no lock held.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';

const HOOK = path.join(REPO, 'flavours/debian-minimal/root.d/08-debian-bootstrap');
const LIB = path.join(REPO, 'flavours/debian-minimal/debian-minimal-lib');

// A stand-in bootstrap tool: makes a tiny root (as a tar for mmdebstrap, a folder for
// debootstrap) at its second-to-last argument, or writes a partial file and fails.
const STANDIN = `#!/bin/bash
set -eu
args=("$@"); target=\${args[\${#args[@]}-2]}
echo "$(basename "$0") $*" >> "$STANDIN_LOG"
if [ "\${STANDIN_FAIL:-0}" = 1 ]; then
  if [ "$(basename "$0")" = mmdebstrap ]; then echo partial > "$target"; else mkdir -p "$target/etc" && echo partial > "$target/etc/x"; fi
  echo "stand-in: failing" >&2; exit 7
fi
root=$target
if [ "$(basename "$0")" = mmdebstrap ]; then root=$(mktemp -d); fi
mkdir -p "$root/etc/apt" "$root/usr/bin"
echo stand-in > "$root/usr/bin/marker"
if [ "$(basename "$0")" = mmdebstrap ]; then tar -C "$root" -cf "$target" . && rm -rf "$root"; fi
`;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'debian-bootstrap-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A folder of stand-ins, plus (when `only`) links to just the host tools the hook needs, so no real mmdebstrap is found. */
function binDir(tools: string[], only: boolean): string {
  const bin = fs.mkdtempSync(path.join(work, 'bin-'));
  for (const t of tools) fs.writeFileSync(path.join(bin, t), STANDIN, { mode: 0o755 });
  if (only) {
    for (const t of ['bash', 'sh', 'tar', 'flock', 'sha256sum', 'cut', 'mkdir', 'findmnt', 'awk', 'sort', 'xargs',
      'umount', 'rm', 'mv', 'basename', 'mktemp', 'cat', 'gzip']) {
      const real = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      if (real) fs.symlinkSync(real, path.join(bin, t));
    }
  }
  return bin;
}

function runHook(bin: string, only: boolean, extra: NodeJS.ProcessEnv = {}) {
  const cache = fs.mkdtempSync(path.join(work, 'cache-'));
  const hooks = fs.mkdtempSync(path.join(work, 'hooks-'));
  fs.symlinkSync(LIB, path.join(hooks, 'debian-minimal-lib'));
  const target = fs.mkdtempSync(path.join(work, 'root-'));
  const tmp = fs.mkdtempSync(path.join(work, 'tmp-'));
  const log = path.join(work, `log-${path.basename(cache)}`);
  const r = spawnSync('bash', [HOOK], {
    encoding: 'utf8',
    env: {
      PATH: only ? bin : `${bin}:${process.env.PATH}`, TMPDIR: tmp, STANDIN_LOG: log,
      TMP_HOOKS_PATH: hooks, TARGET_ROOT: target, DIB_IMAGE_CACHE: cache, ARCH: 'amd64',
      DIB_RELEASE: 'bookworm', DIB_DEBIAN_COMPONENTS: 'main', DIB_DEBIAN_MINIMAL_PACKAGES: 'linux-image-amd64,udev',
      DIB_DISTRIBUTION_MIRROR: 'http://mirror.invalid/debian', ...extra,
    },
  });
  const cached = fs.readdirSync(path.join(cache, 'debian-minimal')).sort();
  const lock = path.join(cache, 'debian-minimal', cached.find((n) => n.endsWith('.lock')) ?? 'none');
  const lockFree = spawnSync('flock', ['-n', lock, 'true']).status === 0;
  return { r, cache, cached, target, tmp, lockFree, log: fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '' };
}

describe('debian-minimal bootstrap hook with an empty cache', () => {
  it('mmdebstrap: exits 0, caches the tarball, unpacks it, leaves nothing temporary', () => {
    const { r, cached, target, tmp, lockFree, log } = runHook(binDir(['mmdebstrap', 'debootstrap'], false), false);
    expect(r.status, r.stderr).toBe(0);
    expect(log).toMatch(/^mmdebstrap .*--variant=minbase .*bookworm \S+\.tar\.tmp\.\d+ http:\/\/mirror\.invalid\/debian\n$/);
    expect(cached).toHaveLength(2);
    expect(cached[0]).toMatch(/^bookworm-amd64-[0-9a-f]{16}\.tar$/);
    expect(cached[1]).toBe(`${cached[0]}.lock`);
    expect(lockFree).toBe(true);
    expect(fs.readFileSync(path.join(target, 'usr/bin/marker'), 'utf8')).toBe('stand-in\n');
    expect(fs.readFileSync(path.join(target, 'etc/apt/sources.list'), 'utf8')).toBe('deb http://mirror.invalid/debian bookworm main\n');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('debootstrap when mmdebstrap is missing: the same, with the folder made into the tarball', () => {
    const { r, cached, target, lockFree, log } = runHook(binDir(['debootstrap'], true), true);
    expect(r.status, r.stderr).toBe(0);
    expect(log).toMatch(/^debootstrap .*bookworm \S+\.tar\.tmp\.\d+\.d http:\/\/mirror\.invalid\/debian\n$/);
    expect(cached).toHaveLength(2);
    expect(lockFree).toBe(true);
    expect(fs.readFileSync(path.join(target, 'etc/hostname'), 'utf8')).toBe('debian\n');
    expect(fs.readFileSync(path.join(target, 'usr/bin/marker'), 'utf8')).toBe('stand-in\n');
  });

  for (const tool of ['mmdebstrap', 'debootstrap']) {
    it(`a failing ${tool}: non-zero exit, no tarball, no .tmp file or folder, no lock held`, () => {
      const { r, cached, target, lockFree } = runHook(binDir([tool], tool === 'debootstrap'), tool === 'debootstrap', { STANDIN_FAIL: '1' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('stand-in: failing');
      expect(cached).toHaveLength(1);
      expect(cached[0]).toMatch(/\.tar\.lock$/);
      expect(lockFree).toBe(true);
      expect(fs.readdirSync(target)).toEqual([]);
    });
  }

  it('DIB_OFFLINE with nothing cached: a clear error, nothing left', () => {
    const { r, cached } = runHook(binDir(['mmdebstrap'], false), false, { DIB_OFFLINE: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/DIB_OFFLINE is set but \S+\.tar is not cached/);
    expect(cached.filter((n) => !n.endsWith('.lock'))).toEqual([]);
  });
});
