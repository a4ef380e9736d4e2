/**
 * `disk-image-layout`: table and JSON output on the shipped layouts, `--write` checked with
 * partx, sfdisk and sgdisk (DIB's partx expectations included), and the promise that an error
 * creates or changes nothing while an existing file keeps every byte outside the table areas.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TSX } from '../helpers/cli-run.js';
import { hasTool, run, withLoop } from '../helpers/tools.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'dil-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tools = hasTool('sfdisk') && hasTool('sgdisk') && hasTool('partx');

/** Runs the command under test; `status`, `stdout` and `stderr` as the shell would see them. */
const cli = (...args: string[]) => run(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/disk-image-layout.ts'), ...args], { cwd: work });
const partx = (file: string) => execFileSync('partx', ['--raw', '--output', 'NR,START,END,TYPE', '-g', '-b', '-', file], { encoding: 'utf8' });
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const layoutFile = (name: string, yaml: string) => {
  const f = join(work, name);
  writeFileSync(f, yaml);
  return f;
};
const mbrYaml = (parts: string) => `- local_loop: {name: image0}\n- partitioning:\n    base: image0\n    label: mbr\n    partitions:\n${parts}\n`;

describe('printing a plan', () => {
  it('-h prints the usage', () => {
    const r = cli('-h');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: disk-image-layout CONFIG/);
  });

  it('efi: table rows, bar and fstab', () => {
    const r = cli('efi', '--size', '2GiB', '--seed', 's');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^image0: 2 GiB \(2147483648 bytes\), GPT partition table, 512-byte sectors, disk GUID [0-9a-f-]{36}$/);
    const table = lines.filter((l) => /^\d+ {2}/.test(l)).map((l) => l.split(/\s{2,}/));
    expect(table).toEqual([
      ['1', 'ESP', '2048', '1128447', '550 MiB', 'EF00', '-', 'vfat', 'MKFS_ESP', '/boot/efi'],
      ['2', 'BSP', '1128448', '1144831', '8 MiB', 'EF02', '-', '-', '-', '-'],
      ['3', 'root', '1144832', '4192255', '1488 MiB', '8300', '-', 'ext4', 'cloudimg-rootfs', '/'],
    ]);
    const bar = lines.find((l) => l.startsWith('|'))!;
    expect(bar).toMatch(/^\|\.1+2+3+\.\|$/);
    // Proportional: the ESP takes 550/2048 of 64 cells (17.2), root 1488/2048 (46.5); the
    // three small slices (gaps and BSP) get one cell each, taken from the largest.
    expect(bar).toHaveLength(66);
    expect(bar.split('1').length - 1).toBe(17);
    expect(bar.split('2').length - 1).toBe(1);
    expect(bar.split('3').length - 1).toBe(44);
    expect(r.stdout).toContain('/etc/fstab:\nLABEL=cloudimg-rootfs / ext4 defaults 0 1\nLABEL=MKFS_ESP /boot/efi vfat defaults 0 2\n');
  });

  it('mbr and gpt: table rows', () => {
    const m = cli('mbr', '--size', '1GiB');
    expect(m.stdout.split('\n').filter((l) => /^\d+ {2}/.test(l)).map((l) => l.split(/\s{2,}/)))
      .toEqual([['1', 'root', '2048', '2095103', '1022 MiB', '0x83', 'boot,primary', 'ext4', 'cloudimg-rootfs', '/']]);
    const g = cli('gpt', '--size', '1GiB', '--root-label', 'rootfs');
    expect(g.stdout.split('\n').filter((l) => /^\d+ {2}/.test(l)).map((l) => l.split(/\s{2,}/))).toEqual([
      ['1', 'BSP', '2048', '18431', '8 MiB', 'EF02', '-', '-', '-', '-'],
      ['2', 'root', '18432', '2095103', '1014 MiB', '8300', 'boot', 'ext4', 'rootfs', '/'],
    ]);
  });

  it('--json: the documented shape, seeded ids stable across runs', () => {
    const a = JSON.parse(cli('efi', '--size', '1GiB', '--json', '--seed', 'k').stdout);
    const b = JSON.parse(cli('efi', '--size', '1GiB', '--json', '--seed', 'k').stdout);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ label: 'gpt', sectorSize: 512, diskSize: 2 ** 30 });
    expect(a.diskGuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.partitions.map((p: Record<string, unknown>) => [p.number, p.name, p.firstLba, p.lastLba, p.type, p.filesystem, p.label, p.mountPoint])).toEqual([
      [1, 'ESP', 2048, 1128447, 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', 'vfat', 'MKFS_ESP', '/boot/efi'],
      [2, 'BSP', 1128448, 1144831, '21686148-6449-6e6f-744e-656564454649', null, null, null],
      [3, 'root', 1144832, 2095103, '0fc63daf-8483-4772-8e79-3d69d8477de4', 'ext4', 'cloudimg-rootfs', '/'],
    ]);
    for (const p of a.partitions) expect(Object.keys(p)).toEqual(expect.arrayContaining(['number', 'name', 'firstLba', 'lastLba', 'type', 'guid', 'flags', 'filesystem', 'label', 'mountPoint']));
  });

  it('bare layout: the whole image is one filesystem', () => {
    const r = cli('bare', '--size', '100MiB', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ label: null, partitions: [], filesystems: [{ node: 'mkfs_root', offset: 0, size: 100 * 2 ** 20 }] });
  });

  it.each([
    [['efi'], 2, '--size is required'],
    [['efi', '--size', 'big'], 2, "--size 'big' is not a size"],
    [['efi', 'mbr', '--size', '1G'], 2, 'one CONFIG expected but got 2'],
    [['efi', '--bogus'], 2, "Unknown option '--bogus'"],
    [['no-such.yaml', '--size', '1G'], 1, "no-such.yaml: no such layout file"],
    [['efi', '--size', '300MiB'], 1, "layout node 'ESP': does not fit"],
  ])('%j exits %d: %s', (args, code, message) => {
    const r = cli(...args);
    expect(r.status).toBe(code);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('a layout error from a file names the node and exits 1', () => {
    const f = layoutFile('bad.yaml', mbrYaml('      - {name: root, size: 100%, flags: [boot, active]}'));
    const r = cli(f, '--size', '1G');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("disk-image-layout: error: layout node 'root': unknown flag 'active'\ndisk-image-layout: hint: the flags are 'boot' and 'primary' (MBR only)\n");
  });
});

describe.skipIf(!tools)('--write, checked with partx, sfdisk and sgdisk', () => {
  it('DIB partx expectations: one primary 10 MiB, one logical 10 MiB, 64 logicals', () => {
    const one = join(work, 'one.img');
    expect(cli(layoutFile('one.yaml', mbrYaml('      - {name: p, flags: [primary], size: 10MiB}')), '--size', '1GiB', '--write', one).status).toBe(0);
    expect(partx(one)).toBe('1 2048 22527 0x83\n');
    const log = join(work, 'logical.img');
    expect(cli(layoutFile('logical.yaml', mbrYaml('      - {name: l, size: 10MiB}')), '--size', '1GiB', '--write', log).status).toBe(0);
    expect(partx(log)).toBe('1 2048 2097151 0xf\n5 4096 24575 0x83\n');
    const many = join(work, 'many.img');
    const parts = Array.from({ length: 64 }, (_, i) => `      - {name: l${i}, size: 10MiB}`).join('\n');
    expect(cli(layoutFile('many.yaml', mbrYaml(parts)), '--size', '1GiB', '--write', many).status).toBe(0);
    const lines = partx(many).trim().split('\n');
    expect(lines).toHaveLength(65);
    lines.slice(1).forEach((l, i) => expect(l).toBe(`${5 + i} ${4096 + 22528 * i} ${4096 + 22528 * i + 20479} 0x83`));
    for (const f of [one, log, many]) expect(spawnSync('sfdisk', ['-V', f]).status).toBe(0);
  });

  it.each(['mbr', 'gpt', 'efi'])('%s: sfdisk --json agrees with our --json; the checkers accept it', (name) => {
    const img = join(work, `${name}.img`);
    const r = cli(name, '--size', '2GiB', '--seed', 'w', '--json', '--write', img);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`created ${img}`);
    const ours = JSON.parse(r.stdout);
    const theirs = JSON.parse(execFileSync('sfdisk', ['--json', img], { encoding: 'utf8' })).partitiontable;
    expect(theirs.label).toBe(name === 'mbr' ? 'dos' : 'gpt');
    expect(theirs.sectorsize).toBe(512);
    expect(theirs.id.toLowerCase()).toBe(name === 'mbr' ? ours.diskId : ours.diskGuid);
    expect(theirs.partitions.map((p: Record<string, unknown>) => [p.start, p.size, String(p.type).toLowerCase().replace(/^83$/, '0x83'), p.uuid && String(p.uuid).toLowerCase(), p.name, p.bootable ?? false]))
      .toEqual(ours.partitions.map((p: Record<string, unknown>) => [p.firstLba, Number(p.lastLba) - Number(p.firstLba) + 1, p.type, p.guid ?? undefined, name === 'mbr' ? undefined : p.name, (p.flags as string[]).includes('boot') && name === 'mbr']));
    const v = spawnSync('sfdisk', ['-V', img], { encoding: 'utf8' });
    expect(v.status, v.stdout + v.stderr).toBe(0);
    if (name !== 'mbr') expect(execFileSync('sgdisk', ['-v', img], { encoding: 'utf8' })).toContain('No problems found');
  });

  it('logical partitions with % sizes: each EBR on the aligned sector DIB puts it on, sfdisk -V clean', () => {
    const img = join(work, 'multi.img');
    const r = cli(join(ROOT, 'fixtures/layouts/multiple_partitions_tree.yaml'), '--size', '3GiB', '--write', img, '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(partx(img).trim().split('\n').map((l) => l.split(' ').slice(0, 3).map(Number)))
      .toEqual(plan.partitions.map((p: Record<string, number>) => [p.number, p.firstLba, p.lastLba]));
    const fd = openSync(img, 'r');
    const sector = (lba: number) => {
      const buf = Buffer.alloc(512);
      readSync(fd, buf, 0, 512, lba * 512);
      return buf;
    };
    const logicals = plan.partitions.filter((p: { number: number; firstLba: number; lastLba: number }) => p.number >= 5);
    // % sizes leave unaligned ends; DIB still puts the next EBR on the next aligned sector.
    expect(logicals[0].lastLba % 2048).not.toBe(2047);
    for (const p of logicals) {
      const ebr = p.firstLba - 2048;
      expect(ebr % 2048).toBe(0);
      expect(sector(ebr).readUInt16LE(510)).toBe(0xaa55);
      // Entry 0 of the EBR points at the partition, relative to the EBR.
      expect(sector(ebr).readUInt32LE(0x1be + 8)).toBe(p.firstLba - ebr);
    }
    closeSync(fd);
    const v = spawnSync('sfdisk', ['-V', img], { encoding: 'utf8' });
    expect(v.status, v.stdout + v.stderr).toBe(0);
  });

  it('the same --seed writes byte-identical tables', () => {
    const a = join(work, 'seed-a.img');
    const b = join(work, 'seed-b.img');
    expect(cli('gpt', '--size', '64MiB', '--seed', 'same', '--write', a).status).toBe(0);
    expect(cli('gpt', '--size', '64MiB', '--seed', 'same', '--write', b).status).toBe(0);
    expect(sha(a)).toBe(sha(b));
  });

  it('a write that fails (no such directory) is an input error and creates nothing', () => {
    const img = join(work, 'no-such-dir', 'x.img');
    const r = cli('efi', '--size', '1GiB', '--write', img);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`disk-image-layout: error: ${img}: cannot write the image (ENOENT`);
    expect(existsSync(join(work, 'no-such-dir'))).toBe(false);
  });

  it('any error leaves no file and no temporary file behind', () => {
    const dir = mkdtempSync(join(work, 'err-'));
    const img = join(dir, 'x.img');
    const before = readdirSync(dir);
    for (const args of [['efi', '--size', '300MiB'], ['bare', '--size', '1GiB'], ['efi', '--size', '1GiB', '--root-label', 'a-label-longer-than-16']]) {
      const r = cli(...args, '--write', img);
      expect(r.status, r.stderr).not.toBe(0);
      expect(existsSync(img)).toBe(false);
      expect(readdirSync(dir)).toEqual(before);
    }
  });

  it('refuses an existing file smaller than --size and leaves it alone', () => {
    const img = join(work, 'small.img');
    writeFileSync(img, Buffer.alloc(1024 * 1024, 0x5a));
    const hash = sha(img);
    const r = cli('mbr', '--size', '2GiB', '--write', img);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${img} is 1048576 bytes but the layout was planned for 2147483648 bytes; nothing was written`);
    expect(sha(img)).toBe(hash);
  });

  it.each(['gpt', 'mbr-logical'])('%s: an existing file keeps every byte outside the table sectors', (kind) => {
    const size = 64 * 2 ** 20;
    const img = join(work, `existing-${kind}.img`);
    const pattern = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) pattern.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(img, pattern);
    const config = kind === 'gpt' ? 'gpt' : layoutFile('mix.yaml', mbrYaml('      - {name: a, flags: [boot, primary], size: 8MiB}\n      - {name: b, size: 8MiB}\n      - {name: c, size: 100%}'));
    const r = cli(config, '--write', img, '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    const after = readFileSync(img);
    // The sectors a table may own: MBR/protective MBR, GPT header + array, backup array + header, EBRs.
    const owned = new Set<number>([0]);
    if (kind === 'gpt') {
      for (let s = 1; s <= 33; s++) owned.add(s);
      for (let s = size / 512 - 33; s < size / 512; s++) owned.add(s);
    } else {
      for (const p of plan.partitions) if (p.number >= 5) owned.add(p.firstLba - 2048);
    }
    const changed: number[] = [];
    for (let s = 0; s < size / 512; s++) {
      if (!owned.has(s) && !after.subarray(s * 512, s * 512 + 512).equals(pattern.subarray(s * 512, s * 512 + 512))) changed.push(s);
    }
    expect(changed).toEqual([]);
    expect(partx(img).trim().split('\n').map((l) => l.split(' ').slice(0, 3).join(' ')))
      .toEqual(plan.partitions.map((p: Record<string, number>) => `${p.number} ${p.firstLba} ${p.lastLba}`));
  });

  it('--size smaller than an existing file: the table describes only that much', () => {
    const img = join(work, 'bigger.img');
    const fd = openSync(img, 'w');
    writeSync(fd, Buffer.from([1]), 0, 1, 128 * 2 ** 20 - 1);
    closeSync(fd);
    const r = cli('gpt', '--size', '64MiB', '--write', img, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).partitions.at(-1).lastLba).toBeLessThan(64 * 2048);
    expect(readFileSync(img).length).toBe(128 * 2 ** 20);
  });
});

describe.skipIf(!tools || !hasTool('losetup') || process.getuid?.() !== 0)('4096-byte sectors, read back through a 4K loop device', () => {
  it.each(['gpt', 'mbr'])('%s', (label) => {
    const img = join(work, `four-k-${label}.img`);
    const f = layoutFile(`four-k-${label}.yaml`, `- local_loop: {name: image0, block_size: 4096}
- partitioning:
    base: image0
    label: ${label}
    partitions:
      - {name: boot, size: 64MiB${label === 'mbr' ? ', flags: [boot, primary]' : ", type: 'EF00'"}}
      - {name: root, size: 100%}
`);
    const r = cli(f, '--size', '512MiB', '--seed', '4k', '--write', img, '--json');
    expect(r.status, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    withLoop(img, { sectorSize: 4096 }, (loop) => {
      const t = JSON.parse(execFileSync('sfdisk', ['--json', loop], { encoding: 'utf8' })).partitiontable;
      expect(t.sectorsize).toBe(4096);
      expect(t.partitions.map((p: { start: number; size: number }) => [p.start, p.start + p.size - 1]))
        .toEqual(plan.partitions.map((p: Record<string, number>) => [p.firstLba, p.lastLba]));
      if (label === 'gpt') {
        expect(plan.partitions[0].firstLba).toBe(256);
        expect(execFileSync('sgdisk', ['-v', loop], { encoding: 'utf8' })).toContain('No problems found');
      } else {
        const v = spawnSync('sfdisk', ['-V', loop], { encoding: 'utf8' });
        expect(v.status, v.stdout + v.stderr).toBe(0);
      }
    });
  });
});
