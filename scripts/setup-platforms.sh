#!/usr/bin/env bash
# What multi-platform builds need on this amd64 machine: linux/arm64 programs run under QEMU, and
# the root file systems of a busybox base image for both platforms.
#
#   1. Debian sid's qemu-user (static binaries) unpacked under $ROOT/qemu (not installed);
#      binfmt_misc mounted; qemu-aarch64 registered with the unpacked interpreter and the F flag
#      (the kernel opens the interpreter at registration, so it works inside containers too).
#   2. $ROOT/rootfs-amd64 and $ROOT/rootfs-arm64: /bin/busybox (this machine's busybox-static and
#      bookworm's arm64 busybox-static) with its applet links, passwd and group as
#      scripts/setup-docker.sh makes them. tests/e2e/platforms.py builds the image from them.
#
# Idempotent (an existing qemu-aarch64 registration is kept). Prints nothing on stdout.
# Env: ROOT (/opt/stager-platforms), QEMU_SUITE (sid), BUSYBOX_SUITE (bookworm).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-debs.sh
. "$HERE/lib-debs.sh"
ROOT=${ROOT:-/opt/stager-platforms}
QEMU_SUITE=${QEMU_SUITE:-sid}
BUSYBOX_SUITE=${BUSYBOX_SUITE:-bookworm}
log() { printf 'setup-platforms: %s\n' "$*" >&2; }
mkdir -p "$ROOT"

# 1. QEMU ----------------------------------------------------------------------------------
if [ ! -x "$ROOT/qemu/usr/bin/qemu-aarch64" ]; then
  log "unpacking qemu-user ($QEMU_SUITE)"
  debs_unpack "$ROOT/debs" "$QEMU_SUITE" amd64 "$ROOT/qemu" qemu-user
fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
# A registration without F (its interpreter looked up by path at each exec, so not found inside
# containers) is replaced by ours; one with F works whatever happened to its file since.
reg=/proc/sys/fs/binfmt_misc/qemu-aarch64
if [ -e "$reg" ] && ! grep -q '^flags: .*F' "$reg"; then
  log "replacing the qemu-aarch64 registration without the F flag ($(sed -n 's/^interpreter //p' "$reg"))"
  echo -1 >"$reg"
fi
if [ ! -e "$reg" ]; then
  conf=$(cat "$ROOT/qemu/usr/share/qemu/binfmt.d/qemu-aarch64.conf")
  # :name:type:offset:magic:mask:interpreter:flags -- the interpreter is the unpacked one, and
  # F (fix binary) must be among the flags.
  IFS=: read -r _ name type offset magic mask _ flags <<<"$conf"
  case $flags in *F*) ;; *) flags="${flags}F" ;; esac
  log "registering $name (interpreter $ROOT/qemu/usr/bin/qemu-aarch64, flags $flags)"
  printf ':%s:%s:%s:%s:%s:%s:%s' "$name" "$type" "$offset" "$magic" "$mask" \
    "$ROOT/qemu/usr/bin/qemu-aarch64" "$flags" >/proc/sys/fs/binfmt_misc/register
fi

# 2. busybox root file systems ---------------------------------------------------------------
make_rootfs() { # $1 = arch, $2 = busybox binary
  local root=$ROOT/rootfs-$1 applet
  rm -rf "$root.tmp" && mkdir -p "$root.tmp"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/app,var}
  chmod 1777 "$root.tmp/tmp"
  chmod 700 "$root.tmp/root"
  install -m 755 "$2" "$root.tmp/bin/busybox"
  # The applet list of this machine's busybox: the arm64 one is the same Debian version.
  while read -r applet; do
    [ -n "$applet" ] && [ "$applet" != bin/busybox ] || continue
    [ -e "$root.tmp/$applet" ] || [ -L "$root.tmp/$applet" ] || ln -s /bin/busybox "$root.tmp/$applet"
  done < <(/bin/busybox --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' \
    >"$root.tmp/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$root.tmp/etc/group"
  rm -rf "$root" && mv "$root.tmp" "$root"
}
if [ ! -x "$ROOT/rootfs-amd64/bin/busybox" ]; then
  log "making rootfs-amd64 from /bin/busybox"
  make_rootfs amd64 /bin/busybox
fi
if [ ! -x "$ROOT/rootfs-arm64/bin/busybox" ]; then
  log "making rootfs-arm64 from busybox-static ($BUSYBOX_SUITE, arm64)"
  debs_unpack "$ROOT/debs" "$BUSYBOX_SUITE" arm64 "$ROOT/busybox-arm64" busybox-static
  make_rootfs arm64 "$ROOT/busybox-arm64/bin/busybox"
fi
