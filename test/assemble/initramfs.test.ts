/**
 * The initramfs writer: zstd -t, gzip -t and xz -t accept its output, which decompresses
 * (by those tools) to exactly our uncompressed archive; an early archive comes first,
 * uncompressed; the same tree gives the same bytes; bad names and levels are refused.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpioBytes, planCpio } from '../../src/archive/cpio-writer.js';
import { readCpio } from '../../src/archive/cpio-reader.js';
import { checkCompression, writeInitramfs, type Compression } from '../../src/assemble/initramfs.js';
import { treeFromEntries } from '../../src/tree/entries.js';
import { bufferContent, type FileTree, type TreeEntry } from '../../src/tree/model.js';
import { hasTool } from '../helpers/tools.js';

function entry(p: string, type: TreeEntry['type'], extra: Partial<TreeEntry> = {}): TreeEntry {
  const t = { sec: 1_700_000_000, nsec: 0 };
  return { path: p, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, atime: t, mtime: t, ctime: t, size: 0, rdevMajor: 0, rdevMinor: 0, xattrs: new Map(), ...extra };
}

function file(p: string, data: Uint8Array): TreeEntry {
  return entry(p, 'file', { size: data.length, content: bufferContent(data) });
}

/** A few MiB: a big compressible file (crosses the writer's 1 MiB chunks), many small ones. */
function sampleTree(): FileTree {
  const big = new Uint8Array(3_500_001);
  let x = 7;
  for (let i = 0; i < big.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    big[i] = i % 3 === 0 ? x >>> 24 : 0x61 + (i % 17);
  }
  const entries: TreeEntry[] = [entry('/', 'dir'), entry('/bin', 'dir'), file('/bin/big', big), entry('/etc', 'dir')];
  for (let i = 0; i < 500; i++) entries.push(file(`/etc/f${String(i).padStart(4, '0')}`, new TextEncoder().encode(`file ${i}\n`.repeat(i % 13))));
  entries.push(entry('/init', 'symlink', { linkTarget: 'bin/big', size: 7 }));
  return treeFromEntries(entries);
}

const TOOLS: Record<Exclude<Compression, 'none'>, string> = { zstd: 'zstd', gzip: 'gzip', xz: 'xz' };

describe('initramfs writer', () => {
  let work: string;
  let tree: FileTree;
  let plain: Uint8Array;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dit-initramfs-'));
    tree = sampleTree();
    plain = cpioBytes(planCpio(tree));
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const c of ['zstd', 'gzip', 'xz'] as const) {
    it.skipIf(!hasTool(TOOLS[c]))(`${c} -t accepts the output; ${c} -dc gives our archive byte for byte (${TOOLS[c]} not installed: run scripts/setup-host.sh)`, async () => {
      const out = path.join(work, `rd.${c}`);
      const r = await writeInitramfs(tree, out, { compression: c });
      expect(r.archiveSize).toBe(plain.length);
      expect(r.size).toBe(fs.statSync(out).size);
      expect(r.size).toBeLessThan(plain.length / 2);
      const t = spawnSync(TOOLS[c], ['-t', out], { encoding: 'utf8' });
      expect(t.status, t.stderr).toBe(0);
      const d = spawnSync(TOOLS[c], ['-dc', out], { maxBuffer: 1 << 26 });
      expect(d.status).toBe(0);
      expect(Buffer.compare(d.stdout, plain)).toBe(0);
    });
  }

  it('none writes the archive itself; an early archive comes first, uncompressed', async () => {
    const out = path.join(work, 'rd.none');
    await writeInitramfs(tree, out, { compression: 'none' });
    expect(Buffer.compare(fs.readFileSync(out), plain)).toBe(0);
    const early = treeFromEntries([entry('/', 'dir'), entry('/kernel', 'dir'), file('/kernel/ucode.bin', new Uint8Array([1, 2, 3]))]);
    const both = path.join(work, 'rd.early');
    await writeInitramfs(tree, both, { compression: 'none', early: [early] });
    expect(readCpio(fs.readFileSync(both)).map((a) => a.entries.length)).toEqual([3, tree.entries.length]);
  });

  it('same tree, same options: same bytes (zstd on library threads, gzip)', async () => {
    for (const c of ['zstd', 'gzip'] as const) {
      const a = path.join(work, `same-a.${c}`);
      const b = path.join(work, `same-b.${c}`);
      await writeInitramfs(tree, a, { compression: c, level: 5, sourceDateEpoch: 1_600_000_000 });
      await writeInitramfs(sampleTree(), b, { compression: c, level: 5, sourceDateEpoch: 1_600_000_000 });
      expect(Buffer.compare(fs.readFileSync(a), fs.readFileSync(b))).toBe(0);
    }
  });

  it('refuses unknown compressions, bad levels, and an existing file', async () => {
    expect(() => checkCompression('lz4', undefined, '--compression')).toThrow(/--compression: unknown compression 'lz4'/);
    expect(() => checkCompression('zstd', 20, '--compression-level')).toThrow(/zstd level 20 is not supported/);
    expect(() => checkCompression('gzip', 0, '--compression-level')).toThrow(/gzip level 0/);
    expect(checkCompression('xz', undefined, 'x')).toBe(6);
    const out = path.join(work, 'exists');
    fs.writeFileSync(out, 'keep me');
    await expect(writeInitramfs(tree, out, { compression: 'none' })).rejects.toThrow(/EEXIST/);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
  });
});
