/**
 * DIB's block-device-efi layout (elements/block-device-efi/block-device-default.yaml): a 550 MiB
 * EFI system partition (vfat, /boot/efi), an 8 MiB BIOS boot partition so the same image also
 * boots with a BIOS, then the root filesystem.
 */
export const EFI_LAYOUT = `\
- local_loop:
    name: image0

- partitioning:
    base: image0
    label: gpt
    partitions:
      - name: ESP
        type: 'EF00'
        size: 550MiB
        mkfs:
          type: vfat
          mount:
            mount_point: /boot/efi
            fstab:
              options: "defaults"
              fsck-passno: 2
      - name: BSP
        type: 'EF02'
        size: 8MiB
      - name: root
        type: '8300'
        size: 100%
        mkfs:
          type: ext4
          mount:
            mount_point: /
            fstab:
              options: "defaults"
              fsck-passno: 1
`;
