#!/usr/bin/env bash
# A second, current Docker Engine beside Docker 20.10, for the end-to-end tests on a newer
# BuildKit: Debian trixie's docker.io (26.1, BuildKit v0.13: MergeOp, gateway warnings, named
# contexts) with its CLI and buildx, unpacked under $ROOT (nothing installed through apt, the
# system's 20.10 stays as it is), run on its own socket, data root, containerd namespace and
# bridge. It gets busybox:latest and the frontend image from the 20.10 daemon.
#
# Idempotent. Prints nothing on stdout. Afterwards `$ROOT/docker` is a client for it.
#
# Env: ROOT (/opt/stager-docker-current), IMAGE (myorg/frontend), DOCKER (the 20.10 client),
# MIRROR (http://deb.debian.org/debian), SUITE (trixie).
set -euo pipefail

ROOT=${ROOT:-/opt/stager-docker-current}
IMAGE=${IMAGE:-myorg/frontend}
DOCKER=${DOCKER:-/usr/bin/docker}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${SUITE:-trixie}
SOCK=$ROOT/run/docker.sock
BRIDGE=stagerbr0

log() { printf 'setup-docker-current: %s\n' "$*" >&2; }
fetch() { curl -fsS --retry 5 --retry-delay 2 --max-time 600 "$@"; }

mkdir -p "$ROOT"/{debs,tree,run,data,exec,config/cli-plugins}

# 1. binaries: the current filenames from the suite's package index, so point releases of
#    the suite do not break this script.
if [ ! -x "$ROOT/tree/usr/sbin/dockerd" ] || [ ! -x "$ROOT/config/cli-plugins/docker-buildx" ]; then
  log "reading the $SUITE package index"
  fetch "$MIRROR/dists/$SUITE/main/binary-amd64/Packages.xz" -o "$ROOT/debs/Packages.xz"
  mapfile -t files < <(xz -dc "$ROOT/debs/Packages.xz" | awk '
    /^Package: /  { p = $2 }
    /^Filename: / { if (p == "docker.io" || p == "docker-cli" || p == "docker-buildx") print $2 }')
  [ ${#files[@]} -eq 3 ] || { log "expected 3 packages in the index, found ${#files[@]}"; exit 1; }
  for f in "${files[@]}"; do
    log "fetching $(basename "$f")"
    fetch "$MIRROR/$f" -o "$ROOT/debs/$(basename "$f")"
    dpkg-deb -x "$ROOT/debs/$(basename "$f")" "$ROOT/tree"
  done
  cp "$ROOT/tree/usr/libexec/docker/cli-plugins/docker-buildx" "$ROOT/config/cli-plugins/"
fi

cat > "$ROOT/docker" <<EOF
#!/bin/sh
export DOCKER_CONFIG=$ROOT/config
exec $ROOT/tree/usr/bin/docker -H unix://$SOCK "\$@"
EOF
chmod +x "$ROOT/docker"

# 2. the daemon, with the containerd image store (so that builds can carry provenance, which
#    tests/e2e/current/llb_compare.py reads the solved LLB from), on a bridge of its own (no iptables: builds need no outside network here).
#    Never --bridge=none: with it dockerd deletes docker0, the bridge the 20.10 daemon uses.
if ! "$ROOT/docker" info >/dev/null 2>&1; then
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add 172.31.250.1/24 dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  printf '{"features": {"containerd-snapshotter": true}}\n' > "$ROOT/daemon.json"
  log "starting dockerd $("$ROOT/tree/usr/sbin/dockerd" --version | cut -d' ' -f3 | tr -d ,) (log: $ROOT/dockerd.log)"
  (
    for fd in /proc/$BASHPID/fd/*; do
      n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" || true
    done
    PATH=$ROOT/tree/usr/sbin:$ROOT/tree/usr/bin:$PATH setsid nohup "$ROOT/tree/usr/sbin/dockerd" \
      --config-file "$ROOT/daemon.json" -H "unix://$SOCK" --data-root "$ROOT/data" --exec-root "$ROOT/exec" \
      --pidfile "$ROOT/run/dockerd.pid" \
      --containerd-namespace stager-current --containerd-plugins-namespace stager-current-plugins \
      --bridge="$BRIDGE" --iptables=false --ip6tables=false \
      >"$ROOT/dockerd.log" 2>&1 </dev/null &
  )
  for _ in $(seq 60); do "$ROOT/docker" info >/dev/null 2>&1 && break; sleep 1; done
  "$ROOT/docker" info >/dev/null 2>&1 || { log "dockerd did not answer; see $ROOT/dockerd.log"; tail -20 "$ROOT/dockerd.log" >&2; exit 1; }
fi

# 3. images: the same busybox and the frontend image just built for 20.10.
want=(busybox:latest "$IMAGE")
for ref in "${want[@]}"; do
  src=$("$DOCKER" image inspect -f '{{.Id}}' "$ref")
  dst=$("$ROOT/docker" image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)
  if [ "$src" != "$dst" ]; then
    log "loading $ref"
    "$DOCKER" save "$ref" | "$ROOT/docker" load >/dev/null
  fi
done
