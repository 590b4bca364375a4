# Sourced by the setup scripts: Debian packages fetched by name from the archive apt is pointed
# at (scripts/debian-mirror.sh) and unpacked with dpkg-deb -x, never installed, so the system's
# own packages stay as they are.
#
#   debs_unpack CACHE SUITE ARCH TREE PKG...   fetch PKG... of SUITE/ARCH into CACHE (the index
#                                              and the .debs), unpack each into TREE
# Filenames come from the suite's current index, so point releases do not break the scripts.

debs_fetch_() { curl -fsS --retry 5 --retry-delay 2 --max-time 900 "$@"; }

debs_unpack() {
  local cache=$1 suite=$2 arch=$3 tree=$4; shift 4
  local mirror index f
  mirror=$(bash "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh")
  mkdir -p "$cache" "$tree"
  index=$cache/Packages-$suite-$arch
  # One index per suite and arch and run of a setup script: re-read when older than a day.
  if [ ! -s "$index" ] || [ -n "$(find "$index" -mmin +1440)" ]; then
    debs_fetch_ "$mirror/dists/$suite/main/binary-$arch/Packages.xz" | xz -dc >"$index.tmp"
    mv "$index.tmp" "$index"
  fi
  local want=" $* "
  mapfile -t files < <(awk -v want="$want" '
    /^Package: /  { p = $2 }
    /^Filename: / { if (index(want, " " p " ")) print $2 }' "$index")
  if [ ${#files[@]} -ne $# ]; then
    printf 'lib-debs: %s/%s: wanted %s, the index has %s\n' "$suite" "$arch" "$*" "${files[*]}" >&2
    return 1
  fi
  for f in "${files[@]}"; do
    if [ ! -s "$cache/${f##*/}" ]; then
      printf 'lib-debs: fetching %s\n' "${f##*/}" >&2
      debs_fetch_ "$mirror/$f" -o "$cache/${f##*/}.tmp"
      mv "$cache/${f##*/}.tmp" "$cache/${f##*/}"
    fi
    dpkg-deb -x "$cache/${f##*/}" "$tree"
  done
}
