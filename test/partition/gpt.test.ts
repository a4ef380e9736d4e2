/**
 * GPT reader and writer against sgdisk and sfdisk: reader vs `sfdisk --json` on fixtures made
 * by both tools (512- and 4096-byte sectors), writer byte-equal to them, `sgdisk -v` and
 * `sfdisk -V` on what we write, a damaged primary header read from the backup with a warning,
 * and errors for tables that cannot be read.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type BlockDevice, MemoryBlockDevice } from '../../src/binary/block-device.js';
import { FileBlockDevice } from '../../src/binary/file-device.js';
import { DiskImageError, FormatError, LayoutError } from '../../src/errors.js';
import { readGpt, writeGpt, type GptWriteOptions } from '../../src/partition/gpt.js';
import { GPT_ATTR } from '../../src/partition/gpt-types.js';
import { readPartitionTable, writePartitionTable } from '../../src/partition/index.js';
import type { PartitionEntry, PartitionTable } from '../../src/partition/table.js';
import {
  cleanupTmp, fixtureBytes, fixtureImage, freshImage, haveLosetup, haveSfdisk, haveSgdisk, hexDiffRows, sfdiskJson,
} from './helpers.js';
import { mustRun, run, withLoop } from '../helpers/tools.js';

afterAll(cleanupTmp);

const MiB = 1024 * 1024;

const gp = (number: number, first: number, last: number, type: string, guid: string, name: string, attributes = 0n): PartitionEntry => ({
  number, firstLba: BigInt(first), lastLba: BigInt(last), type, guid, name, attributes,
  bootable: (attributes & GPT_ATTR.LEGACY_BIOS_BOOTABLE) !== 0n,
});

interface Fixture {
  table: PartitionTable;
  opts: GptWriteOptions;
}

/** The tables of fixtures/partition/make.sh, written out by hand (types by sgdisk code, name or GUID). */
const FIXTURES: Record<string, Fixture> = {
  'gpt-512': {
    opts: {},
    table: {
      label: 'gpt', sectorSize: 512, diskSize: 16 * MiB, diskId: '5b1c3a1e-7d11-4c0e-9d0a-1f2e3d4c5b6a',
      partitions: [
        gp(1, 2048, 4095, 'EF02', '0c6f1e6a-1a2b-4c3d-8e4f-000000000001', 'BSP', GPT_ATTR.REQUIRED),
        gp(2, 4096, 12287, 'esp', '0c6f1e6a-1a2b-4c3d-8e4f-000000000002', 'ESP', GPT_ATTR.NO_AUTOMOUNT),
        gp(3, 12288, 32734, 'root-x86-64', '0c6f1e6a-1a2b-4c3d-8e4f-000000000003', 'root', GPT_ATTR.LEGACY_BIOS_BOOTABLE),
      ],
    },
  },
  'gpt-4096': {
    opts: {},
    table: {
      label: 'gpt', sectorSize: 4096, diskSize: 16 * MiB, diskId: '7e57d15c-4096-4b00-8000-000000000000',
      partitions: [
        gp(1, 256, 1279, 'EF00', '7e57d15c-4096-4b00-8000-000000000001', 'ESP'),
        gp(2, 1280, 4090, '8300', '7e57d15c-4096-4b00-8000-000000000002', 'root'),
      ],
    },
  },
  'gpt-sfdisk': {
    opts: { firstUsableLba: 2048n, protectiveChs: 'all-ones' },
    table: {
      label: 'gpt', sectorSize: 512, diskSize: 16 * MiB, diskId: '5fd15c00-0000-4000-8000-000000000000',
      partitions: [
        gp(1, 2048, 10239, '0fc63daf-8483-4772-8e79-3d69d8477de4', '5fd15c00-0000-4000-8000-000000000001', 'data one'),
        gp(2, 10240, 30719, 'swap', '5fd15c00-0000-4000-8000-000000000002', 'swap', GPT_ATTR.REQUIRED),
      ],
    },
  },
};

function expectSameBytes(expected: Uint8Array, actual: Uint8Array): void {
  if (Buffer.from(expected).equals(Buffer.from(actual))) return;
  expect.fail(`bytes differ:\n${hexDiffRows(expected, actual)}`);
}

/** sfdisk's spelling of GPT attribute bits (util-linux gpt.c): names for bits 0-2, GUID:n for 48-63. */
function sfdiskAttrs(bits: bigint): string | undefined {
  const names: string[] = [];
  if (bits & 1n) names.push('RequiredPartition');
  if (bits & 2n) names.push('NoBlockIOProtocol');
  if (bits & 4n) names.push('LegacyBIOSBootable');
  const guidBits: string[] = [];
  for (let b = 48n; b < 64n; b++) if (bits & (1n << b)) guidBits.push(String(b));
  if (guidBits.length) names.push(`GUID:${guidBits.join(',')}`);
  return names.length ? names.join(' ') : undefined;
}

/** sgdisk -v on an image (or block device) must find no problems and no damage. */
function expectSgdiskAccepts(target: string): void {
  const r = run('sgdisk', ['-v', target]);
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toMatch(/No problems found/);
  expect(r.stdout + r.stderr).not.toMatch(/ERROR|corrupt|invalid|Creating new GPT|mismatch/i);
}

function expectSfdiskAccepts(target: string): void {
  const r = run('sfdisk', ['-V', target]);
  expect(r.stderr, r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/No errors detected/);
}

function readerMatchesSfdisk(target: string, dev: BlockDevice): void {
  const ref = sfdiskJson(target);
  const got = readPartitionTable(dev);
  expect(got.warnings).toEqual([]);
  expect(ref.label).toBe('gpt');
  expect(got.table.label).toBe('gpt');
  expect(got.table.sectorSize).toBe(ref.sectorsize);
  expect(got.table.diskId).toBe(ref.id.toLowerCase());
  const gpt = readGpt(dev);
  expect([Number(gpt.firstUsableLba), Number(gpt.lastUsableLba)]).toEqual([ref.firstlba, ref.lastlba]);
  expect(got.table.partitions.map((p) => ({
    nr: p.number, start: Number(p.firstLba), size: Number(p.lastLba - p.firstLba + 1n),
    type: p.type, uuid: p.guid, name: p.name, attrs: sfdiskAttrs(p.attributes ?? 0n),
  }))).toEqual(ref.partitions.map((p) => ({
    nr: Number(/(\d+)$/.exec(p.node)![1]), start: p.start, size: p.size,
    type: p.type.toLowerCase(), uuid: p.uuid!.toLowerCase(), name: p.name ?? '', attrs: p.attrs,
  })));
}

describe.skipIf(!haveSfdisk)('GPT reader against sfdisk --json', () => {
  for (const name of ['gpt-512', 'gpt-sfdisk']) {
    it(`reads ${name} as sfdisk does`, () => {
      const img = fixtureImage(name);
      const dev = FileBlockDevice.open(img);
      try {
        readerMatchesSfdisk(img, dev);
      } finally {
        dev.close();
      }
    });
  }

  it.skipIf(!haveLosetup)('reads gpt-4096 as sfdisk does on a 4096-byte-sector loop device', () => {
    const img = fixtureImage('gpt-4096');
    const dev = FileBlockDevice.open(img);
    try {
      withLoop(img, { sectorSize: 4096 }, (loop) => readerMatchesSfdisk(loop, dev));
    } finally {
      dev.close();
    }
  });
});

describe('GPT writer byte-equal to sgdisk and sfdisk', () => {
  for (const [name, { table, opts }] of Object.entries(FIXTURES)) {
    it(`writes the table of ${name} exactly as the tool did`, () => {
      const dev = new MemoryBlockDevice(table.diskSize);
      writePartitionTable(dev, table, opts);
      expectSameBytes(fixtureBytes(name), dev.bytes);
    });

    it(`re-writes what it read from ${name} byte for byte`, () => {
      const ref = fixtureBytes(name);
      const read = readGpt(new MemoryBlockDevice(ref.slice()));
      const dev = new MemoryBlockDevice(ref.length);
      writeGpt(dev, read.table, { ...opts, firstUsableLba: read.firstUsableLba });
      expectSameBytes(ref, dev.bytes);
    });
  }

  it.skipIf(!haveSgdisk)('matches sgdisk on a 3 TiB disk (protective MBR size and CHS saturate)', () => {
    const size = 3 * 1024 * 1024 * MiB;
    const { path, dev: refDev } = freshImage(size, 'sgdisk-3t');
    refDev.close();
    const diskId = '3e3e3e3e-0000-4000-8000-000000000000';
    mustRun('sgdisk', ['-o', '-U', diskId, '-n', '1:0:+1G', '-t', '1:8300', '-u', '1:3e3e3e3e-0000-4000-8000-000000000001', '-c', '1:big', path]);
    // Our table goes to a device that keeps only what is written, sector by sector.
    const sectors = new Map<number, Uint8Array>();
    const sparse: BlockDevice = {
      size,
      readAt: (_o, n) => new Uint8Array(n),
      writeAt: (o, d) => { for (let i = 0; i < d.length; i += 512) sectors.set(o + i, d.slice(i, i + 512)); },
    };
    writeGpt(sparse, {
      label: 'gpt', sectorSize: 512, diskSize: size, diskId,
      partitions: [gp(1, 2048, 2048 + 2 * 1024 * 1024 - 1, '8300', '3e3e3e3e-0000-4000-8000-000000000001', 'big')],
    });
    const ref = FileBlockDevice.open(path);
    try {
      const last = size - 512;
      const regions = [[0, 34 * 512], [last - 32 * 512, 33 * 512]] as const;
      for (const [start, len] of regions) {
        const ours = new Uint8Array(len);
        for (let o = 0; o < len; o += 512) ours.set(sectors.get(start + o) ?? new Uint8Array(512), o);
        expectSameBytes(ref.readAt(start, len), ours);
      }
      expect(Array.from(ref.readAt(446, 16).subarray(5, 16))).toEqual([0xff, 0xff, 0xff, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    } finally {
      ref.close();
    }
  });
});

describe.skipIf(!haveSgdisk || !haveSfdisk)('sgdisk -v and sfdisk -V accept what we write', () => {
  it('a full 128-entry table with names, attributes and every known type', () => {
    const types = ['8300', 'EF00', 'EF02', '8200', '8E00', 'FD00', '4100', '8303', '8304', '8305', '8302', '8306', '8310', '8311', 'EA00', '0700'];
    const partitions = Array.from({ length: 128 }, (_, i) =>
      gp(i + 1, 2048 + i * 2048, 2048 + i * 2048 + 2047, types[i % types.length]!,
        `00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`, `part ${i + 1} é`, i % 3 === 0 ? GPT_ATTR.LEGACY_BIOS_BOOTABLE : 0n));
    const table: PartitionTable = { label: 'gpt', sectorSize: 512, diskSize: 300 * MiB, diskId: '12121212-3434-4565-8787-909090909090', partitions };
    const { path, dev } = freshImage(table.diskSize, 'gpt-128');
    writePartitionTable(dev, table);
    dev.close();
    expectSgdiskAccepts(path);
    expectSfdiskAccepts(path);
    const ref = sfdiskJson(path);
    expect(ref.partitions).toHaveLength(128);
    expect(ref.partitions[127]!.name).toBe('part 128 é');
  });

  it.skipIf(!haveLosetup)('a 4096-byte-sector table, checked on a 4096-byte-sector loop device', () => {
    const table: PartitionTable = {
      label: 'gpt', sectorSize: 4096, diskSize: 64 * MiB, diskId: '44444444-0960-4000-8000-000000000000',
      partitions: [
        gp(1, 256, 511, 'bios-boot', '44444444-0960-4000-8000-000000000001', 'BSP'),
        gp(2, 512, 16378, 'root-arm64', '44444444-0960-4000-8000-000000000002', 'root', GPT_ATTR.LEGACY_BIOS_BOOTABLE),
      ],
    };
    const { path, dev } = freshImage(table.diskSize, 'gpt-4k');
    writePartitionTable(dev, table);
    dev.close();
    withLoop(path, { sectorSize: 4096 }, (loop) => {
      expectSgdiskAccepts(loop);
      expectSfdiskAccepts(loop);
      const ref = sfdiskJson(loop);
      expect([ref.sectorsize, ref.firstlba, ref.lastlba]).toEqual([4096, 6, 16378]);
    });
  });
});

describe('GPT damage', () => {
  it.skipIf(!haveSgdisk)('a damaged primary header: sgdisk sees it too, we read the backup and say so', () => {
    const img = fixtureImage('gpt-damaged-primary');
    const sg = run('sgdisk', ['-v', img]);
    expect(sg.stdout + sg.stderr).toMatch(/Invalid CRC on main header data; loaded backup partition table/);
    const dev = FileBlockDevice.open(img);
    const got = readPartitionTable(dev);
    dev.close();
    expect(got.warnings).toHaveLength(1);
    expect(got.warnings[0]).toMatch(/primary GPT header \(LBA 1\) HeaderCRC32 at offset 528: expected 0x[0-9a-f]{8} but it was 0x[0-9a-f]{8}; the backup GPT header at LBA 32767 is used/);
    const good = readGpt(new MemoryBlockDevice(fixtureBytes('gpt-512')));
    expect(got.table).toEqual(good.table);
  });

  it('a damaged backup: the primary is used, with a warning', () => {
    const bytes = fixtureBytes('gpt-512');
    bytes[bytes.length - 512] = 0x46; // 'E' of the backup's "EFI PART" becomes 'F'
    const got = readGpt(new MemoryBlockDevice(bytes));
    expect(got.source).toBe('primary');
    expect(got.warnings).toEqual([expect.stringMatching(/backup GPT header \(LBA 32767\) Signature at offset 16776704: expected 'EFI PART' but it was "FFI PART"; the primary GPT is used/)]);
  });

  it('bad header CRCs in both headers: a FormatError naming the primary and the backup', () => {
    const bytes = fixtureBytes('gpt-damaged-primary');
    bytes[bytes.length - 512 + 0x30] = bytes[bytes.length - 512 + 0x30]! ^ 1; // backup LastUsableLBA
    let err: unknown;
    try {
      readPartitionTable(new MemoryBlockDevice(bytes));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as DiskImageError).code).toBe('FORMAT');
    expect((err as Error).message).toMatch(/^primary GPT header \(LBA 1\) HeaderCRC32 at offset 528 \(0x210\): expected 0x/);
    expect((err as DiskImageError).hint).toMatch(/backup is no better: backup GPT header \(LBA 32767\) HeaderCRC32 at offset 16776720/);
  });

  it('a damaged entry array in both copies: names the entry-array CRC', () => {
    const bytes = fixtureBytes('gpt-512');
    bytes[2 * 512 + 0x38] = bytes[2 * 512 + 0x38]! ^ 1; // first entry's name, primary array
    bytes[bytes.length - 33 * 512 + 0x38] = bytes[bytes.length - 33 * 512 + 0x38]! ^ 1; // and in the backup array
    expect(() => readGpt(new MemoryBlockDevice(bytes))).toThrow(/PartitionEntryArrayCRC32 at offset 600 \(0x258\)/);
  });

  it('a GPT whose protective MBR was wiped is still found, with a warning', () => {
    const bytes = fixtureBytes('gpt-4096');
    bytes.fill(0, 0, 512);
    const got = readPartitionTable(new MemoryBlockDevice(bytes));
    expect(got.warnings).toEqual(['sector 0 has no protective MBR; the GPT was found without it']);
    expect(got.table).toEqual(readGpt(new MemoryBlockDevice(fixtureBytes('gpt-4096'))).table);
    expect(got.table.sectorSize).toBe(4096);
  });

  it('a protective MBR with no GPT behind it: no EFI PART signature', () => {
    const bytes = fixtureBytes('gpt-512');
    bytes.fill(0, 512, 34 * 512);
    bytes.fill(0, bytes.length - 33 * 512);
    expect(() => readPartitionTable(new MemoryBlockDevice(bytes))).toThrow(/Signature at offset 512 \(0x200\): expected 'EFI PART' but it was/);
  });
});

describe('GPT layout errors', () => {
  const base = FIXTURES['gpt-512']!.table;
  const withParts = (partitions: PartitionEntry[]): PartitionTable => ({ ...base, partitions });
  const p = (n: number, first: number, last: number, extra: Partial<PartitionEntry> = {}) =>
    ({ ...gp(n, first, last, '8300', `00000000-0000-4000-8000-00000000000${n}`, `p${n}`), ...extra });
  const cases: [string, PartitionTable, RegExp][] = [
    ['overlapping partitions', withParts([p(1, 2048, 8191), p(2, 8000, 9000)]), /partition 2.*overlap partition 1/],
    ['a partition before the first usable sector', withParts([p(1, 33, 8191)]), /not inside the usable sectors 34-32734/],
    ['a partition over the backup array', withParts([p(1, 2048, 32735)]), /not inside the usable sectors 34-32734/],
    ['a missing partition GUID', withParts([p(1, 2048, 4095, { guid: undefined })]), /needs a unique partition GUID/],
    ['a name over 36 UTF-16 units', withParts([p(1, 2048, 4095, { name: 'x'.repeat(37) })]), /37 UTF-16 units/],
    ['an unknown type', withParts([p(1, 2048, 4095, { type: 'ext4' })]), /GPT partition type 'ext4'/],
    ['a number past the entry array', withParts([p(1, 2048, 4095, { number: 129 })]), /number must be 1-128/],
    ['a disk GUID that is not a GUID', { ...withParts([]), diskId: '0x1234' }, /disk GUID '0x1234'/],
  ];
  for (const [what, table, message] of cases) {
    it(`rejects ${what}`, () => {
      const dev = new MemoryBlockDevice(16 * MiB);
      expect(() => writeGpt(dev, table)).toThrow(LayoutError);
      expect(() => writeGpt(dev, table)).toThrow(message);
    });
  }
});
