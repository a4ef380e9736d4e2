/**
 * Hostile images: at least 10,000 mutations of the reference-made images (bits flipped and
 * fields set to extremes in the MBR and EBRs, the GPT header and entries, superblocks, group
 * descriptors, inodes, extent headers and indexes in i_block, directory blocks and htree
 * nodes, indirect blocks; in a compressed qcow2 of one of them, the header, the L1 and
 * refcount tables and the L2 tables with their compressed-cluster descriptors), each read the way the commands read an image: volumes, mounts,
 * --list, the kernel choice (both files read), every directory listed, and lstat plus the first
 * 64 KiB of the first 24 entries of each.
 * Each must end in an answer or a DiskImageError (code and message) -- never another
 * exception, never more than READ_BUDGET bytes read (the bound a loop over hostile structures
 * meets; how long a probe takes is not asserted here, speed belongs to the benchmarks). Both
 * kinds of ending must occur: answers, and FORMAT errors (the checks the mutations aim at).
 * The seed is printed; FUZZ_SEED=N replays a run, FUZZ_COUNT=N changes its length.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BlockDevice } from '../../src/binary/block-device.js';
import { DiskImageError } from '../../src/errors.js';
import { assemble, findVolumes, listBootFiles, openContainer, selectKernel } from '../../src/inspect/index.js';
import { readMbr } from '../../src/partition/index.js';
import { hasTool, mustRun } from '../helpers/tools.js';
import { fixturesUnavailable, inspectFixtures } from './fixtures.js';

const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const READ_BUDGET = 1 << 30;
const BASES = ['mbr-logical', 'gpt-boot', 'bare'] as const;
const PER_DIR = 24;

/** What a damaged image may end in: a DiskImageError that is not INTERNAL (an InternalError is a broken promise of ours, a bug). */
function isDamageError(e: unknown): e is DiskImageError {
  return e instanceof DiskImageError && e.code !== 'INTERNAL';
}

/** mulberry32: a small seeded generator, so a seed replays the same run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

class BudgetExceeded extends Error {}

/** The base image with a few bytes changed (copy-on-read), counting what is read. */
class MutatedDevice implements BlockDevice {
  read = 0;
  constructor(private readonly base: Uint8Array, private readonly patches: Map<number, number>) {}
  get size(): number {
    return this.base.length;
  }
  readAt(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.base.length) {
      throw new RangeError(`read of ${length} bytes at ${offset} outside the ${this.base.length}-byte image`);
    }
    this.read += length;
    if (this.read > READ_BUDGET) throw new BudgetExceeded(`more than ${READ_BUDGET} bytes read`);
    const out = this.base.slice(offset, offset + length);
    for (const [at, v] of this.patches) if (at >= offset && at < offset + length) out[at - offset] = v;
    return out;
  }
  writeAt(): void {
    throw new Error('read-only');
  }
}

interface Region { kind: string; start: number; end: number }

/** Where the structures of a base image are, found with our readers on the intact image. */
function regions(bytes: Uint8Array): Region[] {
  const dev = new MutatedDevice(bytes, new Map());
  const out: Region[] = [];
  const layout = findVolumes(dev);
  if (layout.table?.label === 'mbr') {
    out.push({ kind: 'mbr', start: 446, end: 512 });
    for (const p of readMbr(dev).table.partitions) if (p.ebrLba !== undefined) out.push({ kind: 'ebr', start: Number(p.ebrLba) * 512 + 446, end: Number(p.ebrLba) * 512 + 512 });
  }
  if (layout.table?.label === 'gpt') {
    out.push({ kind: 'gpt-header', start: 512, end: 512 + 92 }, { kind: 'gpt-entries', start: 1024, end: 1024 + 128 * 4 });
    out.push({ kind: 'gpt-backup-header', start: bytes.length - 512, end: bytes.length - 512 + 92 });
  }
  for (const v of layout.volumes) {
    const r = v.ext;
    if (!r) continue;
    const bs = r.info.blockSize;
    out.push({ kind: 'superblock', start: v.start + 1024, end: v.start + 1024 + 0x180 });
    const gdt = v.start + (bs === 1024 ? 2 : 1) * bs;
    out.push({ kind: 'group-desc', start: gdt, end: gdt + Math.min(bs, r.info.groups * 64) });
    const walk = (p: string): void => {
      const s = r.stat(p);
      const at = v.start + r.inodeOffset(s.ino);
      out.push({ kind: 'inode', start: at, end: at + 0x80 }, { kind: 'i_block', start: at + 0x28, end: at + 0x64 });
      const runs = r.blockRuns(p);
      if (s.type === 'dir') {
        for (const run of runs) out.push({ kind: 'dir-block', start: v.start + run.physical * bs, end: v.start + (run.physical + run.length) * bs });
        for (const e of r.readdir(p)) walk(p === '/' ? `/${e.name}` : `${p}/${e.name}`);
      } else if (runs.length > 1) {
        // Between two runs of a block-mapped file sit its indirect blocks; before an extent file's runs, its extent blocks.
        for (let i = 1; i < runs.length; i++) {
          const gap = runs[i - 1]!.physical + runs[i - 1]!.length;
          if (runs[i]!.physical > gap && runs[i]!.physical - gap < 4) out.push({ kind: 'indirect-or-extent-block', start: v.start + gap * bs, end: v.start + runs[i]!.physical * bs });
        }
      }
    };
    walk('/');
  }
  return out;
}

/** Where a qcow2 file's own structures are (QEMU docs/interop/qcow2.txt: big-endian header fields). */
function qcow2Regions(b: Uint8Array): Region[] {
  const v = new DataView(b.buffer, b.byteOffset, b.length);
  const cs = 2 ** v.getUint32(20);
  const l1Size = v.getUint32(36);
  const l1At = Number(v.getBigUint64(40));
  const refAt = Number(v.getBigUint64(48));
  const out: Region[] = [
    { kind: 'qcow2-header', start: 0, end: 104 },
    { kind: 'qcow2-l1', start: l1At, end: l1At + l1Size * 8 },
    { kind: 'qcow2-refcount-table', start: refAt, end: refAt + 64 },
  ];
  for (let i = 0; i < l1Size; i++) {
    const l2 = Number(v.getBigUint64(l1At + i * 8) & 0x00fffffffffffe00n);
    if (l2) out.push({ kind: 'qcow2-l2', start: l2, end: l2 + cs });
  }
  return out;
}

/** What the commands do with an image; returns a short summary of the answer. */
function probe(file: BlockDevice): string {
  const layout = findVolumes(openContainer(file).dev);
  const asm = assemble(layout);
  const fsys = asm.fs;
  const found = listBootFiles(fsys);
  let answer = `${layout.volumes.length} volumes, ${found.kernels.length} kernels`;
  try {
    const c = selectKernel(fsys);
    const buf = new Uint8Array(1 << 20);
    for (const f of [c.kernel, c.initrd]) {
      const content = fsys.open(f.path);
      for (let at = 0; at < Math.min(content.size, 4 << 20); at += buf.length) content.readInto(at, buf);
    }
    answer += `, picks ${c.kernel.path}`;
  } catch (e) {
    if (!isDamageError(e)) throw e;
    answer += `, no pick (${e.code})`;
  }
  let entries = 0;
  const seen = new Set<string>(); // as disk-image-ls -R: each directory once (a damaged image may loop)
  const visit = (p: string, depth: number): void => {
    if (++entries > 5000 || depth > 64) return;
    let s;
    try {
      s = fsys.lstat(p);
      if (s.type === 'file') fsys.open(p).read(0, Math.min(s.size, 64 << 10));
      if (s.type !== 'dir') return;
      const key = `${s.mount.point}:${s.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
      // Every directory block is parsed; the first PER_DIR entries of each are looked at closer.
      for (const e of fsys.readdir(p).slice(0, PER_DIR)) visit(p === '/' ? `/${e.name}` : `${p}/${e.name}`, depth + 1);
    } catch (e) {
      if (!isDamageError(e)) throw e;
    }
  };
  visit('/', 0);
  return `${answer}, ${entries} entries`;
}

const EXTREMES = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff];

function mutate(next: () => number, bytes: Uint8Array, rs: Region[]): { patches: Map<number, number>; what: string[] } {
  const patches = new Map<number, number>();
  const what: string[] = [];
  const n = 1 + Math.floor(next() * 3);
  // A kind of structure first (each as likely), then one of its instances.
  const kinds = [...new Set(rs.map((r) => r.kind))];
  for (let k = 0; k < n; k++) {
    const kind0 = kinds[Math.floor(next() * kinds.length)]!;
    const of = rs.filter((r) => r.kind === kind0);
    const r = of[Math.floor(next() * of.length)]!;
    const span = r.end - r.start;
    const kind = next();
    if (kind < 0.45) {
      const at = r.start + Math.floor(next() * span);
      const bit = Math.floor(next() * 8);
      patches.set(at, (patches.get(at) ?? bytes[at]!) ^ (1 << bit));
      what.push(`${r.kind}: bit ${bit} of byte ${at}`);
    } else {
      const width = kind < 0.75 ? 4 : kind < 0.9 ? 2 : 1;
      const at = r.start + Math.floor((next() * Math.max(1, span - width)) / width) * width;
      const value = next() < 0.8 ? EXTREMES[Math.floor(next() * EXTREMES.length)]! : Math.floor(next() * 2 ** 32);
      for (let i = 0; i < width; i++) patches.set(at + i, (value >>> (8 * i)) & 0xff);
      what.push(`${r.kind}: u${width * 8} at ${at} = 0x${(width === 4 ? value >>> 0 : value & ((1 << (8 * width)) - 1)).toString(16)}`);
    }
  }
  return { patches, what };
}

const why = fixturesUnavailable() ?? (!hasTool('qemu-img') ? 'qemu-img is not installed (qemu-utils)' : undefined);

describe.skipIf(why !== undefined)(`fuzz: mutated reference images (${why ?? `seed ${SEED}`})`, () => {
  const bases: Array<{ name: string; bytes: Uint8Array; regions: Region[] }> = [];
  beforeAll(() => {
    const dir = inspectFixtures();
    for (const name of BASES) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(dir, `${name}.img`)));
      bases.push({ name, bytes, regions: regions(bytes) });
    }
    // A compressed qcow2 of one of them: its own structures are the targets.
    const q = path.join(os.tmpdir(), `dit-fuzz-${process.pid}.qcow2`);
    mustRun('qemu-img', ['convert', '-c', '-O', 'qcow2', path.join(dir, 'mbr-logical.img'), q]);
    const qbytes = new Uint8Array(fs.readFileSync(q));
    fs.rmSync(q, { force: true });
    bases.push({ name: 'mbr-logical.c.qcow2', bytes: qbytes, regions: qcow2Regions(qbytes) });
  }, 120_000);

  it(`${COUNT} mutated images each end in an answer or a DiskImageError, within the read budget`, () => {
    // eslint-disable-next-line no-console
    console.log(`fuzz seed ${SEED}: replay with FUZZ_SEED=${SEED} npx vitest run test/inspect/fuzz.test.ts`);
    for (const b of bases) expect(probe(new MutatedDevice(b.bytes, new Map())), b.name).toMatch(/picks \/boot\//);
    const next = rng(SEED);
    const outcomes = new Map<string, number>();
    let mostRead = 0;
    let mostReadWhat = '';
    for (let i = 0; i < COUNT; i++) {
      const base = bases[i % bases.length]!;
      const { patches, what } = mutate(next, base.bytes, base.regions);
      const dev = new MutatedDevice(base.bytes, patches);
      let outcome: string;
      try {
        probe(dev);
        outcome = 'answer';
      } catch (e) {
        if (!isDamageError(e) || e.message.length < 10) {
          throw new Error(`seed ${SEED}, image ${i} (${base.name}; ${what.join('; ')}): ${e instanceof Error ? e.stack : String(e)}`);
        }
        outcome = e.code;
      }
      if (dev.read > mostRead) {
        mostRead = dev.read;
        mostReadWhat = `image ${i} (${base.name}; ${what.join('; ')})`;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // eslint-disable-next-line no-console
    console.log(`fuzz seed ${SEED}: ${COUNT} images, ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; most read ${mostRead} bytes: ${mostReadWhat}`);
    expect(outcomes.get('answer') ?? 0, 'images answered').toBeGreaterThan(0);
    expect(outcomes.get('FORMAT') ?? 0, 'images refused with a FormatError').toBeGreaterThan(0);
  }, 900_000);
});
