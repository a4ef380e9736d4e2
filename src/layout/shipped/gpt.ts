/**
 * DIB's block-device-gpt layout (elements/block-device-gpt/block-device-default.yaml): an 8 MiB
 * BIOS boot partition (EF02) for grub's core.img, then the root filesystem.
 */
export const GPT_LAYOUT = `\
- local_loop:
    name: image0

- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: BSP
        type: 'EF02'
        size: 8MiB
      - name: root
        flags: [ boot ]
        size: 100%
        mkfs:
          type: ext4
          mount:
            mount_point: /
            fstab:
              options: "defaults"
              fsck-passno: 1
`;
