# Set by the block-device-efi flavour: which shipped layout the image uses.
export DIB_BLOCK_DEVICE=efi
