# The release and the apt sources of debian-minimal's bootstrap.
#
# release_codename MIRROR RELEASE MEMO_DIR: the codename of RELEASE (a suite such as stable or
# testing, or a codename) from the Codename field of MIRROR's dists/RELEASE/Release, kept in
# MEMO_DIR/RELEASE.codename for offline builds (DIB_OFFLINE=1 reads only that); RELEASE itself
# when neither answers.
release_codename() {
  local mirror=$1 release=$2 memo=$3/$2.codename codename=
  if [ "${DIB_OFFLINE:-0}" != 1 ]; then
    codename=$(fetch_url "$mirror/dists/$release/Release" 2>/dev/null | sed -n 's/^Codename: *//p' | head -n 1) || codename=
  fi
  if [ -n "$codename" ]; then
    printf '%s\n' "$codename" > "$memo.tmp.$$" && mv -f "$memo.tmp.$$" "$memo"
  elif [ -s "$memo" ]; then
    codename=$(<"$memo")
  else
    codename=$release
  fi
  printf '%s\n' "$codename"
}

# fetch_url URL: the body of URL on stdout (curl, else wget); status 1 when neither can.
fetch_url() {
  if command -v curl >/dev/null; then
    curl -fsSL --max-time 60 "$1"
  elif command -v wget >/dev/null; then
    wget -q -T 60 -O - "$1"
  else
    return 1
  fi
}

# default_apt_sources MIRROR CODENAME: DIB_APT_SOURCES_CONF's default, one NAME:LINE a line
# (DIB's debian-minimal): the release, its backports and updates from MIRROR, its security
# updates from DIB_DEBIAN_SECURITY_MIRROR; the release alone for testing and unstable.
default_apt_sources() {
  local mirror=$1 codename=$2 comps=${DIB_DEBIAN_COMPONENTS:-main}
  comps=${comps//,/ }
  echo "default:deb $mirror $codename $comps"
  case "$DIB_RELEASE:$codename" in
    testing:*|unstable:*|sid:*|*:sid) return 0 ;;
  esac
  echo "backports:deb $mirror $codename-backports $comps"
  echo "updates:deb $mirror $codename-updates $comps"
  echo "security:deb ${DIB_DEBIAN_SECURITY_MIRROR:-http://security.debian.org/debian-security} $codename-security $comps"
}

# write_apt_sources ROOT CONF: the image's apt sources, as DIB's debian-minimal writes them:
# each NAME:LINE of CONF becomes ROOT/etc/apt/sources.list.d/NAME.list; the bootstrap's own
# sources.list goes. With DIB_APT_SOURCES (a sources.list file on the host, DIB's apt-sources
# element) that file becomes ROOT/etc/apt/sources.list.
write_apt_sources() {
  local root=$1 conf=$2 line name
  mkdir -p "$root/etc/apt/sources.list.d"
  rm -f "$root/etc/apt/sources.list"
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    name=${line%%:*}
    printf '%s\n' "${line#*:}" > "$root/etc/apt/sources.list.d/$name.list"
  done <<< "$conf"
  if [ -n "${DIB_APT_SOURCES:-}" ]; then
    if [ ! -s "$DIB_APT_SOURCES" ]; then
      echo "debian-minimal: DIB_APT_SOURCES=$DIB_APT_SOURCES is not a sources.list file with content" >&2
      return 1
    fi
    cp "$DIB_APT_SOURCES" "$root/etc/apt/sources.list"
  fi
}
