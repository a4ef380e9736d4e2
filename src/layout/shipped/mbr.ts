/** DIB's block-device-mbr layout (elements/block-device-mbr/block-device-default.yaml): one bootable primary root partition. */
export const MBR_LAYOUT = `\
- local_loop:
    name: image0

- partitioning:
    base: image0
    label: mbr
    partitions:
      - name: root
        flags: [ boot, primary ]
        size: 100%
        mkfs:
          mount:
            mount_point: /
            fstab:
              options: "defaults"
              fsck-passno: 1
`;
