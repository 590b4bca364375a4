#!/usr/bin/env bash
# A second, current Docker Engine beside Docker 20.10, for the end-to-end tests on today's
# BuildKit: Debian's newest docker.io (SUITE=sid: Docker 28.5, BuildKit v0.25, buildx 0.29,
# containerd 2.1 from the same suite) with bookworm's runc (sid's needs a newer glibc),
# unpacked under $ROOT (nothing installed through apt, the system's 20.10 stays as it is), run
# on its own socket, data root, containerd and bridge, with the containerd image store. It gets
# busybox:latest and the frontend image from the 20.10 daemon, and, when
# ../shared/tools/buildkit exists, the official 1.26 frontend as a gateway image ($OFFICIAL).
#
# Idempotent. Prints nothing on stdout. Afterwards `$ROOT/docker` is a client for it, and
# `$ROOT/docker-default` the same client (with buildx) for the default daemon.
#
# Env: ROOT (/opt/stager-docker-current), IMAGE (myorg/frontend), DOCKER (the 20.10 client),
# SUITE (sid), RUNC_SUITE (bookworm), BRIDGE (stagerbr0), BRIDGE_CIDR (172.31.250.1/24),
# OFFICIAL (official/dockerfile:1.26.0), SHARED (<repo>/../shared).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-debs.sh
. "$HERE/lib-debs.sh"
ROOT=${ROOT:-/opt/stager-docker-current}
IMAGE=${IMAGE:-myorg/frontend}
DOCKER=${DOCKER:-/usr/bin/docker}
SUITE=${SUITE:-sid}
RUNC_SUITE=${RUNC_SUITE:-bookworm}
BRIDGE=${BRIDGE:-stagerbr0}
BRIDGE_CIDR=${BRIDGE_CIDR:-172.31.250.1/24}
OFFICIAL=${OFFICIAL:-official/dockerfile:1.26.0}
SHARED=${SHARED:-$HERE/../../shared}
ROOT=$(realpath -m "$ROOT")
SOCK=$ROOT/run/docker.sock

log() { printf 'setup-docker-current: %s\n' "$*" >&2; }

mkdir -p "$ROOT"/{debs,tree,run,data,exec,config/cli-plugins}

# 1. binaries. A tree from an older run of this script (another suite) is replaced whole.
if [ "$(cat "$ROOT/tree/.suite" 2>/dev/null)" != "$SUITE+$RUNC_SUITE" ]; then
  if "$ROOT/docker" info >/dev/null 2>&1; then
    log "stopping the dockerd of an older tree ($(cat "$ROOT/tree/.suite" 2>/dev/null || echo '?'))"
    kill "$(cat "$ROOT/run/dockerd.pid")" 2>/dev/null || true
    for _ in $(seq 30); do "$ROOT/docker" info >/dev/null 2>&1 || break; sleep 1; done
  fi
  # The data of another engine and containerd version is test cache only: start it anew.
  rm -rf "$ROOT/tree" "$ROOT/data" "$ROOT/exec" && mkdir -p "$ROOT/tree" "$ROOT/data" "$ROOT/exec"
  log "unpacking docker.io, docker-cli, docker-buildx, containerd ($SUITE) and runc ($RUNC_SUITE)"
  debs_unpack "$ROOT/debs" "$SUITE" amd64 "$ROOT/tree" docker.io docker-cli docker-buildx containerd
  debs_unpack "$ROOT/debs" "$RUNC_SUITE" amd64 "$ROOT/tree" runc
  echo "$SUITE+$RUNC_SUITE" >"$ROOT/tree/.suite"
fi
# Replaced by rename, never rewritten in place: a build may be running it.
if ! cmp -s "$ROOT/tree/usr/libexec/docker/cli-plugins/docker-buildx" "$ROOT/config/cli-plugins/docker-buildx"; then
  cp "$ROOT/tree/usr/libexec/docker/cli-plugins/docker-buildx" "$ROOT/config/cli-plugins/.docker-buildx.new"
  mv "$ROOT/config/cli-plugins/.docker-buildx.new" "$ROOT/config/cli-plugins/docker-buildx"
fi

cat > "$ROOT/docker" <<EOT
#!/bin/sh
export DOCKER_CONFIG=$ROOT/config
exec $ROOT/tree/usr/bin/docker -H unix://$SOCK "\$@"
EOT
chmod +x "$ROOT/docker"
# The same client and buildx on the default daemon (Docker 20.10), whose own classic client
# cannot print BuildKit's progress as JSON: tests/e2e/run.py's E2E_RAWJSON_DOCKER.
cat > "$ROOT/docker-default" <<EOT
#!/bin/sh
export DOCKER_CONFIG=$ROOT/config
exec $ROOT/tree/usr/bin/docker -H unix:///var/run/docker.sock "\$@"
EOT
chmod +x "$ROOT/docker-default"

# 2. the daemon, with the containerd image store (multi-platform images; provenance, which
#    tests/e2e/current/llb_compare.py reads the solved LLB from), on a bridge of its own (no
#    iptables: builds need no outside network here). Never --bridge=none: with it dockerd deletes
#    docker0, the bridge the 20.10 daemon uses.
# A dockerd started from a folder that is gone since (an old clone) cannot run git for ADD of a
# repository ("Unable to read current working directory"): stop it, so it starts again below.
if [ -s "$ROOT/run/dockerd.pid" ]; then
  pid=$(cat "$ROOT/run/dockerd.pid")
  if [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == *"(deleted)" ]]; then
    log "dockerd $pid runs in a deleted folder; restarting it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
fi
if ! "$ROOT/docker" info >/dev/null 2>&1; then
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  printf '{"features": {"containerd-snapshotter": true}}\n' > "$ROOT/daemon.json"
  log "starting dockerd $("$ROOT/tree/usr/sbin/dockerd" --version | cut -d' ' -f3 | tr -d ,) (log: $ROOT/dockerd.log)"
  (
    for fd in /proc/$BASHPID/fd/*; do
      n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" || true
    done
    # From /: the daemon's folder is where git runs for ADD of a repository, and the clone
    # that started it may be deleted. PATH: dockerd starts the containerd, shim and runc it
    # finds first.
    cd /
    PATH=$ROOT/tree/usr/sbin:$ROOT/tree/usr/bin:$PATH setsid nohup "$ROOT/tree/usr/sbin/dockerd" \
      --config-file "$ROOT/daemon.json" -H "unix://$SOCK" --data-root "$ROOT/data" --exec-root "$ROOT/exec" \
      --pidfile "$ROOT/run/dockerd.pid" \
      --containerd-namespace stager-current --containerd-plugins-namespace stager-current-plugins \
      --bridge="$BRIDGE" --iptables=false --ip6tables=false \
      >"$ROOT/dockerd.log" 2>&1 </dev/null &
  )
  for _ in $(seq 90); do "$ROOT/docker" info >/dev/null 2>&1 && break; sleep 1; done
  "$ROOT/docker" info >/dev/null 2>&1 || { log "dockerd did not answer; see $ROOT/dockerd.log"; tail -20 "$ROOT/dockerd.log" >&2; exit 1; }
fi

# 3. images: the same busybox and the frontend image just built for 20.10.
want=(busybox:latest "$IMAGE")
# Image IDs differ between the two stores (config digest there, manifest digest here): compare
# the layers and the config instead.
same_as() { "$1" image inspect -f '{{json .RootFS.Layers}} {{json .Config.Env}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.Labels}} {{json .Config.WorkingDir}}' "$2" 2>/dev/null || true; }
for ref in "${want[@]}"; do
  src=$(same_as "$DOCKER" "$ref")
  dst=$(same_as "$ROOT/docker" "$ref")
  if [ "$src" != "$dst" ]; then
    log "loading $ref"
    "$DOCKER" save "$ref" | "$ROOT/docker" load >/dev/null
  fi
done

# 4. the official 1.26 frontend as a gateway image, made as its README says (only with ../shared).
if [ -x "$SHARED/tools/buildkit/install.sh" ]; then
  bin=$(sh "$SHARED/tools/buildkit/install.sh" "${BUILDKIT_BIN:-/opt/buildkit-ref/bin}")
  if ! "$ROOT/docker" image inspect "$OFFICIAL" >/dev/null 2>&1; then
    log "making $OFFICIAL from $bin/dockerfile-frontend"
    ctx=$(mktemp -d)
    cp "$bin/dockerfile-frontend" "$ctx/"
    "$ROOT/docker" build -q -f "$SHARED/tools/buildkit/official-frontend.Dockerfile" -t "$OFFICIAL" "$ctx" >/dev/null
    rm -rf "$ctx"
  fi
fi
