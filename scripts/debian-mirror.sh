#!/usr/bin/env bash
# Prints the Debian archive URL this machine's apt uses (no trailing slash), read from
# /etc/apt/sources.list.d/*.sources (deb822) or else /etc/apt/sources.list and
# /etc/apt/sources.list.d/*.list: the first `deb` entry whose suite is not a -security one. The
# project names no mirror itself: scripts fetch .debs from wherever apt is pointed.
#
# Env: APT_SOURCES_DIR (/etc/apt) for tests. Exit 1, with a message on stderr, when none is found.
set -euo pipefail
dir=${APT_SOURCES_DIR:-/etc/apt}

from_deb822() { # files...
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && uris != "" && suites !~ /-security/ && !done) {
        split(uris, u, " "); print u[1]; done = 1
      }
      types = ""; uris = ""; suites = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    tolower($1) == "types:"  { $1 = ""; types = $0 }
    tolower($1) == "uris:"   { $1 = ""; sub(/^ +/, ""); uris = $0 }
    tolower($1) == "suites:" { $1 = ""; suites = $0 }
    END { flush() }
  ' "$@"
}

from_list() { # files...
  awk '
    /^[ \t]*deb[ \t]/ {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) !~ /-security/) { print $i; exit }
    }
  ' "$@"
}

url=
shopt -s nullglob
sources=("$dir"/sources.list.d/*.sources)
if [ ${#sources[@]} -gt 0 ]; then
  for f in "${sources[@]}"; do
    url=$(from_deb822 "$f" | head -n1)
    [ -n "$url" ] && break
  done
fi
if [ -z "$url" ]; then
  lists=()
  [ -f "$dir/sources.list" ] && lists+=("$dir/sources.list")
  lists+=("$dir"/sources.list.d/*.list)
  [ ${#lists[@]} -gt 0 ] && url=$(from_list "${lists[@]}" | head -n1)
fi
if [ -z "$url" ]; then
  printf 'debian-mirror: no Debian archive found in %s/sources.list.d/*.sources or sources.list\n' "$dir" >&2
  exit 1
fi
printf '%s\n' "${url%/}"
