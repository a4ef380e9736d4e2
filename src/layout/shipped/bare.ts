/**
 * DIB's fallback when no block-device element is used (lib/common-functions,
 * block_device_create_config_file): the root filesystem on the whole image, no partition table.
 */
export const BARE_LAYOUT = `\
- local_loop:
    name: image0
    mkfs:
      name: mkfs_root
      mount:
        mount_point: /
        fstab:
          options: "defaults"
          fsck-passno: 1
`;

/**
 * BARE_LAYOUT as the document it parses to (YAML's failsafe schema: every scalar a string),
 * so that a bare build, the usual `--root-dir` case, needs no YAML parser, whose loading is
 * measurable (docs/benchmarks.md). test/layout/plan.test.ts checks it against the parse of BARE_LAYOUT.
 */
export const BARE_DOCUMENT = [
  { local_loop: { name: 'image0', mkfs: { name: 'mkfs_root', mount: { mount_point: '/', fstab: { options: 'defaults', 'fsck-passno': '1' } } } } },
];
