/**
 * Layout planning: DIB's MBR unit expectations, GPT placement checked against sgdisk given
 * DIB's exact argv, usable-sector bounds for 512 and 4096-byte sectors from sgdisk, the root
 * filesystem parameters, fstab and mount order, seeds, minimum sizes, and planning errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadLayout, minimumDiskSize, parseLayout, planLayout, LayoutDoesNotFitError, type LayoutPlan } from '../../src/layout/plan.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SHIPPED_DOCUMENTS, SHIPPED_LAYOUTS } from '../../src/layout/shipped/index.js';
import { hasTool, withLoop } from '../helpers/tools.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const isRoot = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), 'plan-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mbr = (parts: string, align = '') => parseLayout(`
- local_loop: {name: image0}
- partitioning:
    base: image0
    label: mbr
${align}    partitions:
${parts}`);
const rows = (plan: LayoutPlan) => plan.partitions.map((p) => `${p.number} ${p.firstLba} ${p.lastLba} ${p.typeCode}`);

describe('MBR as DIB lays it out (test_mbr.py expectations)', () => {
  it('one primary 10 MiB partition on a 1 GiB disk', () => {
    expect(rows(planLayout(mbr('      - {name: p, flags: [primary], size: 10MiB}'), { diskSize: GiB }))).toEqual(['1 2048 22527 0x83']);
  });
  it('one logical 10 MiB partition: an extended partition over the rest of the disk', () => {
    expect(rows(planLayout(mbr('      - {name: l, size: 10MiB}'), { diskSize: GiB }))).toEqual(['1 2048 2097151 0x0f', '5 4096 24575 0x83']);
  });
  it('64 logical partitions step 22528 sectors each', () => {
    const parts = Array.from({ length: 64 }, (_, i) => `      - {name: l${i}, size: 10MiB}`).join('\n');
    const plan = planLayout(mbr(parts), { diskSize: GiB });
    expect(plan.partitions).toHaveLength(65);
    plan.partitions.slice(1).forEach((p, i) => {
      expect(p.number).toBe(5 + i);
      expect(p.firstLba).toBe(BigInt(4096 + 22528 * i));
      expect(p.lastLba).toBe(BigInt(4096 + 22528 * i + 20479));
    });
  });
  it('primaries then logicals, boot flag only on the flagged one, % of the remaining space', () => {
    const plan = planLayout(mbr(`      - {name: a, flags: [boot, primary], size: 10MiB}
      - {name: b, flags: [primary], size: 10MiB}
      - {name: c, size: 10MiB, type: '0x82'}
      - {name: d, size: 100%}`), { diskSize: GiB });
    expect(rows(plan)).toEqual(['1 2048 22527 0x83', '2 22528 43007 0x83', '3 43008 2097151 0x0f', '5 45056 65535 0x82', '6 67584 2097151 0x83']);
    expect(plan.table!.partitions.map((p) => p.bootable)).toEqual([true, false, false, false, false]);
  });
  it('honours a custom alignment', () => {
    const plan = planLayout(mbr('      - {name: a, flags: [primary], size: 1MiB}\n      - {name: b, flags: [primary], size: 1MiB}', '    align: 4MiB\n'), { diskSize: GiB });
    expect(rows(plan)).toEqual(['1 8192 10239 0x83', '2 16384 18431 0x83']);
  });
});

/** The sgdisk argv DIB's partitioning.py builds for a layout: sizes in whole MiB of (disk - 2 MiB) less earlier sizes. */
function dibSgdiskArgs(parts: Array<{ name: string; type: string; size: string }>, diskSize: number): string[] {
  let free = diskSize - 2 * MiB;
  const args: string[] = [];
  parts.forEach((p, i) => {
    const bytes = p.size.endsWith('%') ? Math.trunc((free * Number(p.size.slice(0, -1))) / 100) : Number(p.size.replace('MiB', '')) * MiB;
    args.push('-n', `${i + 1}:0:+${Math.floor(bytes / MiB)}M`, '-t', `${i + 1}:${p.type}`, '-c', `${i + 1}:${p.name}`);
    free -= bytes;
  });
  return args;
}

function partxRows(file: string): string[] {
  return execFileSync('partx', ['--raw', '--output', 'NR,START,END', '-g', '-b', '-', file], { encoding: 'utf8' }).trim().split('\n');
}

/** The partitions of a shipped layout as DIB's sgdisk argv needs them (DIB's default GPT type is 8300). */
function shippedParts(name: string): Array<{ name: string; type: string; size: string }> {
  const doc = parseYaml(SHIPPED_LAYOUTS[name]!) as Array<{ partitioning?: { partitions: Array<{ name: string; type?: string; size: string }> } }>;
  return doc.find((n) => n.partitioning)!.partitioning!.partitions.map((p) => ({ name: p.name, type: p.type ?? '8300', size: p.size }));
}

describe.skipIf(!hasTool('sgdisk') || !hasTool('partx'))('GPT placement agrees with sgdisk given DIB\'s argv', () => {
  const layouts: Array<[string, Array<{ name: string; type: string; size: string }>]> = [
    ['efi', shippedParts('efi')],
    ['gpt', shippedParts('gpt')],
    ['percent', [{ name: 'a', type: '8300', size: '30%' }, { name: 'b', type: '8200', size: '7MiB' }, { name: 'c', type: '8300', size: '50%' }, { name: 'd', type: '8300', size: '100%' }]],
  ];
  for (const [name, parts] of layouts) {
    for (const diskSize of [GiB, 3 * GiB + 512 * 1024 + 512 * 3, 700 * MiB]) {
      it(`${name} on ${diskSize} bytes`, () => {
        const yaml = name === 'percent'
          ? `- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: gpt\n    partitions:\n${parts.map((p) => `      - {name: ${p.name}, type: '${p.type}', size: '${p.size}'}`).join('\n')}`
          : name;
        const plan = planLayout(loadLayout(yaml), { diskSize, seed: 'x' });
        const file = join(work, `${name}-${diskSize}.img`);
        writeFileSync(file, '');
        truncateSync(file, diskSize);
        execFileSync('sgdisk', [file, ...dibSgdiskArgs(parts, diskSize)], { stdio: 'pipe' });
        expect(plan.partitions.map((p) => `${p.number} ${p.firstLba} ${p.lastLba}`)).toEqual(partxRows(file));
        const printed = execFileSync('sgdisk', ['-p', file], { encoding: 'utf8' });
        const m = /First usable sector is (\d+), last usable sector is (\d+)/.exec(printed)!;
        const last = plan.partitions.at(-1)!;
        expect(last.lastLba <= BigInt(m[2]!)).toBe(true);
        expect(plan.partitions[0]!.firstLba >= BigInt(m[1]!)).toBe(true);
        rmSync(file);
      });
    }
  }
});

describe('GPT usable sectors at the edges', () => {
  it('a partition may end exactly at the last usable sector (512: total - 34), not one later', () => {
    const yaml = (mib: number) => `- local_loop: {name: image0}\n- partitioning: {base: image0, label: gpt, align: 512, partitions: [{name: a, size: ${mib}}]}`;
    const diskSize = 64 * MiB;
    const total = diskSize / 512;
    const fits = (total - 34 - 34 + 1) * 512;
    // DIB's 2 MiB reserve caps % sizes; absolute sizes may use every usable sector.
    expect(planLayout(parseLayout(yaml(fits)), { diskSize }).partitions[0]!.lastLba).toBe(BigInt(total - 34));
    expect(() => planLayout(parseLayout(yaml(fits + 512)), { diskSize })).toThrow(LayoutDoesNotFitError);
  });

  it.skipIf(!isRoot || !hasTool('sgdisk') || !hasTool('losetup'))('4096-byte sectors: usable 6 .. total-6, as sgdisk says on a 4K loop device', () => {
    const diskSize = 64 * MiB;
    const plan = planLayout(parseLayout('- local_loop: {name: image0, block_size: 4096}\n- partitioning: {base: image0, label: gpt, partitions: [{name: a, size: 100%}]}'), { diskSize });
    const file = join(work, 'four-k.img');
    writeFileSync(file, '');
    truncateSync(file, diskSize);
    withLoop(file, { sectorSize: 4096, readOnly: false }, (loop) => {
      execFileSync('sgdisk', ['-o', loop], { stdio: 'pipe' });
      const printed = execFileSync('sgdisk', ['-p', loop], { encoding: 'utf8' });
      const m = /First usable sector is (\d+), last usable sector is (\d+)/.exec(printed)!;
      expect([Number(m[1]), Number(m[2])]).toEqual([6, diskSize / 4096 - 6]);
      expect(plan.sectorSize).toBe(4096);
      // 1 MiB alignment = 256 sectors; 100% of (64 - 2) MiB.
      expect([plan.partitions[0]!.firstLba, plan.partitions[0]!.lastLba]).toEqual([256n, 256n + 62n * 256n - 1n]);
      expect(plan.partitions[0]!.lastLba <= BigInt(m[2]!)).toBe(true);
    });
  });
});

describe('filesystems, mount order and fstab', () => {
  it('shipped efi layout: labels, offsets, fstab lines in mount order', () => {
    const plan = planLayout(loadLayout('efi'), { diskSize: 2 * GiB, seed: 'a' });
    expect(plan.filesystems.map((f) => [f.node, f.type, f.label, f.partitionNumber, f.offset, f.size, f.mountPoint])).toEqual([
      ['mkfs_ESP', 'vfat', 'MKFS_ESP', 1, MiB, 550 * MiB, '/boot/efi'],
      ['mkfs_root', 'ext4', 'cloudimg-rootfs', 3, 559 * MiB, (2048 - 2 - 558) * MiB, '/'],
    ]);
    expect(plan.mountOrder).toEqual(['/', '/boot/efi']);
    expect(plan.fstab).toBe('LABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=MKFS_ESP /boot/efi vfat defaults 0 2\n');
    expect(plan.partitions.map((p) => [p.name, p.typeCode, p.type])).toEqual([
      ['ESP', 'EF00', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'],
      ['BSP', 'EF02', '21686148-6449-6e6f-744e-656564454649'],
      ['root', '8300', '0fc63daf-8483-4772-8e79-3d69d8477de4'],
    ]);
    expect(plan.table!.partitions.map((p) => p.name)).toEqual(['ESP', 'BSP', 'root']);
  });

  it('mount order sorts mount points; swap is "none ... sw 0 0"; vfat labels upper-case', () => {
    const text = readFileSync(new URL('../../fixtures/layouts/multiple_partitions_tree.yaml', import.meta.url), 'utf8');
    const plan = planLayout(parseLayout(text), { diskSize: 4 * GiB, seed: 'm' });
    expect(plan.mountOrder).toEqual(['/', '/var', '/var/log', 'none']);
    expect(plan.fstab).toBe([
      'LABEL=cloudimg-rootfs / ext4 defaults 0 1',
      'LABEL=var /var ext4 defaults 0 2',
      'LABEL=VARLOG /var/log vfat defaults,noexec 0 2',
      'LABEL=swap none swap sw 0 0', ''].join('\n'));
    expect(plan.partitions.map((p) => p.number)).toEqual([1, 2, 3, 5, 6]);
  });

  it('mkfs_root takes type, options and label from the build options; xfs defaults to img-rootfs', () => {
    const c = loadLayout('mbr');
    expect(planLayout(c, { diskSize: GiB }).filesystems[0]).toMatchObject({ type: 'ext4', label: 'cloudimg-rootfs', opts: [] });
    expect(planLayout(c, { diskSize: GiB, rootFsType: 'xfs' }).filesystems[0]).toMatchObject({ type: 'xfs', label: 'img-rootfs' });
    expect(planLayout(c, { diskSize: GiB, rootLabel: 'myroot', rootFsOpts: ['-O', '^metadata_csum'] }).filesystems[0])
      .toMatchObject({ label: 'myroot', opts: ['-O', '^metadata_csum'] });
    // The layout's own settings win over the build options (DIB merges only missing keys).
    const own = parseLayout('- local_loop: {name: image0, mkfs: {name: mkfs_root, type: ext3, label: mine, opts: "-j"}}');
    expect(planLayout(own, { diskSize: GiB, rootFsType: 'ext4', rootLabel: 'x' }).filesystems[0]).toMatchObject({ type: 'ext3', label: 'mine', opts: ['-j'] });
  });

  it('GPT types by sgdisk code, 0x-code, name or GUID', () => {
    const plan = planLayout(parseLayout(`- local_loop: {name: image0}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: a, size: 1MiB, type: esp}
      - {name: b, size: 1MiB, type: '0x4100'}
      - {name: c, size: 1MiB, type: 0657FD6D-A4AB-43C4-84E5-0933C84B4F4F}
      - {name: d, size: 1MiB, type: bios-boot}`), { diskSize: 64 * MiB });
    expect(plan.partitions.map((p) => [p.typeCode, p.type])).toEqual([
      ['EF00', 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b'], ['4100', '9e1a2d38-c612-4316-aa26-8b49521e5a8b'],
      ['8200', '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f'], ['EF02', '21686148-6449-6e6f-744e-656564454649']]);
  });

  it('bare layout: one filesystem over the whole image, no table', () => {
    const plan = planLayout(loadLayout('bare'), { diskSize: 100 * MiB });
    expect(plan.table).toBeNull();
    expect(plan.filesystems).toMatchObject([{ node: 'mkfs_root', offset: 0, size: 100 * MiB, mountPoint: '/' }]);
    expect(plan.partitions).toEqual([]);
  });
});

describe('GUIDs and UUIDs', () => {
  it('a seed makes them reproducible, distinct per purpose; no seed makes them random', () => {
    const a = planLayout(loadLayout('efi'), { diskSize: GiB, seed: 'one' });
    const b = planLayout(loadLayout('efi'), { diskSize: GiB, seed: 'one' });
    const c = planLayout(loadLayout('efi'), { diskSize: GiB, seed: 'two' });
    const r1 = planLayout(loadLayout('efi'), { diskSize: GiB });
    const r2 = planLayout(loadLayout('efi'), { diskSize: GiB });
    const ids = (p: LayoutPlan) => [p.table!.diskId, ...p.partitions.map((x) => x.guid!), ...p.filesystems.map((f) => f.uuid)];
    expect(ids(a)).toEqual(ids(b));
    expect(new Set(ids(a)).size).toBe(6);
    for (const other of [c, r1]) ids(other).forEach((id, i) => expect(id).not.toBe(ids(a)[i]));
    expect(ids(r1)[0]).not.toBe(ids(r2)[0]);
    expect(planLayout(loadLayout('mbr'), { diskSize: GiB, seed: 'one' }).table!.diskId).toMatch(/^0x[0-9a-f]{8}$/);
    expect(planLayout(parseLayout('- local_loop: {name: image0, mkfs: {name: mkfs_root, uuid: 11111111-2222-4333-8444-55555555AAAA}}'), { diskSize: GiB })
      .filesystems[0]!.uuid).toBe('11111111-2222-4333-8444-55555555aaaa');
  });
});

describe('minimumDiskSize', () => {
  it('finds the smallest whole-MiB disk that gives each filesystem what it needs', () => {
    for (const [layout, needs] of [['efi', { '/': 300 * MiB }], ['mbr', { mkfs_root: 1234567 }], ['gpt', { '/': GiB }]] as const) {
      const c = loadLayout(layout);
      const size = minimumDiskSize(c, needs);
      expect(size % MiB).toBe(0);
      const got = (s: number) => planLayout(c, { diskSize: s }).filesystems.find((f) => f.mountPoint === '/')!.size;
      const need = Object.values(needs)[0]!;
      expect(got(size)).toBeGreaterThanOrEqual(need);
      let smaller: number;
      try {
        smaller = got(size - MiB);
      } catch {
        smaller = -1;
      }
      expect(smaller).toBeLessThan(need);
    }
    expect(minimumDiskSize(loadLayout('efi'), { '/': 300 * MiB })).toBe((550 + 8 + 300 + 2) * MiB);
  });
  it('honours % sizes: 50% root needs twice the space', () => {
    const c = mbr('      - {name: root, flags: [primary], size: 50%, mkfs: {type: ext4}}\n      - {name: data, flags: [primary], size: 100%, mkfs: {type: ext4}}');
    const size = minimumDiskSize(c, { mkfs_root: 100 * MiB, mkfs_data: 10 * MiB });
    // root: 50% of (D - 2 MiB) >= 100 MiB; data: D - 103 MiB >= 10 MiB.
    expect(size).toBe(202 * MiB);
  });
  it('names an unknown filesystem', () => {
    expect(() => minimumDiskSize(loadLayout('efi'), { '/home': 1 })).toThrow("layout node '/home': a size is needed for it but no mkfs node or mount point");
  });
});

describe('planning errors name the node', () => {
  const cases: Array<[string, () => unknown, string]> = [
    ['does not fit (MBR)', () => planLayout(mbr('      - {name: big, flags: [primary], size: 2GiB}'), { diskSize: GiB }),
      "layout node 'big': does not fit: it needs 2 GiB (sectors 2048-4196351) but the space for partitions ends at sector 2097151; the disk is 1025 MiB (1074790400 bytes) too small for it"],
    ['does not fit (GPT)', () => planLayout(loadLayout('efi'), { diskSize: 500 * MiB }),
      "layout node 'ESP': does not fit: it needs 550 MiB (sectors 2048-1128447) but the space for partitions ends at sector 1023966; the disk is 51.02 MiB (53494272 bytes) too small for it"],
    ['rounds to nothing', () => planLayout(loadLayout('gpt'), { diskSize: 10 * MiB }), "layout node 'root': its size comes to 0 bytes, less than one 1 MiB unit"],
    ['label too long', () => planLayout(parseLayout('- local_loop: {name: image0, mkfs: {name: esp, type: vfat, label: efi-system-part}}'), { diskSize: GiB }),
      "layout node 'esp': label 'EFI-SYSTEM-PART' is 15 characters, too long for vfat (at most 11)"],
    ['default label too long', () => planLayout(parseLayout('- local_loop: {name: image0, mkfs: {name: mkfs_root, type: xfs, label: my-root-filesys}}'), { diskSize: GiB }),
      "layout node 'mkfs_root': label 'my-root-filesys' is 15 characters, too long for xfs (at most 12)"],
    ['duplicate label', () => planLayout(mbr('      - {name: a, size: 10MiB, mkfs: {type: ext4, label: data}}\n      - {name: b, size: 10MiB, mkfs: {type: ext4, label: data}}'), { diskSize: GiB }),
      "layout node 'mkfs_b': filesystem label 'data' is already used by 'mkfs_a'"],
    ['five primaries', () => planLayout(mbr(Array.from({ length: 5 }, (_, i) => `      - {name: p${i}, flags: [primary], size: 1MiB}`).join('\n')), { diskSize: GiB }),
      "layout node 'p4': an MBR holds at most 4 primary partitions and this would be the 5th"],
    ['primary after logical', () => planLayout(mbr('      - {name: l, size: 1MiB}\n      - {name: p, flags: [primary], size: 1MiB}'), { diskSize: GiB }),
      "layout node 'p': a primary partition cannot follow logical partitions"],
    ['MBR beyond 2 TiB', () => planLayout(mbr('      - {name: p, flags: [primary], size: 100%}'), { diskSize: 3 * 1024 * GiB }),
      "layout node 'p': it ends at sector 6442448895, beyond the 2^32 sectors an MBR can address"],
    ['unknown GPT code', () => planLayout(parseLayout("- local_loop: {name: image0}\n- partitioning: {base: image0, label: gpt, partitions: [{name: x, size: 1MiB, type: 'AB12'}]}"), { diskSize: GiB }),
      "layout node 'x': GPT partition type 'AB12' is not a GUID, a known sgdisk code or a known name"],
    ['size not whole sectors', () => planLayout(loadLayout('mbr'), { diskSize: GiB + 100 }), "layout node 'image0': image size 1073741924 bytes is not a whole number of 512-byte sectors"],
    ['no size', () => planLayout(loadLayout('mbr')), "layout node 'image0': no image size"],
  ];
  it.each(cases)('%s', (_what, run, message) => {
    expect(run).toThrow(message);
  });
  it('a partition that does not fit says how much is missing', () => {
    try {
      planLayout(loadLayout('efi'), { diskSize: 500 * MiB });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LayoutDoesNotFitError);
      expect((e as LayoutDoesNotFitError).needed).toBe((1128447 - 1023966) * 512);
    }
  });
});

describe('shipped layouts given as documents', () => {
  it.each(Object.keys(SHIPPED_DOCUMENTS))('%s: the document is what its YAML parses to, and loads to the same layout', (name) => {
    expect(SHIPPED_DOCUMENTS[name]).toEqual(parseYaml(SHIPPED_LAYOUTS[name]!, { schema: 'failsafe' }));
    expect(loadLayout(name)).toEqual(parseLayout(SHIPPED_LAYOUTS[name]!));
  });
  it('includes the bare layout, which a --root-dir build loads', () => {
    expect(Object.keys(SHIPPED_DOCUMENTS)).toContain('bare');
  });
});
