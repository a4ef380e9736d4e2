/**
 * Layout parsing: tree and graph notation mean the same (DIB's config tests), size units,
 * and every layout error, one by one, with the node it names.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseLayout, treeToGraph, type LayoutConfig } from '../../src/layout/parse.js';
import { planLayout } from '../../src/layout/plan.js';
import { parseAbsoluteSize, parseSizeSpec, resolveSize } from '../../src/layout/size.js';
import { LayoutError } from '../../src/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/layouts/${name}`, import.meta.url), 'utf8');

function normalised(c: LayoutConfig) {
  const byName = <T extends { name: string }>(a: T[]) => [...a].sort((x, y) => x.name.localeCompare(y.name));
  return { ...c, mkfs: byName(c.mkfs), mounts: byName(c.mounts), fstabs: byName(c.fstabs) };
}

describe('tree and graph notation', () => {
  for (const pair of ['simple', 'deep', 'multiple_partitions']) {
    it(`${pair}: tree and graph parse to the same layout`, () => {
      const tree = parseLayout(fixture(`${pair}_tree.yaml`));
      const graph = parseLayout(fixture(`${pair}_graph.yaml`));
      expect(normalised(tree)).toEqual(normalised(graph));
      // Same plan too (same seed): the notation cannot change a single sector or label.
      expect(planLayout(tree, { diskSize: 3 * 2 ** 30, seed: 's' })).toEqual(planLayout(graph, { diskSize: 3 * 2 ** 30, seed: 's' }));
    });
  }

  it('flattens a tree exactly into its graph form (as DIB assertCountEqual)', () => {
    const flat = treeToGraph(parseYaml(fixture('deep_tree.yaml'), { schema: 'failsafe' }));
    const graph = parseYaml(fixture('deep_graph.yaml'), { schema: 'failsafe' }) as unknown[];
    const key = (e: unknown) => JSON.stringify(e, Object.keys(e as object).sort());
    const sortDeep = (e: unknown): unknown => (Array.isArray(e) ? e.map(sortDeep) : e && typeof e === 'object'
      ? Object.fromEntries(Object.entries(e).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortDeep(v)])) : e);
    expect(flat.map(sortDeep).map((e) => key(e)).sort()).toEqual(graph.map(sortDeep).map((e) => key(e)).sort());
  });

  it('names nested nodes <plugin>_<base>', () => {
    const c = parseLayout(fixture('simple_tree.yaml'));
    expect(c.mkfs.map((m) => [m.name, m.base])).toEqual([['mkfs_root', 'root']]);
    expect(c.mounts.map((m) => [m.name, m.base, m.mountPoint])).toEqual([['mount_mkfs_root', 'mkfs_root', '/']]);
    expect(c.fstabs.map((f) => [f.name, f.base, f.options, f.dumpFreq, f.fsckPassno])).toEqual([['fstab_mount_mkfs_root', 'mount_mkfs_root', 'defaults', 0, 1]]);
    expect(c.partitioning?.name).toBe('partitioning_image0');
    expect(c.image).toEqual({ plugin: 'local_loop', name: 'image0', blockSize: 512, size: 2 * 2 ** 30 });
  });

  it('reads unquoted and quoted types alike and applies defaults', () => {
    const c = parseLayout(`
- local_loop: {name: image0}
- partitioning:
    base: image0
    label: gpt
    partitions:
      - {name: a, size: 1MiB, type: 0x4100}
      - {name: b, size: 1MiB, type: ef00}
      - {name: c, size: 1MiB}
      - {name: d, size: 1MiB, type: 8200}
`);
    expect(c.partitioning!.partitions.map((p) => p.type)).toEqual(['4100', 'EF00', '8300', '8200']);
    expect(c.partitioning!.align).toBe(2 ** 20);
    const m = parseLayout('- local_loop: {name: image0}\n- partitioning: {base: image0, label: mbr, partitions: [{name: a, size: 1M, type: 0xC}, {name: b, size: 1M}]}');
    expect(m.partitioning!.partitions.map((p) => p.type)).toEqual(['0x0c', '0x83']);
  });
});

describe('size units (DIB utils.py)', () => {
  it.each([
    ['1TiB', 1024 ** 4], ['2GiB', 2 * 1024 ** 3], ['10MiB', 10 * 1024 ** 2], ['4KiB', 4096],
    ['1TB', 1e12], ['3GB', 3e9], ['5MB', 5e6], ['7KB', 7000],
    ['1T', 1e12], ['2G', 2e9], ['10M', 1e7], ['1K', 1000],
    ['512B', 512], ['1048576', 1048576], ['1.5GiB', 1.5 * 1024 ** 3], ['10 MiB', 10 * 1024 ** 2], ['0.5K', 500],
    [2048, 2048],
  ])('%s is %d bytes', (spec, bytes) => {
    expect(parseAbsoluteSize(spec, 'n')).toBe(bytes);
  });

  it('rejects a unit without a number (MiB alone) naming the node', () => {
    expect(() => parseAbsoluteSize('MiB', 'image0')).toThrow(/layout node 'image0': size 'MiB' has a unit but no number/);
  });

  it.each(['10 GIB', '10mib', '1e3', '10  MiB', 'ten', '-5M', '10PiB', ''])('rejects %j naming the node', (spec) => {
    expect(() => parseAbsoluteSize(spec, 'image0')).toThrow(/layout node 'image0': size '.*' is not a size/);
  });

  it('percentages are of the free space, truncated to bytes', () => {
    expect(resolveSize(parseSizeSpec('100%', 'n'), 1000)).toBe(1000);
    expect(resolveSize(parseSizeSpec('33%', 'n'), 1000)).toBe(330);
    expect(resolveSize(parseSizeSpec('12.5%', 'n'), 999)).toBe(124);
    expect(() => parseSizeSpec('0%', 'root')).toThrow("layout node 'root': size '0%' is not a percentage");
    expect(() => parseSizeSpec('101%', 'root')).toThrow("layout node 'root': size '101%' is not a percentage");
  });
});

describe('layout errors name the node', () => {
  const base = (parts: string, label = 'mbr') => `
- local_loop: {name: image0}
- partitioning:
    base: image0
    label: ${label}
    partitions:
${parts}`;
  const cases: Array<[string, string, string | RegExp]> = [
    ['unknown plugin', '- local_loop: {name: image0}\n- raid: {name: md0}', "layout node 'md0': 'raid' is not a block-device plugin"],
    ['unknown nested key', '- local_loop: {name: image0, mkfs: {type: ext4, btrfs_sub: {}}}', "layout node 'mkfs_image0': unknown setting 'btrfs_sub' for mkfs"],
    ['multi-key node', '- mkfs: {name: root_fs, base: root_part, type: xfs}\n  mount: {name: m, base: root_fs, mount_point: /}',
      "layout node 'root_fs': a node must have exactly one plugin key but it has 2: mkfs, mount"],
    ['edge to a missing node', '- local_loop: {name: image0}\n- mkfs: {name: mkfs_root, base: this_is_not_a_node, type: ext4}',
      "layout node 'mkfs_root': edge not defined: this_is_not_a_node->mkfs_root ('this_is_not_a_node' is not a node of this layout)"],
    ['edge to the wrong kind', '- local_loop: {name: image0}\n- mount: {name: m, base: image0, mount_point: /}',
      "layout node 'm': its base 'image0' is a local_loop but it must be a mkfs"],
    ['duplicate name', base('      - {name: root, size: 50%}\n      - {name: root, size: 100%}'),
      "layout node 'root': duplicate node name: 'root' is used by a partition and by a partition"],
    ['duplicate name across kinds', '- local_loop: {name: image0}\n- mkfs: {name: image0, base: image0, type: ext4}',
      "layout node 'image0': duplicate node name: 'image0' is used by a local_loop and by a mkfs"],
    ['unknown flag', base('      - {name: root, size: 100%, flags: [boot, bootable]}'), "layout node 'root': unknown flag 'bootable'"],
    ['primary on GPT', base('      - {name: root, size: 100%, flags: [primary]}', 'gpt'), "layout node 'root': flag 'primary' is only meaningful on an MBR label but this table is GPT"],
    ['bad label', base('      - {name: root, size: 100%}', 'msdos'), "layout node 'partitioning_image0': label must be 'mbr' or 'gpt' but it is 'msdos'"],
    ['partition without size', base('      - {name: root}'), "layout node 'root': 'size' is required but missing"],
    ['partition without name', base('      - {size: 100%}'), "layout node 'partitioning_image0': partition 1 has no 'name'"],
    ['bad MBR type', base("      - {name: root, size: 100%, type: 'EF00'}"), "layout node 'root': MBR partition type 'EF00' is not a hex byte"],
    ['bad GPT type', base("      - {name: root, size: 100%, type: 'linux fs'}", 'gpt'), "layout node 'root': GPT partition type 'linux fs' is neither an sgdisk type code, a type name nor a GUID"],
    ['bad block size', '- local_loop: {name: image0, block_size: 1024}', "layout node 'image0': block_size must be 512 or 4096 but it is 1024"],
    ['unknown setting', '- local_loop: {name: image0, mkfs: {type: ext4, mountpoint: /}}', "layout node 'mkfs_image0': unknown setting 'mountpoint' for mkfs"],
    ['mkfs without type', '- local_loop: {name: image0, mkfs: {name: data}}', "layout node 'data': 'type' is required"],
    ['bad uuid', '- local_loop: {name: image0, mkfs: {name: mkfs_root, uuid: root-uuid-1234}}', "layout node 'mkfs_root': uuid 'root-uuid-1234' is not a UUID"],
    ['relative mount point', '- local_loop: {name: image0, mkfs: {name: mkfs_root, mount: {mount_point: var}}}', "layout node 'mount_mkfs_root': mount_point 'var' must be an absolute path"],
    ['duplicate mount point', base('      - {name: a, size: 50%, mkfs: {type: ext4, mount: {mount_point: /}}}\n      - {name: b, size: 100%, mkfs: {type: ext4, mount: {mount_point: /}}}'),
      "layout node 'mount_mkfs_b': mount point '/' is already used by 'mount_mkfs_a'"],
    ['two filesystems on one partition', base('      - {name: a, size: 100%, mkfs: {type: ext4}}') + '\n- mkfs: {name: other, base: a, type: ext4}',
      "layout node 'other': 'a' already has a filesystem 'mkfs_a'"],
    ['no image', '- mkfs: {name: mkfs_root, base: x, type: ext4}', "layout node 'local_loop': the layout has no local_loop node"],
    ['two images', '- local_loop: {name: image0}\n- local_loop: {name: image1}', "layout node 'image1': the layout has 2 local_loop nodes but only one image is supported"],
    ['LVM', `${base('      - {name: root, size: 100%}')}\n- lvm:\n    name: lvm\n    base: [root]\n    pvs: [{name: pv, base: root}]`,
      "layout node 'lvm': LVM (the lvm plugin) is not supported yet"],
    ['not a list', 'local_loop: {name: image0}', "layout: the document must be a YAML list of single-key mappings (one per node) but it is object"],
    ['empty document', '', 'layout: the document must be a YAML list of single-key mappings (one per node) but it is empty'],
  ];
  it.each(cases)('%s', (_what, yaml, message) => {
    let err: unknown;
    try {
      parseLayout(yaml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    if (typeof message === 'string') expect((err as Error).message).toContain(message);
    else expect((err as Error).message).toMatch(message);
  });

  it('LVM errors carry a hint and the LAYOUT code', () => {
    try {
      parseLayout('- local_loop: {name: image0}\n- lvm: {name: lvm, base: [image0]}');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LayoutError);
      expect((e as LayoutError).code).toBe('LAYOUT');
      expect((e as LayoutError).hint).toMatch(/plain partitions/);
    }
  });
});
