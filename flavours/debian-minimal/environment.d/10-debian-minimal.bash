# Defaults of the debian-minimal flavour, the variables of diskimage-builder's debian-minimal
# element. DIB_RELEASE stays as the user gave it (elements compare it, as DIB's do); the
# root.d hook resolves a suite name such as `stable` to its codename for the bootstrap, the
# image's apt sources and the log. DIB_DISTRIBUTION_MIRROR, when unset, is the host's Debian
# mirror (root.d/08-debian-bootstrap); DIB_APT_SOURCES_CONF, when unset, is made there from it.
export DISTRO_NAME=debian
export DIB_RELEASE=${DIB_RELEASE:-stable}
export DIB_INIT_SYSTEM=systemd
export EFI_BOOT_DIR=EFI/debian
if [ -n "${DIB_DEBIAN_DISTRIBUTION_MIRROR:-}" ]; then
  export DIB_DISTRIBUTION_MIRROR=$DIB_DEBIAN_DISTRIBUTION_MIRROR
fi
export DIB_DEBIAN_SECURITY_MIRROR=${DIB_DEBIAN_SECURITY_MIRROR:-http://security.debian.org/debian-security}
export DIB_DEBIAN_COMPONENTS=${DIB_DEBIAN_COMPONENTS:-main}
export DIB_DEBIAN_COMPONENTS_WS=${DIB_DEBIAN_COMPONENTS//,/ }
# What a bootable VM needs (DIB's debian-minimal + vm would install these), then what DIB's
# debian-minimal and debootstrap elements install and other elements rely on: python3 (DIB's
# package-installs and pkg-map), sudo, busybox, gnupg (for apt keys), netbase, adduser,
# ca-certificates, locales, lsb-release.
export DIB_DEBIAN_MINIMAL_PACKAGES=${DIB_DEBIAN_MINIMAL_PACKAGES:-linux-image-amd64,systemd-sysv,grub-pc-bin,grub-efi-amd64-bin,udev,initramfs-tools,python3,sudo,busybox,gnupg,netbase,adduser,ca-certificates,locales,lsb-release}
