// Unprivileged builds, the fast parts: the preflight's refusals (each names what is missing
// and the command that fixes it), subuid(5) parsing, the id map given to newuidmap, and the
// mknod stand-in with the directory source reading its placeholders as devices.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, DiskImageError, MissingToolError } from '../../src/errors.js';
import { deviceLogBeside, installDeviceShim, parseDeviceLog } from '../../src/pipeline/device-shim.js';
import { insideId, mapArgs, subordinateRange, unprivilegedPreflight, type HostFacts } from '../../src/pipeline/userns.js';
import { dirTree } from '../../src/tree/dir-source.js';
import { DEVICE_PLACEHOLDER_XATTR } from '../../src/tree/model.js';
import { hasTool } from '../helpers/tools.js';

let work: string;
let facts: HostFacts;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-userns-'));
  fs.mkdirSync(path.join(work, 'etc'));
  fs.mkdirSync(path.join(work, 'sys/kernel'), { recursive: true });
  fs.mkdirSync(path.join(work, 'sys/user'), { recursive: true });
  fs.mkdirSync(path.join(work, 'bin'));
  for (const t of ['newuidmap', 'newgidmap']) fs.writeFileSync(path.join(work, 'bin', t), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  fs.writeFileSync(path.join(work, 'etc/subuid'), 'other:100000:65536\nbuilder:165536:65536\n');
  fs.writeFileSync(path.join(work, 'etc/subgid'), 'other:100000:65536\n1234:200000:70000\n');
  facts = { etc: path.join(work, 'etc'), procSys: path.join(work, 'sys'), path: path.join(work, 'bin'), user: 'builder', uid: 1234, gid: 1234 };
});
afterAll(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

function refusal(f: () => unknown): DiskImageError {
  try { f(); } catch (e) { if (e instanceof DiskImageError) return e; throw e; }
  throw new Error('expected a refusal');
}

describe('unprivileged preflight', () => {
  it('finds the ranges by name and by numeric id, and maps 0 to the user and 1.. to the range', () => {
    const ids = unprivilegedPreflight(facts);
    expect(ids.subuid).toEqual({ start: 165536, count: 65536 });
    expect(ids.subgid).toEqual({ start: 200000, count: 70000 });
    expect(mapArgs(ids.uid, ids.subuid)).toEqual(['0', '1234', '1', '1', '165536', '65536']);
    expect(mapArgs(ids.gid, ids.subgid)).toEqual(['0', '1234', '1', '1', '200000', '65536']); // at most 65536 of a range
    expect(subordinateRange('a:1:2\nbuilder:5:6\nbuilder:7:8\n', 'builder', 9)).toEqual({ start: 5, count: 6 });
    expect(subordinateRange('# builder:5:6\nbuilder:x:6\n', 'builder', 9)).toBeUndefined();
  });

  it('refuses a user without a subuid entry, naming the file and the usermod command', () => {
    const e = refusal(() => unprivilegedPreflight({ ...facts, user: 'nobody-here', uid: 4321 }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toContain(`${facts.etc}/subuid: no entry for nobody-here (uid 4321)`);
    expect(e.hint).toContain('usermod --add-subuids 100000-165535 nobody-here');
  });

  it('refuses a user without a subgid entry', () => {
    fs.writeFileSync(path.join(work, 'etc/subgid2'), '');
    const etc2 = path.join(work, 'etc2');
    fs.mkdirSync(etc2, { recursive: true });
    fs.copyFileSync(path.join(work, 'etc/subuid'), path.join(etc2, 'subuid'));
    const e = refusal(() => unprivilegedPreflight({ ...facts, etc: etc2 }));
    expect(e.message).toContain(`${etc2}/subgid: no entry for builder`);
    expect(e.hint).toContain('usermod --add-subgids');
  });

  it('refuses when newuidmap is not on PATH, naming the package', () => {
    const e = refusal(() => unprivilegedPreflight({ ...facts, path: path.join(work, 'etc') }));
    expect(e).toBeInstanceOf(MissingToolError);
    expect(e.message).toContain('newuidmap is needed');
    expect(e.hint).toContain('apt-get install uidmap');
  });

  it('refuses when the kernel disallows user namespaces, with the sysctl that allows them', () => {
    const clone = path.join(work, 'sys/kernel/unprivileged_userns_clone');
    fs.writeFileSync(clone, '0\n');
    let e = refusal(() => unprivilegedPreflight(facts));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('kernel.unprivileged_userns_clone = 0');
    expect(e.hint).toContain('sysctl -w kernel.unprivileged_userns_clone=1');
    fs.writeFileSync(clone, '1\n');
    fs.writeFileSync(path.join(work, 'sys/user/max_user_namespaces'), '0\n');
    e = refusal(() => unprivilegedPreflight(facts));
    expect(e.hint).toContain('sysctl -w user.max_user_namespaces=15000');
    fs.writeFileSync(path.join(work, 'sys/user/max_user_namespaces'), '100\n');
    fs.writeFileSync(path.join(work, 'sys/kernel/apparmor_restrict_unprivileged_userns'), '1\n');
    e = refusal(() => unprivilegedPreflight(facts));
    expect(e.message).toContain("AppArmor's restriction is on");
    fs.rmSync(path.join(work, 'sys/kernel/apparmor_restrict_unprivileged_userns'));
    expect(unprivilegedPreflight(facts).user).toBe('builder');
  });
});

describe.skipIf(!hasTool('setfattr'))('mknod stand-in and device placeholders', () => {
  it('makes an empty file with the asked mode and logs the device; FIFOs are real', () => {
    const shim = path.join(work, 'shim');
    installDeviceShim(shim);
    const dir = path.join(work, 'tree/dev-test');
    fs.mkdirSync(dir, { recursive: true });
    const mknod = path.join(shim, 'bin/mknod');
    const env = { ...process.env, DIB_TS_MKNOD_LOG: deviceLogBeside(path.join(shim, 'bin')) };
    const sh = (args: string[]): void => { execFileSync('sh', ['-c', 'umask 022; cd "$1"; shift; exec "$@"', 'sh', dir, mknod, ...args], { env }); };
    sh(['-m', '0640', 'disk', 'b', '8', '0x11']);
    sh(['null', 'c', '1', '3']);
    sh(['--mode=600', 'pipe', 'p']);
    expect(() => sh(['null', 'c', '1', '3'])).toThrow(); // exists
    // outside DIB_TS_MKNOD_ROOT the real mknod answers (and, unprivileged, fails as it must)
    const outside = path.join(work, 'outside-node');
    const real = spawnSync('sh', ['-c', 'PATH="$1:$PATH" DIB_TS_MKNOD_ROOT="$2" mknod "$3" c 1 3', 'sh', path.join(shim, 'bin'), path.join(work, 'tree'), outside]);
    // as root the real mknod makes a character device there; unprivileged it fails and makes nothing
    const root = process.getuid?.() === 0;
    expect(real.status).toBe(root ? 0 : 1);
    expect(fs.existsSync(outside)).toBe(root);
    if (root) expect(fs.statSync(outside).isCharacterDevice()).toBe(true);
    fs.rmSync(outside, { force: true });
    expect(fs.statSync(path.join(dir, 'disk')).mode & 0o7777).toBe(0o640);
    expect(fs.statSync(path.join(dir, 'null')).mode & 0o7777).toBe(0o644);
    expect(fs.statSync(path.join(dir, 'pipe')).isFIFO()).toBe(true);
    const records = parseDeviceLog(fs.readFileSync(path.join(shim, 'devices'), 'utf8'));
    expect(records).toEqual([
      { type: 'b', major: 8, minor: 17, path: path.join(dir, 'disk') },
      { type: 'c', major: 1, minor: 3, path: path.join(dir, 'null') },
    ]);
    // marked as the build marks them, the directory source reads them as devices
    for (const r of records) execFileSync('setfattr', ['-h', '-n', DEVICE_PLACEHOLDER_XATTR, '-v', `${r.type} ${r.major} ${r.minor}`, r.path]);
    const tree = dirTree(path.join(work, 'tree'), { devicePlaceholders: true });
    const disk = tree.get('/dev-test/disk')!;
    expect([disk.type, disk.rdevMajor, disk.rdevMinor, disk.mode, disk.size, disk.content]).toEqual(['blockdev', 8, 17, 0o640, 0, undefined]);
    expect(disk.xattrs.has(DEVICE_PLACEHOLDER_XATTR)).toBe(false);
    expect(tree.get('/dev-test/null')!.type).toBe('chardev');
    tree.close();
    // without the option they stay files
    const plain = dirTree(path.join(work, 'tree'));
    expect(plain.get('/dev-test/disk')!.type).toBe('file');
    plain.close();
  });
});

describe('ids mapped back (a tree read outside the namespace: the ramdisk archive)', () => {
  const ids = { user: 'builder', uid: 1234, gid: 1300, subuid: { start: 165536, count: 65536 }, subgid: { start: 200000, count: 70000 } };
  it('own id -> 0, range -> 1..65536, anything else -> 65534', () => {
    expect([insideId(ids, 1234, 'uid'), insideId(ids, 165536, 'uid'), insideId(ids, 165536 + 41, 'uid'), insideId(ids, 165536 + 65535, 'uid')]).toEqual([0, 1, 42, 65536]);
    expect([insideId(ids, 165536 + 65536, 'uid'), insideId(ids, 0, 'uid'), insideId(ids, 1300, 'gid'), insideId(ids, 200000 + 4, 'gid'), insideId(ids, 200000 + 65536, 'gid')]).toEqual([65534, 65534, 0, 5, 65534]);
  });
  it.skipIf(process.getuid?.() !== 0)('the directory source applies the map to every owner', () => {
    const dir = path.join(work, 'mapped');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    fs.chownSync(dir, 1234, 1300);
    fs.chownSync(path.join(dir, 'f'), 165536 + 41, 200000 + 4);
    const tree = dirTree(dir, { mapIds: (id, kind) => insideId(ids, id, kind) });
    expect([tree.get('/')!.uid, tree.get('/')!.gid, tree.get('/f')!.uid, tree.get('/f')!.gid]).toEqual([0, 0, 42, 5]);
    tree.close();
  });
});
