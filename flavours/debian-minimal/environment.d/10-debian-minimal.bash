# Defaults of the debian-minimal flavour (as diskimage-builder's debian-minimal element).
export DISTRO_NAME=debian
export DIB_RELEASE=${DIB_RELEASE:-bookworm}
export DIB_DEBIAN_COMPONENTS=${DIB_DEBIAN_COMPONENTS:-main}
# Packages a bootable VM needs (DIB's debian-minimal + vm would install these).
export DIB_DEBIAN_MINIMAL_PACKAGES=${DIB_DEBIAN_MINIMAL_PACKAGES:-linux-image-amd64,systemd-sysv,grub-pc-bin,grub-efi-amd64-bin,udev,initramfs-tools}
