#!/usr/bin/env bash
# A buildkit image for buildx's docker-container driver, made here (no registry this machine
# reaches has moby/buildkit): FROM scratch with buildkitd and buildctl v0.32.2
# (../shared/tools/buildkit), bookworm's runc (from the current Docker's tree) with the shared
# libraries `ldd` names at the same paths, /bin/busybox for sh, /tmp 1777, VOLUME
# /var/lib/buildkit, ENTRYPOINT buildkitd. Loaded into the current Docker ($CURRENT_ROOT/docker).
#
# Idempotent: does nothing when the image exists. Prints nothing on stdout.
# Env: IMAGE (stager-e2e/buildkit:v0.32.2), CURRENT_ROOT (/opt/stager-docker-current),
# BUILDKIT_BIN (/opt/buildkit-ref/bin), SHARED (<repo>/../shared).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE=${IMAGE:-stager-e2e/buildkit:v0.32.2}
CURRENT_ROOT=${CURRENT_ROOT:-/opt/stager-docker-current}
BUILDKIT_BIN=${BUILDKIT_BIN:-/opt/buildkit-ref/bin}
SHARED=${SHARED:-$HERE/../../shared}
DOCKER=$CURRENT_ROOT/docker

if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi
bin=$(sh "$SHARED/tools/buildkit/install.sh" "$BUILDKIT_BIN")
runc=$CURRENT_ROOT/tree/usr/sbin/runc
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/root/usr/bin" "$ctx/root/bin" "$ctx/root/tmp"
chmod 1777 "$ctx/root/tmp"
cp "$bin/buildkitd" "$bin/buildctl" "$runc" "$ctx/root/usr/bin/"
cp /bin/busybox "$ctx/root/bin/busybox"
ln -s busybox "$ctx/root/bin/sh"
for lib in $(ldd "$runc" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
  mkdir -p "$ctx/root$(dirname "$lib")"
  cp -L "$lib" "$ctx/root$lib"
done
cat >"$ctx/Dockerfile" <<'EOT'
FROM scratch
COPY root/ /
ENV PATH=/usr/bin:/usr/sbin:/bin
VOLUME /var/lib/buildkit
ENTRYPOINT ["buildkitd"]
EOT
printf 'setup: making the buildkit image %s\n' "$IMAGE" >&2
"$DOCKER" build -q -t "$IMAGE" "$ctx" >/dev/null
