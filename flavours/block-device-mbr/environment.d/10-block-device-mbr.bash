# Set by the block-device-mbr flavour: which shipped layout the image uses.
export DIB_BLOCK_DEVICE=mbr
