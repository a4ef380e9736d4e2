/**
 * MBR reader and writer against sfdisk (util-linux): reader vs `sfdisk --json` on sfdisk-made
 * fixtures, writer byte-equal to them, `sfdisk -V` on what we write, and diskimage-builder's
 * `partx` expectations (test_mbr.py) for primaries, one logical and 64 logicals.
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBlockDevice } from '../../src/binary/block-device.js';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { DiskImageError, FormatError, LayoutError } from '../../src/errors.js';
import { decodeChs, DIB_GEOMETRY, encodeChs, IMAGE_FILE_GEOMETRY } from '../../src/partition/chs.js';
import { readPartitionTable, writePartitionTable } from '../../src/partition/index.js';
import { readMbr, writeMbr } from '../../src/partition/mbr.js';
import type { PartitionEntry, PartitionTable } from '../../src/partition/table.js';
import {
  cleanupTmp, fixtureBytes, fixtureImage, freshImage, haveLosetup, havePartx, haveSfdisk, hexDiffRows, sfdiskJson,
} from './helpers.js';
import { mustRun, run, withLoop } from '../helpers/tools.js';

afterAll(cleanupTmp);

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

const part = (number: number, first: number, last: number, type: string, bootable = false): PartitionEntry =>
  ({ number, firstLba: BigInt(first), lastLba: BigInt(last), type, bootable });

/** The tables of fixtures/partition/make.sh, written out by hand. */
const FIXTURE_TABLES: Record<string, PartitionTable> = {
  'mbr-primaries': {
    label: 'mbr', sectorSize: 512, diskSize: 16 * MiB, diskId: '0x0badcafe',
    partitions: [part(1, 2048, 10239, '0x83', true), part(2, 10240, 14335, '0x82'), part(3, 14336, 32767, '0x0c')],
  },
  'mbr-logicals': {
    label: 'mbr', sectorSize: 512, diskSize: 16 * MiB, diskId: '0xdeadbeef',
    partitions: [
      part(1, 2048, 6143, '0x83', true), part(2, 6144, 32767, '0x0f'),
      part(5, 8192, 12287, '0x83'), part(6, 14336, 18431, '0x82'), part(7, 20480, 32767, '0x83'),
    ],
  },
};

function expectSameBytes(expected: Uint8Array, actual: Uint8Array): void {
  if (Buffer.from(expected).equals(Buffer.from(actual))) return;
  expect.fail(`bytes differ:\n${hexDiffRows(expected, actual)}`);
}

/**
 * `sfdisk -V` must exit 0, say "No errors detected" and complain about nothing, except the
 * stderr lines matching `knownNotes` (sfdisk's own limits, not problems of the table).
 */
function expectSfdiskAccepts(image: string, knownNotes: RegExp[] = []): void {
  const r = run('sfdisk', ['-V', image]);
  const complaints = r.stderr.split('\n').filter((l) => l.trim() !== '' && !knownNotes.some((n) => n.test(l)));
  expect(complaints, r.stderr).toEqual([]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/No errors detected/);
}

function partxLines(image: string): string[] {
  return mustRun('partx', ['--raw', '--output', 'NR,START,END,TYPE', '-g', '-b', '-', image]).trim().split('\n');
}

function writeImage(table: PartitionTable, name: string): string {
  const { path, dev } = freshImage(table.diskSize, name);
  try {
    writePartitionTable(dev, table);
  } finally {
    dev.close();
  }
  return path;
}

describe.skipIf(!haveSfdisk)('MBR reader against sfdisk --json', () => {
  for (const name of Object.keys(FIXTURE_TABLES)) {
    it(`reads ${name} as sfdisk does`, () => {
      const img = fixtureImage(name);
      const ref = sfdiskJson(img);
      const dev = FileBlockDevice.open(img);
      const { table, warnings } = readPartitionTable(dev);
      dev.close();
      expect(warnings).toEqual([]);
      expect(table.label).toBe('mbr');
      expect(ref.label).toBe('dos');
      expect(table.diskId).toBe(ref.id);
      expect(table.sectorSize).toBe(ref.sectorsize);
      expect(table.partitions.map((p) => ({
        nr: p.number, start: Number(p.firstLba), size: Number(p.lastLba - p.firstLba + 1n), type: parseInt(p.type, 16), boot: p.bootable,
      }))).toEqual(ref.partitions.map((p) => ({
        nr: Number(/(\d+)$/.exec(p.node)![1]), start: p.start, size: p.size, type: parseInt(p.type, 16), boot: p.bootable === true,
      })));
    });
  }
});

describe('MBR writer byte-equal to sfdisk', () => {
  for (const [name, table] of Object.entries(FIXTURE_TABLES)) {
    it(`writes the table of ${name} exactly as sfdisk did`, () => {
      const dev = new MemoryBlockDevice(table.diskSize);
      writeMbr(dev, table);
      expectSameBytes(fixtureBytes(name), dev.bytes);
    });

    it(`re-writes what it read from ${name} byte for byte`, () => {
      const ref = fixtureBytes(name);
      const { table: read } = readMbr(new MemoryBlockDevice(ref.slice()));
      const dev = new MemoryBlockDevice(ref.length);
      writeMbr(dev, read);
      expectSameBytes(ref, dev.bytes);
    });
  }

  it.skipIf(!haveSfdisk)('fills CHS past cylinder 1023 as sfdisk does (20 GiB disk)', () => {
    const size = 20 * GiB;
    const { path: refPath, dev: refDev } = freshImage(size, 'sfdisk-20g');
    refDev.close();
    mustRun('sfdisk', ['-q', refPath], { input: 'label: dos\nlabel-id: 0x20202020\nstart=2048, type=83\n' });
    const table: PartitionTable = {
      label: 'mbr', sectorSize: 512, diskSize: size, diskId: '0x20202020',
      partitions: [part(1, 2048, size / 512 - 1, '0x83')],
    };
    const ours = new MemoryBlockDevice(512);
    // Only sector 0 matters: write through a device that is 20 GiB long but keeps sector 0 in memory.
    const window = {
      size,
      readAt: (o: number, n: number) => (o + n <= 512 ? ours.readAt(o, n) : new Uint8Array(n)),
      writeAt: (o: number, d: Uint8Array) => ours.writeAt(o, d),
    };
    writeMbr(window, table);
    const ref = FileBlockDevice.open(refPath);
    expectSameBytes(ref.readAt(0, 512), ours.bytes);
    ref.close();
    expect(Array.from(ours.bytes.subarray(446 + 5, 446 + 8))).toEqual([0xfe, 0xff, 0xff]);
  });
});

describe.skipIf(!haveSfdisk)('MBR writer byte-equal to sfdisk, made in the test', () => {
  it('logicals of unaligned sizes: each EBR on the aligned sector one pad before its partition', () => {
    const { path, dev } = freshImage(64 * MiB, 'sfdisk-unaligned');
    dev.close();
    mustRun('sfdisk', ['-q', path], { input: 'label: dos\nlabel-id: 0x0000a11e\nstart=2048, type=f\nsize=3000, type=83\nsize=3000, type=83\nsize=3000, type=83\n' });
    const table: PartitionTable = {
      label: 'mbr', sectorSize: 512, diskSize: 64 * MiB, diskId: '0x0000a11e',
      partitions: [part(1, 2048, 131071, '0x0f'), part(5, 4096, 7095, '0x83'), part(6, 10240, 13239, '0x83'), part(7, 16384, 19383, '0x83')],
    };
    const ours = new MemoryBlockDevice(64 * MiB);
    writeMbr(ours, table);
    expectSameBytes(new Uint8Array(fs.readFileSync(path)), ours.bytes);
    expect(readMbr(ours).table.partitions.map((p) => p.ebrLba)).toEqual([undefined, 2048n, 8192n, 14336n]);
  });
});

describe.skipIf(!haveSfdisk || !havePartx)("diskimage-builder's MBR expectations (test_mbr.py) with partx and sfdisk -V", () => {
  const disk = (partitions: PartitionEntry[]): PartitionTable => ({ label: 'mbr', sectorSize: 512, diskSize: GiB, diskId: '0x01020304', partitions });

  it('one primary 10M partition: 1 2048 22527 0x83', () => {
    const img = writeImage(disk([part(1, 2048, 22527, '0x83')]), 'dib-primary');
    expect(partxLines(img)).toEqual(['1 2048 22527 0x83']);
    expectSfdiskAccepts(img);
  });

  it('one logical 10M partition: extended 1 2048 2097151 0xf, logical 5 4096 24575 0x83', () => {
    const img = writeImage(disk([part(1, 2048, 2097151, '0x0f'), part(5, 4096, 24575, '0x83')]), 'dib-logical');
    expect(partxLines(img)).toEqual(['1 2048 2097151 0xf', '5 4096 24575 0x83']);
    expectSfdiskAccepts(img);
  });

  it('64 logical partitions of 10M, each after its EBR and a 1 MiB pad', () => {
    const logicals = Array.from({ length: 64 }, (_, i) => part(5 + i, 4096 + 22528 * i, 4096 + 22528 * i + 20479, '0x83'));
    const img = writeImage(disk([part(1, 2048, 2097151, '0x0f'), ...logicals]), 'dib-64');
    const lines = partxLines(img);
    expect(lines).toHaveLength(65);
    expect(lines[0]).toBe('1 2048 2097151 0xf');
    logicals.forEach((p, i) => expect(lines[i + 1]).toBe(`${p.number} ${p.firstLba} ${p.lastLba} 0x83`));
    // libfdisk shows at most 60 partitions of a DOS label (its MAXIMUM_PARTS); partx reads all 64.
    expectSfdiskAccepts(img, [/^Omitting partitions after #60\. They will be deleted if you save this partition table\.$/]);
    const back = readPartitionTable(FileBlockDevice.open(img)).table;
    expect(back.partitions.map((p) => [p.number, p.firstLba, p.lastLba])).toEqual(
      [[1, 2048n, 2097151n], ...logicals.map((p) => [p.number, p.firstLba, p.lastLba])]);
  });

  it('primaries and logicals mixed, with explicit EBR sectors and a bootable logical', () => {
    const table = disk([
      part(1, 2048, 22527, '0x83', true), part(2, 22528, 43007, '0x0c'),
      part(3, 43008, 2097151, '0x0f'),
      { ...part(5, 45056, 65535, '0x83'), ebrLba: 43008n },
      { ...part(6, 69632, 90111, '0x82', true), ebrLba: 67584n },
    ]);
    const img = writeImage(table, 'dib-mixed');
    expect(partxLines(img)).toEqual([
      '1 2048 22527 0x83', '2 22528 43007 0xc', '3 43008 2097151 0xf', '5 45056 65535 0x83', '6 69632 90111 0x82',
    ]);
    expectSfdiskAccepts(img);
    const ref = sfdiskJson(img);
    expect(ref.partitions.filter((p) => p.bootable).map((p) => p.node.replace(/^.*img/, ''))).toEqual(['1', '6']);
  });
});

describe.skipIf(!haveSfdisk || !haveLosetup)('MBR with 4096-byte sectors', () => {
  it('sfdisk on a 4096-byte-sector loop device accepts it and reads the same partitions', () => {
    const table: PartitionTable = {
      label: 'mbr', sectorSize: 4096, diskSize: 64 * MiB, diskId: '0x4096a0a0',
      partitions: [part(1, 256, 2559, '0x83', true), part(2, 2560, 16383, '0x0f'), part(5, 2816, 5375, '0x82'), part(6, 5632, 16383, '0x83')],
    };
    const img = writeImage(table, 'mbr-4k');
    withLoop(img, { sectorSize: 4096 }, (loop) => {
      expectSfdiskAccepts(loop);
      const ref = sfdiskJson(loop);
      expect(ref.sectorsize).toBe(4096);
      expect(ref.partitions.map((p) => [Number(/(\d+)$/.exec(p.node)![1]), p.start, p.start + p.size - 1, parseInt(p.type, 16)]))
        .toEqual(table.partitions.map((p) => [p.number, Number(p.firstLba), Number(p.lastLba), parseInt(p.type, 16)]));
    });
    const dev = FileBlockDevice.open(img);
    expect(readMbr(dev, { sectorSize: 4096 }).table.partitions.map((p) => p.firstLba)).toEqual([256n, 2560n, 2816n, 5632n]);
    dev.close();
  });
});

describe.skipIf(!haveSfdisk)('MBR over a device that held a GPT', () => {
  it('zeroes the old GPT headers so that sfdisk sees only the MBR', () => {
    const img = fixtureImage('gpt-512');
    const dev = FileBlockDevice.open(img, 'r+');
    writeMbr(dev, FIXTURE_TABLES['mbr-primaries']!);
    dev.close();
    const r = run('sfdisk', ['-d', img]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^label: dos$/m);
    expect(sfdiskJson(img).partitions).toHaveLength(3);
    const bytes = fs.readFileSync(img);
    expect(bytes.subarray(512, 1024).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(bytes.length - 512).every((b) => b === 0)).toBe(true);
  });
});

describe('MBR boot code and CHS', () => {
  const table = FIXTURE_TABLES['mbr-primaries']!;

  it('keeps the boot code already on the device, or writes the one given', () => {
    const dev = new MemoryBlockDevice(table.diskSize);
    const code = new Uint8Array(440).map((_, i) => (i * 7 + 1) & 0xff);
    dev.writeAt(0, code);
    writeMbr(dev, table);
    expect(dev.bytes.subarray(0, 440)).toEqual(code);
    expect(readMbr(dev).bootCode).toEqual(code);
    const other = new Uint8Array([0xeb, 0x63, 0x90]);
    writeMbr(dev, table, { bootCode: other });
    expect(Array.from(dev.bytes.subarray(0, 4))).toEqual([0xeb, 0x63, 0x90, 0]);
    expect(() => writeMbr(dev, table, { bootCode: new Uint8Array(441) })).toThrow(/441 bytes; the MBR has room for 440/);
  });

  it('encodes CHS so that decoding gives the same sector back, for both geometries', () => {
    for (const g of [IMAGE_FILE_GEOMETRY, DIB_GEOMETRY]) {
      const lastAddressable = BigInt(1024 * g.heads * g.sectorsPerTrack - 1);
      for (const lba of [0n, 1n, 62n, 63n, 2048n, 22527n, 1_000_000n, lastAddressable]) {
        const { cylinder, head, sector } = decodeChs(encodeChs(lba, g));
        expect(BigInt((cylinder * g.heads + head) * g.sectorsPerTrack + sector - 1)).toBe(lba);
      }
    }
    expect(Array.from(encodeChs(16_450_560n, IMAGE_FILE_GEOMETRY))).toEqual([0xfe, 0xff, 0xff]);
    expect(Array.from(encodeChs(16_450_560n, IMAGE_FILE_GEOMETRY, 'all-ones'))).toEqual([0xff, 0xff, 0xff]);
  });
});

describe('MBR errors', () => {
  it('a device without the 55 aa signature is a FormatError that names offset 510', () => {
    const dev = new MemoryBlockDevice(MiB);
    let err: unknown;
    try {
      readPartitionTable(dev);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as DiskImageError).code).toBe('FORMAT');
    expect((err as Error).message).toMatch(/MBR Signature at offset 510 \(0x1fe\): expected 0xaa55 .* but it was 0x0000/);
    expect((err as DiskImageError).hint).toMatch(/no partition table/);
  });

  it('a broken EBR signature in the chain says which partition and where', () => {
    const ref = fixtureBytes('mbr-logicals');
    ref[12288 * 512 + 510] = 0; // the EBR of partition 6
    expect(() => readMbr(new MemoryBlockDevice(ref))).toThrow(/EBR of partition 6 Signature at offset 6291966 .*expected 0xaa55/);
  });

  const base = (partitions: PartitionEntry[]): PartitionTable => ({ label: 'mbr', sectorSize: 512, diskSize: 64 * MiB, diskId: '0x1', partitions });
  const cases: [string, PartitionTable, RegExp][] = [
    ['a logical without an extended partition', base([part(5, 4096, 8191, '0x83')]), /partition 5.*no extended partition/],
    ['two extended partitions', base([part(1, 2048, 4095, '0x0f'), part(2, 4096, 8191, '0x05')]), /2 extended partitions/],
    ['logicals numbered with a gap', base([part(1, 2048, 100000, '0x0f'), part(5, 4096, 8191, '0x83'), part(7, 10240, 12287, '0x83')]), /partition 7.*expected 6/],
    ['an EBR inside the previous logical', base([part(1, 2048, 100000, '0x0f'), part(5, 4096, 8191, '0x83'), { ...part(6, 10240, 12287, '0x83'), ebrLba: 8000n }]), /EBR at sector 8000 must lie after sector 8191/],
    ['a logical outside the extended partition', base([part(1, 2048, 10000, '0x0f'), part(5, 4096, 20000, '0x83')]), /not inside the extended partition 2048-10000/],
    ['a partition past the end of the disk', base([part(1, 2048, 200000, '0x83')]), /not inside sectors 1-131071/],
    ['a type that is not a byte', base([part(1, 2048, 4095, 'linux')]), /MBR type 'linux'/],
    ['a bad disk signature', { ...base([]), diskId: 'xyz' }, /disk signature 'xyz'/],
  ];
  for (const [what, table, message] of cases) {
    it(`rejects ${what} with a LayoutError`, () => {
      const dev = new MemoryBlockDevice(64 * MiB);
      expect(() => writeMbr(dev, table)).toThrow(LayoutError);
      expect(() => writeMbr(dev, table)).toThrow(message);
    });
  }

  it('rejects a partition beyond the 32-bit MBR fields and points to GPT', () => {
    const size = 3 * 1024 * GiB;
    const window = { size, readAt: (_o: number, n: number) => new Uint8Array(n), writeAt: () => {} };
    const table: PartitionTable = { label: 'mbr', sectorSize: 512, diskSize: size, diskId: '0x1', partitions: [part(1, 2048, size / 512 - 1, '0x83')] };
    expect(() => writeMbr(window, table)).toThrow(/do not fit the 32-bit fields/);
  });
});
