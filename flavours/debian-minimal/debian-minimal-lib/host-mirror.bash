# The host's configured Debian mirror, for debian-minimal's DIB_DISTRIBUTION_MIRROR default:
# the first non-security `deb` URI of one-line sources (sources.list, sources.list.d/*.list),
# then of deb822 stanzas (sources.list.d/*.sources); http://deb.debian.org/debian otherwise.
# Usage: host_mirror [APT_DIR]   (default /etc/apt)
host_mirror() {
  local apt=${1:-/etc/apt} f uri
  for f in "$apt/sources.list" "$apt"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i+1) !~ /-security/ && $i !~ /security/) { print $i; exit } break } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in "$apt"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk 'BEGIN{RS=""; FS="\n"} { u=""; s=""; t=0; for (i = 1; i <= NF; i++) { if ($i ~ /^URIs:/) u=$i; if ($i ~ /^Suites:/) s=$i; if ($i ~ /^Types:/) { n = split($i, w, /[ \t]+/); for (j = 2; j <= n; j++) if (w[j] == "deb") t=1 } } sub(/^URIs:[ \t]*/, "", u); split(u, a, /[ \t]+/); if (t && a[1] != "" && s !~ /-security/ && a[1] !~ /security/) { print a[1]; exit } }' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  echo http://deb.debian.org/debian
}
