#!/usr/bin/env bash
# Build examples/multistage through the stager frontend (its first line is
# `# syntax=myorg/frontend`), show what the final image holds and how it compares with the
# builder stage.
#
# Env: DOCKER (default /usr/bin/docker), DEMO_FRONTEND=builtin builds with the daemon's own
# frontend instead (drops the syntax line), to compare.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-/usr/bin/docker}
export DOCKER DOCKER_BUILDKIT=1
EXAMPLE=examples/multistage
TAG=stager-demo

dockerfile=$EXAMPLE/Dockerfile
if [ "${DEMO_FRONTEND:-stager}" = builtin ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  sed '1{/^# *syntax=/d}' "$EXAMPLE/Dockerfile" > "$tmp/Dockerfile"
  dockerfile=$tmp/Dockerfile
  echo "== (DEMO_FRONTEND=builtin: the daemon's built-in frontend, not stager)"
fi

build() { # tag, extra flags...
  local tag=$1; shift
  local start end
  start=$(date +%s%N)
  "$DOCKER" build --progress=plain -f "$dockerfile" -t "$tag" "$@" "$EXAMPLE" > "/tmp/$TAG-build.log" 2>&1 || {
    tail -n 25 "/tmp/$TAG-build.log" >&2
    echo "demo: build of $tag failed (full log: /tmp/$TAG-build.log)" >&2
    exit 1
  }
  end=$(date +%s%N)
  printf '   built %s in %d ms\n' "$tag" $(( (end - start) / 1000000 ))
}

echo "== building $EXAMPLE ($(head -n1 "$dockerfile" | grep -o 'syntax=.*' || echo 'built-in frontend'))"
build "$TAG:latest"
build "$TAG:builder" --target builder

echo
echo "== files in $TAG:latest"
python3 scripts/image-files.py "$TAG:latest"

echo
echo "== running it"
"$DOCKER" run --rm "$TAG:latest"

size() { "$DOCKER" image inspect --format '{{.Size}}' "$1"; }
human() { numfmt --to=iec --suffix=B "$1" 2>/dev/null || echo "$1 B"; }
final=$(size "$TAG:latest")
builder=$(size "$TAG:builder")
echo
echo "== sizes"
printf '   %-26s %8s  (%s bytes)\n' "$TAG:latest (final)" "$(human "$final")" "$final"
printf '   %-26s %8s  (%s bytes)\n' "$TAG:builder" "$(human "$builder")" "$builder"
