# Set by the block-device-gpt flavour: which shipped layout the image uses.
export DIB_BLOCK_DEVICE=gpt
