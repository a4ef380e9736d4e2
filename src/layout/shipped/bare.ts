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
