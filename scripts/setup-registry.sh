#!/usr/bin/env bash
# Make sure a local Docker registry answers on 127.0.0.1:5000 (for the cache round trip in
# tests/e2e/cache). Debian's docker-registry package (distribution 2.8), started detached, not
# through systemd or its init script.
#
# Idempotent and quick when the registry already answers: it only checks
# `curl -sf http://$REGISTRY_ADDR/v2/`. Otherwise installs docker-registry when missing (apt, with
# services kept from starting), starts `docker-registry serve` in its own session with the config
# below, and waits until /v2/ answers.
#
# Env: REGISTRY_ADDR (default 127.0.0.1:5000; loopback only), REGISTRY_CONFIG (default
# /etc/docker/registry/config.yml, the package's, which listens on :5000 and stores in
# /var/lib/docker-registry), REGISTRY_LOG (default /tmp/docker-registry.log), DOCKER (client for the
# insecure-registry check, default /usr/bin/docker).
set -euo pipefail

REGISTRY_ADDR=${REGISTRY_ADDR:-127.0.0.1:5000}
REGISTRY_CONFIG=$(realpath -m "${REGISTRY_CONFIG:-/etc/docker/registry/config.yml}")
REGISTRY_LOG=$(realpath -m "${REGISTRY_LOG:-/tmp/docker-registry.log}")
DOCKER=${DOCKER:-/usr/bin/docker}

log() { printf 'setup-registry: %s\n' "$*" >&2; }
if ! command -v curl >/dev/null 2>&1; then
  apt-get install -y -qq curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl >/dev/null; }
fi
answers() { curl -sf -o /dev/null --max-time 2 "http://$REGISTRY_ADDR/v2/"; }

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
sudo_() { $SUDO "$@"; }

if answers; then
  log "registry answers on $REGISTRY_ADDR"
  exit 0
fi

# 1. package ------------------------------------------------------------------------------
if ! command -v docker-registry >/dev/null 2>&1; then
  log "installing docker-registry"
  export DEBIAN_FRONTEND=noninteractive
  # Keep apt from starting the registry through its init script / systemd: we start it below,
  # detached, and a service started by apt would hold make's output open.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | sudo_ tee /usr/sbin/policy-rc.d >/dev/null
    sudo_ chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  if ! sudo_ apt-get install -y -qq docker-registry >/dev/null 2>&1; then
    sudo_ apt-get update -qq
    sudo_ apt-get install -y -qq docker-registry >/dev/null
  fi
  if [ -n "$made_policy" ]; then sudo_ rm -f /usr/sbin/policy-rc.d; fi
fi

# 2. config -------------------------------------------------------------------------------
# The package's config listens on :5000 (every interface). Only loopback is wanted, so unless the
# caller named another config, write one bound to $REGISTRY_ADDR next to the package's.
if [ "$REGISTRY_CONFIG" = /etc/docker/registry/config.yml ]; then
  own=/etc/docker/registry/config-loopback.yml
  root_dir=$(sed -n 's/^ *rootdirectory: *//p' /etc/docker/registry/config.yml 2>/dev/null | head -n1)
  root_dir=${root_dir:-/var/lib/docker-registry}
  want=$(cat <<EOF
# Written by stager's scripts/setup-registry.sh: the package's config, bound to loopback.
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $root_dir
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
)
  if [ "$(cat "$own" 2>/dev/null)" != "$want" ]; then
    printf '%s\n' "$want" | sudo_ tee "$own" >/dev/null
  fi
  sudo_ mkdir -p "$root_dir"
  REGISTRY_CONFIG=$own
fi

# 3. daemon -------------------------------------------------------------------------------
if pgrep -x docker-registry >/dev/null 2>&1; then
  log "docker-registry is running but $REGISTRY_ADDR does not answer yet; waiting"
else
  log "starting docker-registry on $REGISTRY_ADDR (config $REGISTRY_CONFIG, log $REGISTRY_LOG)"
  # Detached like dockerd in setup-docker.sh: own session, no stdin, output to a file, inherited
  # descriptors closed, so make never waits on a pipe the registry holds open.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    cd /  # a daemon outlives the clone that started it
    exec $SUDO setsid nohup docker-registry serve "$REGISTRY_CONFIG" >"$REGISTRY_LOG" 2>&1 </dev/null
  ) &
  disown || true
fi
for _ in $(seq 1 60); do
  answers && break
  sleep 0.5
done
if ! answers; then
  log "registry did not answer on http://$REGISTRY_ADDR/v2/ within 30 s; last lines of $REGISTRY_LOG:"
  tail -n 20 "$REGISTRY_LOG" >&2 || true
  exit 1
fi

# 4. docker must treat it as insecure (plain HTTP) ----------------------------------------
# Docker 20.10 lists 127.0.0.0/8 among its insecure registries by default; say so if someone
# configured it away.
if "$DOCKER" info --format '{{json .RegistryConfig.InsecureRegistryCIDRs}}' 2>/dev/null \
    | grep -q '"127.0.0.0/8"'; then
  log "ready: http://$REGISTRY_ADDR/v2/ answers; docker treats 127.0.0.0/8 as insecure"
else
  log "warning: docker does not list 127.0.0.0/8 as an insecure registry; pushes to $REGISTRY_ADDR may try HTTPS"
fi
