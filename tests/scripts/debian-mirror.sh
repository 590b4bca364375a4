#!/usr/bin/env bash
# scripts/debian-mirror.sh reads the archive from apt's own sources: deb822 .sources first (the
# first non-security `deb` stanza), else one-line sources.list entries (options in brackets
# skipped), and fails when there is none. Mirror names here are placeholders.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script=$here/../../scripts/debian-mirror.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
check() { # name, expected (empty = must fail), dir
  local got rc=0
  got=$(APT_SOURCES_DIR=$3 bash "$script" 2>/dev/null) || rc=$?
  if { [ -z "$2" ] && [ $rc -ne 0 ]; } || { [ -n "$2" ] && [ $rc -eq 0 ] && [ "$got" = "$2" ]; }; then
    passed=$((passed + 1)); echo "ok $1"
  else
    failed=$((failed + 1)); echo "FAIL $1: got '$got' (exit $rc), expected '${2:-failure}'"
  fi
}

d=$tmp/deb822; mkdir -p "$d/sources.list.d"
cat >"$d/sources.list.d/debian.sources" <<'EOT'
# a comment
Types: deb
URIs: http://security.invalid/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.invalid/debian
Suites: bookworm

Types: deb
URIs: http://archive.invalid/debian/ http://second.invalid/debian
Suites: bookworm bookworm-updates
Components: main
EOT
printf 'deb http://list.invalid/debian bookworm main\n' >"$d/sources.list"
check "deb822 wins, security and deb-src stanzas skipped, trailing slash dropped" http://archive.invalid/debian "$d"

d=$tmp/list; mkdir -p "$d/sources.list.d"
printf '# deb http://commented.invalid/debian bookworm main\ndeb http://security.invalid/debian-security bookworm-security main\ndeb [arch=amd64 signed-by=/k.gpg] http://list.invalid/debian bookworm main\n' >"$d/sources.list"
check "one-line format with options" http://list.invalid/debian "$d"

d=$tmp/none; mkdir -p "$d/sources.list.d"
check "no sources: an error" "" "$d"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
