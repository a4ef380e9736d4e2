// The built-in flavours' own logic: debian-minimal's host mirror detection (no root), and
// local-config and base inside a busybox chroot (root), inspected with --keep-build-dir.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsBelow, REPO, runCli, TEST_FLAVOURS } from '../helpers/cli-run.js';

const HOST_MIRROR = path.join(REPO, 'flavours/debian-minimal/debian-minimal-lib/host-mirror.bash');
let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'flav-builtin-')); });
afterAll(() => { if (mountsBelow(work).length === 0) fs.rmSync(work, { recursive: true, force: true }); });

function mirrorOf(files: Record<string, string>): string {
  const apt = fs.mkdtempSync(path.join(work, 'apt-'));
  fs.mkdirSync(path.join(apt, 'sources.list.d'));
  for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(apt, rel), text);
  return execFileSync('bash', ['-c', `. ${HOST_MIRROR}; host_mirror "$1"`, 'x', apt], { encoding: 'utf8' }).trim();
}

describe('debian-minimal: default mirror from the host apt sources', () => {
  it('reads one-line sources, skipping security, then deb822 stanzas, else deb.debian.org', () => {
    expect(mirrorOf({ 'sources.list': '# c\ndeb http://security.debian.org/debian-security bookworm-security main\ndeb [arch=amd64] http://ftp.example.org/debian bookworm main\n' }))
      .toBe('http://ftp.example.org/debian');
    expect(mirrorOf({ 'sources.list.d/a.list': 'deb-src http://src.example/debian bookworm main\ndeb http://list.example/debian bookworm main\n' }))
      .toBe('http://list.example/debian');
    expect(mirrorOf({
      'sources.list.d/debian.sources': 'Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n'
        + 'Types: deb-src deb\n# snapshot\nURIs: http://deb822.example/debian http://second.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n',
    })).toBe('http://deb822.example/debian');
    expect(mirrorOf({ 'sources.list.d/x.sources': 'Types: deb-src\nURIs: http://only-src.example/debian\nSuites: bookworm\n' })).toBe('http://deb.debian.org/debian');
    expect(mirrorOf({})).toBe('http://deb.debian.org/debian');
  });
});

const noRoot = process.getuid?.() !== 0 ? 'needs root (chroot)' : undefined;

describe.skipIf(noRoot !== undefined)('local-config and base in a chroot', () => {
  it('puts the building user\'s authorized_keys and proxy settings into the image', async () => {
    const keys = path.join(work, 'authorized_keys');
    fs.writeFileSync(keys, 'ssh-ed25519 AAAATEST test@host\n');
    const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
    const r = await runCli(['-t', 'raw', '-o', path.join(work, 'lc'), '--keep-build-dir', 'busybox-os', 'local-config'], {
      PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir, FLAVOURS_PATH: TEST_FLAVOURS,
      DIB_LOCAL_CONFIG_AUTHORIZED_KEYS: keys, http_proxy: 'http://proxy.example:3128', https_proxy: 'http://proxy.example:3129', no_proxy: 'localhost,.example',
    });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const build = /build folder (\S+);/.exec(r.stderr)?.[1];
    expect(build, r.stderr).toBeDefined();
    const root = path.join(build!, 'mnt');
    try {
      expect(r.stdout).toContain('base: no first-boot.d scripts; nothing to install');
      expect(fs.readFileSync(path.join(root, 'root/.ssh/authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAATEST test@host\n');
      expect(fs.statSync(path.join(root, 'root/.ssh')).mode & 0o777).toBe(0o700);
      const st = fs.statSync(path.join(root, 'root/.ssh/authorized_keys'));
      expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o600, 0, 0]);
      expect(fs.readFileSync(path.join(root, 'etc/environment'), 'utf8'))
        .toBe('http_proxy=http://proxy.example:3128\nhttps_proxy=http://proxy.example:3129\nno_proxy=localhost,.example\n');
      expect(fs.existsSync(path.join(root, 'etc/systemd/system/dib-first-boot.service'))).toBe(false);
      expect(mountsBelow(tmpdir)).toEqual([]);
    } finally {
      if (mountsBelow(build!).length === 0) fs.rmSync(build!, { recursive: true, force: true });
    }
  });

  it('with apt in the image, the proxy also goes to apt.conf.d', async () => {
    // A flavour made here adds /etc/apt/apt.conf.d to busybox-os (FLAVOURS_PATH holds both folders).
    fs.mkdirSync(path.join(work, 'extra-flavours', 'apt-dir'), { recursive: true });
    fs.writeFileSync(path.join(work, 'extra-flavours', 'apt-dir', 'README.md'), '# apt-dir\n');
    fs.mkdirSync(path.join(work, 'extra-flavours', 'apt-dir', 'root.d'));
    fs.writeFileSync(path.join(work, 'extra-flavours', 'apt-dir', 'root.d', '20-apt-dir'), '#!/bin/sh\nmkdir -p "$TARGET_ROOT/etc/apt/apt.conf.d"\n', { mode: 0o755 });
    const tmpdir = fs.mkdtempSync(path.join(work, 'tmp-'));
    const r = await runCli(['-t', 'raw', '-o', path.join(work, 'lc2'), '--keep-build-dir', 'busybox-os', 'local-config', 'apt-dir'], {
      PATH: process.env.PATH, HOME: work, TMPDIR: tmpdir, FLAVOURS_PATH: `${path.join(work, 'extra-flavours')}:${TEST_FLAVOURS}`,
      http_proxy: 'http://p:1', https_proxy: 'http://p:2',
    });
    expect(r.code, r.stderr.slice(-4000)).toBe(0);
    const build = /build folder (\S+);/.exec(r.stderr)?.[1];
    expect(build, r.stderr).toBeDefined();
    try {
      expect(fs.readFileSync(path.join(build!, 'mnt/etc/apt/apt.conf.d/60local-config-proxy'), 'utf8'))
        .toBe('Acquire::http::Proxy "http://p:1";\nAcquire::https::Proxy "http://p:2";\n');
    } finally {
      if (mountsBelow(build!).length === 0) fs.rmSync(build!, { recursive: true, force: true });
    }
  });
});
