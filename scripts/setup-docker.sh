#!/usr/bin/env bash
# Make sure a Docker Engine with BuildKit answers on this machine and that the offline base
# images the examples and end-to-end cases use exist locally.
#
# Idempotent: installs docker.io/busybox-static only when missing, starts dockerd only when
# `docker info` does not answer, imports busybox only when the image is missing (or when
# FORCE_BASE=1). Nothing is pulled from any registry.
#
# Env: DOCKERD (daemon command, default dockerd), DOCKER (client, default /usr/bin/docker -- /usr/local/bin/docker may be a newer CLI
# without buildx, which cannot do DOCKER_BUILDKIT=1 builds), DOCKERD_LOG (default /tmp/dockerd.log).
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}
DOCKERD=${DOCKERD:-dockerd}
DOCKERD_LOG=$(realpath -m "${DOCKERD_LOG:-/tmp/dockerd.log}")
BASE_IMAGES=${BASE_IMAGES:-busybox:latest}

log() { printf 'setup-docker: %s\n' "$*" >&2; }

SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
sudo_() { $SUDO "$@"; }

# 1. packages -----------------------------------------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
need=()
if ! [ -x "$DOCKER" ] || ! command -v "$DOCKERD" >/dev/null 2>&1; then need+=(docker.io); fi
# The static build matters: the rootfs has no libc.
if ! installed busybox-static; then need+=(busybox-static); fi
# The e2e harness runs an ssh-agent for the `--ssh default` case.
if ! command -v ssh-agent >/dev/null 2>&1; then need+=(openssh-client); fi
# `make bench` reads a process's peak RSS through GNU time (see scripts/bench-build.py).
if ! [ -x /usr/bin/time ]; then need+=(time); fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep apt from starting docker through its init script (it would hold our output open, and
  # we start dockerd ourselves below); the usual container policy file, only if none exists.
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | sudo_ tee /usr/sbin/policy-rc.d >/dev/null
    sudo_ chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  sudo_ apt-get update -qq
  sudo_ apt-get install -y -qq "${need[@]}" >/dev/null
  if [ -n "$made_policy" ]; then sudo_ rm -f /usr/sbin/policy-rc.d; fi
fi

# 2. daemon -------------------------------------------------------------------------------
if ! "$DOCKER" info >/dev/null 2>&1; then
  # The default daemon's own pid file: another dockerd (the current one of
  # setup-docker-current.sh) may run beside it.
  if [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    log "dockerd is running but not answering yet; waiting"
  else
    # dockerd needs cgroups; Debian's init script mounts them with cgroupfs-mount, so do the same
    # when nothing is mounted there.
    if ! grep -q ' /sys/fs/cgroup' /proc/mounts && command -v cgroupfs-mount >/dev/null 2>&1; then
      log "mounting cgroups (cgroupfs-mount)"
      sudo_ cgroupfs-mount || true
    fi
    log "starting dockerd (log: $DOCKERD_LOG)"
    # Detached: own session, no stdin, output to a file, every other inherited descriptor closed,
    # so neither make nor CI ever waits on a pipe that dockerd holds open.
    (
      for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
      done
      cd /  # git runs in the daemon's folder (ADD of a repository); it must outlive this clone
      exec $SUDO setsid nohup "$DOCKERD" >"$DOCKERD_LOG" 2>&1 </dev/null
    ) &
    disown || true
  fi
  for _ in $(seq 1 120); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 0.5
  done
  if ! "$DOCKER" info >/dev/null 2>&1; then
    log "dockerd did not answer within 60 s; last lines of $DOCKERD_LOG:"
    tail -n 30 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
fi

# 3. base images --------------------------------------------------------------------------
make_busybox_rootfs() { # $1 = empty directory
  local root=$1
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var,dev,proc,sys}
  chmod 1777 "$root/tmp"
  chmod 700 "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  chmod 755 "$root/bin/busybox"
  # Same layout as `busybox --install -s`: absolute symlinks to /bin/busybox.
  local applet
  while read -r applet; do
    [ -n "$applet" ] && [ "$applet" != bin/busybox ] || continue
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done < <(/bin/busybox --list-full)
  cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
  cat >"$root/etc/group" <<'GROUP'
root:x:0:
daemon:x:1:
bin:x:2:
wheel:x:10:root
app:x:1000:
nogroup:x:65534:
GROUP
  mkdir -p "$root/home/app"
}

for img in $BASE_IMAGES; do
  if [ "${FORCE_BASE:-0}" != 1 ] && "$DOCKER" image inspect "$img" >/dev/null 2>&1; then
    continue
  fi
  log "importing $img from /bin/busybox"
  tmp=$(mktemp -d)
  make_busybox_rootfs "$tmp/rootfs"
  # Fixed owner and mtime so the layer is the same on every machine.
  tar --numeric-owner --owner=0 --group=0 --mtime='2000-01-01 00:00:00Z' --sort=name \
      -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
  "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' \
    "$tmp/rootfs.tar" "$img" >/dev/null
  rm -rf "$tmp"
done
log "ready: $("$DOCKER" version --format '{{.Server.Version}}'), images: $BASE_IMAGES"
