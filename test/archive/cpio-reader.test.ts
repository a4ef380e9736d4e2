/**
 * The cpio reader against GNU cpio: fixtures/cpio/gnu-newc.cpio (made by GNU cpio, see its
 * make.sh) read by us agrees with `cpio -it` (names, order) and with what `cpio -idm`
 * extracts (types, modes, owners, file times, sizes, data, device numbers, link targets,
 * hard links); GNU's 512-byte block padding and a second archive after it are read too.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCpio } from '../../src/archive/cpio-reader.js';
import { REPO } from '../helpers/cli-run.js';
import { hasTool } from '../helpers/tools.js';

const fixture = fs.readFileSync(path.join(REPO, 'fixtures/cpio/gnu-newc.cpio'));
const why = !hasTool('cpio') ? 'cpio is not installed (run scripts/setup-host.sh)' : process.getuid?.() !== 0 ? 'extracting owners and devices needs root' : undefined;

describe.skipIf(why !== undefined)(`cpio reader against GNU cpio (${why ?? 'root'})`, () => {
  let out: string;
  beforeAll(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-cpio-read-'));
    const r = spawnSync('cpio', ['-idm', '--quiet'], { input: fixture, cwd: out, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cpio -idm: ${r.stderr}`);
  });
  afterAll(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  it('names in the order cpio -it lists them', () => {
    const r = spawnSync('cpio', ['-it', '--quiet'], { input: fixture, encoding: 'utf8' });
    const archives = readCpio(fixture);
    expect(archives).toHaveLength(1);
    expect(archives[0]!.entries.map((e) => `${e.name}\n`).join('')).toBe(r.stdout);
    expect(archives[0]!.entries.map((e) => e.name)).toContain('etc/new\nline');
    expect(archives[0]!.entries.map((e) => e.name)).toContain('etc/ünïcödé-名前');
  });

  it('every entry agrees with what cpio -idm extracted', () => {
    const entries = readCpio(fixture)[0]!.entries;
    const inodes = new Map<number, string[]>();
    for (const e of entries) {
      if (e.name === '.') continue; // the extraction folder itself: cpio leaves an existing folder's mode
      const file = path.join(out, e.name);
      const st = fs.lstatSync(file);
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'chardev' : st.isBlockDevice() ? 'blockdev' : 'other';
      const h = e.header;
      expect([e.name, e.type, e.perm, h.c_uid, h.c_gid]).toEqual([e.name, kind, st.mode & 0o7777, st.uid, st.gid]);
      if (e.type === 'file' || e.type === 'chardev' || e.type === 'blockdev' || e.type === 'fifo') expect([e.name, h.c_mtime]).toEqual([e.name, Math.floor(st.mtimeMs / 1000)]);
      if (e.type === 'symlink') expect(new TextDecoder().decode(e.data)).toBe(fs.readlinkSync(file));
      if (e.type === 'chardev' || e.type === 'blockdev') {
        const rdev = Number(st.rdev);
        expect([h.c_rdevmajor, h.c_rdevminor]).toEqual([(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)]);
      }
      if (e.type === 'file') {
        if (h.c_nlink > 1) inodes.set(h.c_ino, [...(inodes.get(h.c_ino) ?? []), e.name]);
        if (e.data.length > 0 || h.c_nlink === 1) expect(Buffer.compare(Buffer.from(e.data), fs.readFileSync(file))).toBe(0);
      }
    }
    expect([...inodes.values()].map((l) => l.sort())).toEqual([['etc/three', 'links/one', 'links/two']]);
    expect(fs.statSync(path.join(out, 'links/one')).ino).toBe(fs.statSync(path.join(out, 'etc/three')).ino);
  });

  it('reads a second archive after GNU block padding, and names the offset of a bad magic', () => {
    const two = Buffer.concat([fixture, fixture]);
    expect(readCpio(two).map((a) => [a.offset, a.entries.length])).toEqual([[0, 19], [fixture.length, 19]]);
    const bad = Buffer.from(fixture);
    bad.write('070707', 0, 'latin1');
    expect(() => readCpio(bad)).toThrow(/cpio newc header c_magic at offset 0 .*: expected 070701 or 070702 but it was "070707"/);
  });
});
