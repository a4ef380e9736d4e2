# Defaults of the bootloader flavour (as diskimage-builder's bootloader element has them).
# The build reads these when it assembles the image; a value set by the user wins.
export DIB_GRUB_TIMEOUT=${DIB_GRUB_TIMEOUT:-5}
export DIB_BOOTLOADER_DEFAULT_CMDLINE=${DIB_BOOTLOADER_DEFAULT_CMDLINE:-"console=tty0 console=ttyS0,115200 no_timer_check nofb nomodeset gfxpayload=text"}
