#!/usr/bin/env bash
# A standalone buildkitd v0.32.2 (../shared/tools/buildkit: OCI worker, runc) on TCP 127.0.0.1
# with mutual TLS, as shared CI builders run it: certificates made here with openssl (a CA, a
# server certificate for IP 127.0.0.1, a client certificate), docker.io mirrored by the local
# registry on 127.0.0.1:5000 (plain HTTP), which is how this offline machine gives it base images.
#
# Idempotent: makes the certificates once, starts the daemon only when `buildctl debug workers`
# does not answer. FRESH=1 stops this instance (by its pid file) and empties its root first: the
# second, empty daemon of the cache round trip. Prints nothing on stdout; afterwards
# $ROOT/$NAME/buildctl and buildctl-2 are clients for it (TLS flags included,
# each its own client certificate).
#
# Env: NAME (a), PORT (18601), ROOT (/opt/stager-buildkitd), SHARED (<repo>/../shared),
# BUILDKIT_BIN (/opt/buildkit-ref/bin), REGISTRY_ADDR (127.0.0.1:5000), FRESH (0).
# Exit 3 (nothing started) when $SHARED/tools/buildkit is missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=${NAME:-a}
PORT=${PORT:-18601}
ROOT=${ROOT:-/opt/stager-buildkitd}
SHARED=${SHARED:-$HERE/../../shared}
BUILDKIT_BIN=${BUILDKIT_BIN:-/opt/buildkit-ref/bin}
REGISTRY_ADDR=${REGISTRY_ADDR:-127.0.0.1:5000}
DIR=$(realpath -m "$ROOT/$NAME")
CERTS=$ROOT/certs

log() { printf 'setup-buildkitd[%s]: %s\n' "$NAME" "$*" >&2; }

if [ ! -x "$SHARED/tools/buildkit/install.sh" ]; then
  log "no $SHARED/tools/buildkit: no buildkitd here"
  exit 3
fi
bin=$(sh "$SHARED/tools/buildkit/install.sh" "$BUILDKIT_BIN")
if ! command -v runc >/dev/null 2>&1; then
  log "installing runc"
  apt-get install -y -qq runc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq runc >/dev/null; }
fi
mkdir -p "$DIR" "$CERTS"

# 1. certificates: one CA for the server and the client; the server's names 127.0.0.1.
if [ ! -s "$CERTS/client2.pem" ]; then
  log "making a CA, a server and a client certificate in $CERTS"
  (
    cd "$CERTS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=stager test CA" \
      -keyout ca-key.pem -out ca.pem 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    cp client.ext client2.ext
    for who in server client client2; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=stager $who" -keyout "$who-key.pem" \
        -out "$who.csr" 2>/dev/null
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
        -extfile "$who.ext" -out "$who.pem" 2>/dev/null
    done
    rm -f ./*.csr
  )
fi

# Two clients, each with its own certificate (the concurrency check uses both).
for c in "buildctl client" "buildctl-2 client2"; do
  set -- $c
  cat >"$DIR/$1" <<EOT
#!/bin/sh
exec $bin/buildctl --addr tcp://127.0.0.1:$PORT --tlsservername 127.0.0.1 \\
  --tlscacert $CERTS/ca.pem --tlscert $CERTS/$2.pem --tlskey $CERTS/$2-key.pem "\$@"
EOT
  chmod +x "$DIR/$1"
done
answers() { timeout 10 "$DIR/buildctl" debug workers >/dev/null 2>&1; }

# One started from a folder deleted since cannot run git for ADD of a repository: start it again.
if [ -s "$DIR/buildkitd.pid" ]; then
  pid=$(cat "$DIR/buildkitd.pid")
  if [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == *"(deleted)" ]]; then
    log "buildkitd $pid runs in a deleted folder; restarting it"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
fi
if [ "${FRESH:-0}" = 1 ] && [ -s "$DIR/buildkitd.pid" ]; then
  pid=$(cat "$DIR/buildkitd.pid")
  if kill -0 "$pid" 2>/dev/null && grep -q buildkitd "/proc/$pid/cmdline" 2>/dev/null; then
    log "stopping buildkitd $pid to start it empty"
    kill "$pid"
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  rm -rf "$DIR/root"
elif answers; then
  exit 0
fi

# 2. config and daemon.
cat >"$DIR/buildkitd.toml" <<EOT
root = "$DIR/root"
[grpc]
  address = ["tcp://127.0.0.1:$PORT"]
  [grpc.tls]
    cert = "$CERTS/server.pem"
    key = "$CERTS/server-key.pem"
    ca = "$CERTS/ca.pem"
[worker.oci]
  enabled = true
[worker.containerd]
  enabled = false
[registry."docker.io"]
  mirrors = ["$REGISTRY_ADDR"]
[registry."$REGISTRY_ADDR"]
  http = true
EOT
log "starting buildkitd $("$bin/buildkitd" --version | awk '{print $3}') on 127.0.0.1:$PORT (mutual TLS; log $DIR/buildkitd.log)"
(
  for fd in /proc/$BASHPID/fd/*; do
    n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-" || true
  done
  # From /: buildkitd runs git in its own folder, which must outlive the clone that started it.
  cd /
  setsid nohup "$bin/buildkitd" --config "$DIR/buildkitd.toml" >"$DIR/buildkitd.log" 2>&1 </dev/null &
  echo $! >"$DIR/buildkitd.pid"
)
for _ in $(seq 60); do answers && break; sleep 0.5; done
if ! answers; then
  log "buildkitd did not answer; last lines of $DIR/buildkitd.log:"
  tail -20 "$DIR/buildkitd.log" >&2
  exit 1
fi
