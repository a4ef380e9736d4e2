// debian-minimal's root.d/08-debian-bootstrap as it meets a new machine: an empty image cache,
// and stand-in mmdebstrap / debootstrap / curl scripts first on PATH (no network, no root
// needed; the stand-in curl serves a Release file saying stable is trixie).
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
// debootstrap) at its target argument (the hook's NAME.tar.tmp.PID[.d]), or writes a partial
// file and fails.
const STANDIN = `#!/bin/bash
set -eu
for a in "$@"; do case "$a" in *.tar.tmp.*) target=$a ;; esac; done
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

// A stand-in curl: the Release file of stable (trixie) and bookworm; a failure for anything else.
const CURL = `#!/bin/bash
echo "curl $*" >> "$CURL_LOG"
case "$*" in
  */dists/stable/Release*) printf 'Origin: Debian\\nSuite: stable\\nCodename: trixie\\n' ;;
  */dists/bookworm/Release*) printf 'Suite: oldstable\\nCodename: bookworm\\n' ;;
  *) exit 22 ;;
esac
`;

let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'debian-bootstrap-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A folder of stand-ins, plus (when `only`) links to just the host tools the hook needs, so no real mmdebstrap is found. */
function binDir(tools: string[], only: boolean): string {
  const bin = fs.mkdtempSync(path.join(work, 'bin-'));
  for (const t of tools) fs.writeFileSync(path.join(bin, t), t === 'curl' ? CURL : STANDIN, { mode: 0o755 });
  if (only) {
    for (const t of ['bash', 'sh', 'tar', 'flock', 'sha256sum', 'cut', 'mkdir', 'findmnt', 'awk', 'sort', 'xargs',
      'umount', 'rm', 'mv', 'basename', 'mktemp', 'cat', 'gzip', 'sed', 'head', 'cp']) {
      const real = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
      if (real) fs.symlinkSync(real, path.join(bin, t));
    }
  }
  return bin;
}

function runHook(bin: string, only: boolean, extra: NodeJS.ProcessEnv = {}, cache = fs.mkdtempSync(path.join(work, 'cache-'))) {
  const hooks = fs.mkdtempSync(path.join(work, 'hooks-'));
  fs.symlinkSync(LIB, path.join(hooks, 'debian-minimal-lib'));
  const target = fs.mkdtempSync(path.join(work, 'root-'));
  const tmp = fs.mkdtempSync(path.join(work, 'tmp-'));
  const log = path.join(work, `log-${path.basename(cache)}`);
  const r = spawnSync('bash', [HOOK], {
    encoding: 'utf8',
    env: {
      PATH: only ? bin : `${bin}:${process.env.PATH}`, TMPDIR: tmp, STANDIN_LOG: log, CURL_LOG: `${log}.curl`,
      TMP_HOOKS_PATH: hooks, TARGET_ROOT: target, DIB_IMAGE_CACHE: cache, ARCH: 'amd64',
      DIB_RELEASE: 'bookworm', DIB_DEBIAN_COMPONENTS: 'main', DIB_DEBIAN_MINIMAL_PACKAGES: 'linux-image-amd64,udev',
      DIB_DISTRIBUTION_MIRROR: 'http://mirror.invalid/debian', ...extra,
    },
  });
  const cached = fs.readdirSync(path.join(cache, 'debian-minimal')).sort();
  const lock = path.join(cache, 'debian-minimal', cached.find((n) => n.endsWith('.lock')) ?? 'none');
  const lockFree = spawnSync('flock', ['-n', lock, 'true']).status === 0;
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  return { r, cache, cached, target, tmp, lockFree, log: read(log), curl: read(`${log}.curl`) };
}

describe('debian-minimal bootstrap hook with an empty cache', () => {
  it('mmdebstrap: exits 0, caches the tarball, unpacks it, writes the apt sources, leaves nothing temporary', () => {
    const { r, cached, target, tmp, lockFree, log } = runHook(binDir(['mmdebstrap', 'debootstrap'], false), false);
    expect(r.status, r.stderr).toBe(0);
    const m = 'http://mirror.invalid/debian';
    expect(log).toBe(`mmdebstrap --quiet --format=tar --variant=minbase --arch=amd64 --components=main --include=linux-image-amd64,udev `
      + `--customize-hook=echo debian > "$1/etc/hostname" bookworm ${/\S+\.tar\.tmp\.\d+/.exec(log)![0]} deb ${m} bookworm main `
      + `deb ${m} bookworm-backports main deb ${m} bookworm-updates main deb http://security.debian.org/debian-security bookworm-security main\n`);
    // no Release file answered (mirror.invalid): the release name is used as it is, nothing remembered
    expect(cached).toHaveLength(2);
    expect(cached[0]).toMatch(/^bookworm-amd64-[0-9a-f]{16}\.tar$/);
    expect(cached[1]).toBe(`${cached[0]}.lock`);
    expect(lockFree).toBe(true);
    expect(fs.readFileSync(path.join(target, 'usr/bin/marker'), 'utf8')).toBe('stand-in\n');
    expect(fs.existsSync(path.join(target, 'etc/apt/sources.list'))).toBe(false);
    const lists = path.join(target, 'etc/apt/sources.list.d');
    expect(fs.readdirSync(lists).sort()).toEqual(['backports.list', 'default.list', 'security.list', 'updates.list']);
    expect(fs.readFileSync(path.join(lists, 'default.list'), 'utf8')).toBe(`deb ${m} bookworm main\n`);
    expect(fs.readFileSync(path.join(lists, 'security.list'), 'utf8')).toBe('deb http://security.debian.org/debian-security bookworm-security main\n');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it('DIB_RELEASE=stable is bootstrapped, cached and written to apt as its codename; offline, the remembered codename is used', () => {
    const bin = binDir(['mmdebstrap', 'curl'], false);
    const first = runHook(bin, false, { DIB_RELEASE: 'stable', DIB_DEBIAN_COMPONENTS: 'main,contrib' });
    expect(first.r.status, first.r.stderr).toBe(0);
    expect(first.curl).toBe('curl -fsSL --max-time 60 http://mirror.invalid/debian/dists/stable/Release\n');
    expect(first.r.stdout).toMatch(/^debian-minimal: release trixie \(DIB_RELEASE=stable\), mirror http:\/\/mirror\.invalid\/debian, mmdebstrap, /m);
    expect(first.log).toMatch(/ trixie \S+\.tar\.tmp\.\d+ deb http:\/\/mirror\.invalid\/debian trixie main contrib deb /);
    expect(first.cached.filter((n) => n.endsWith('.tar'))).toEqual([expect.stringMatching(/^trixie-amd64-[0-9a-f]{16}\.tar$/)]);
    expect(fs.readFileSync(path.join(first.cache, 'debian-minimal/stable.codename'), 'utf8')).toBe('trixie\n');
    expect(fs.readFileSync(path.join(first.target, 'etc/apt/sources.list.d/updates.list'), 'utf8'))
      .toBe('deb http://mirror.invalid/debian trixie-updates main contrib\n');
    // Offline, the same cache (and the same stand-in logs): no download, no bootstrap, the same tarball.
    const again = runHook(bin, false, { DIB_RELEASE: 'stable', DIB_DEBIAN_COMPONENTS: 'main,contrib', DIB_OFFLINE: '1' }, first.cache);
    expect(again.r.status, again.r.stderr).toBe(0);
    expect(again.curl).toBe(first.curl);
    expect(again.log).toBe(first.log);
    expect(again.cached).toEqual(first.cached);
    expect(again.r.stdout).toContain('release trixie (DIB_RELEASE=stable)');
  });

  it('DIB_APT_SOURCES_CONF replaces the default sources; DIB_APT_SOURCES becomes sources.list; testing has only its default line', () => {
    const own = path.join(work, 'own.list');
    fs.writeFileSync(own, 'deb http://own.example/debian trixie main\n');
    const conf = runHook(binDir(['mmdebstrap'], false), false,
      { DIB_APT_SOURCES_CONF: 'main:deb http://a.example/debian trixie main\nextra:deb http://b.example/debian trixie contrib', DIB_APT_SOURCES: own });
    expect(conf.r.status, conf.r.stderr).toBe(0);
    expect(conf.log).toMatch(/ deb http:\/\/a\.example\/debian trixie main deb http:\/\/b\.example\/debian trixie contrib\n$/);
    const lists = path.join(conf.target, 'etc/apt/sources.list.d');
    expect(fs.readdirSync(lists).sort()).toEqual(['extra.list', 'main.list']);
    expect(fs.readFileSync(path.join(conf.target, 'etc/apt/sources.list'), 'utf8')).toBe('deb http://own.example/debian trixie main\n');
    const testing = runHook(binDir(['mmdebstrap'], false), false, { DIB_RELEASE: 'testing' });
    expect(testing.r.status, testing.r.stderr).toBe(0);
    expect(fs.readdirSync(path.join(testing.target, 'etc/apt/sources.list.d'))).toEqual(['default.list']);
  });

  it('debootstrap when mmdebstrap is missing: the same, with the folder made into the tarball', () => {
    const { r, cached, target, lockFree, log } = runHook(binDir(['debootstrap'], true), true);
    expect(r.status, r.stderr).toBe(0);
    expect(log).toMatch(/^debootstrap .*bookworm \S+\.tar\.tmp\.\d+\.d http:\/\/mirror\.invalid\/debian\n$/);
    expect(cached.filter((n) => n.endsWith('.tar'))).toHaveLength(1);
    expect(lockFree).toBe(true);
    expect(fs.readFileSync(path.join(target, 'etc/hostname'), 'utf8')).toBe('debian\n');
    expect(fs.readFileSync(path.join(target, 'usr/bin/marker'), 'utf8')).toBe('stand-in\n');
  });

  for (const tool of ['mmdebstrap', 'debootstrap']) {
    it(`a failing ${tool}: non-zero exit, no tarball, no .tmp file or folder, no lock held`, () => {
      const { r, cached, target, lockFree } = runHook(binDir([tool], tool === 'debootstrap'), tool === 'debootstrap', { STANDIN_FAIL: '1' });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('stand-in: failing');
      expect(cached.filter((n) => n !== 'bookworm.codename')).toEqual([expect.stringMatching(/\.tar\.lock$/)]);
      expect(lockFree).toBe(true);
      expect(fs.readdirSync(target)).toEqual([]);
    });
  }

  it('DIB_OFFLINE with nothing cached: a clear error, nothing left', () => {
    const { r, cached } = runHook(binDir(['mmdebstrap'], false), false, { DIB_OFFLINE: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/DIB_OFFLINE is set but \S+\.tar is not cached/);
    expect(cached.filter((n) => n.endsWith('.tar'))).toEqual([]);
  });
});
