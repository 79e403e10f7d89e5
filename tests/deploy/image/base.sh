#!/usr/bin/env bash
# The Debian 12 base images the Dockerfile names, made locally because no
# container registry is reachable: `debootstrap --variant=minbase bookworm`
# from the configured Debian mirror, trimmed of what a slim image leaves out,
# imported as docker.io/library/debian:bookworm and :bookworm-slim (the names
# `FROM debian:bookworm[-slim]` resolves to). Does nothing when they exist.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/podman.sh"
if wpodman image exists docker.io/library/debian:bookworm &&
  wpodman image exists docker.io/library/debian:bookworm-slim; then
  exit 0
fi

# The first deb822 URIs (or one-line deb) entry of the host's apt sources: the
# mirror this machine is configured for.
mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
if [[ -z "$mirror" ]]; then
  mirror="$(awk '$1 == "deb" { print ($2 ~ /^\[/ ? $3 : $2); exit }' /etc/apt/sources.list 2>/dev/null || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

rootfs="$(mktemp -d /var/tmp/wsrouter-rootfs.XXXXXX)"
# mktemp makes it 0700; it becomes the image's /, which every user must traverse.
chmod 0755 "$rootfs"
# debootstrap mounts /proc (and more) inside the target while it runs: an
# interrupted run must not leave them behind, nor rm walk into them.
cleanup() {
  grep -o " $rootfs/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf --one-file-system "$rootfs" "$rootfs.log"
}
trap cleanup EXIT
echo "base: debootstrap --variant=minbase bookworm from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
  { tail -20 "$rootfs.log"; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
# The host's apt sources when they are deb822 (bookworm, -updates and
# -security, as in the official image); debootstrap writes only `bookworm main`.
if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
  cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -f "$rootfs/etc/apt/sources.list"
fi
# Security and point-release updates in the base, as an official image has
# them: done here, they are not copied again into every image's upper layer.
chroot "$rootfs" apt-get update -qq
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq >/dev/null
chroot "$rootfs" apt-get clean
# What debian:bookworm-slim leaves out as well: package caches, documentation.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/*
tar --numeric-owner -C "$rootfs" -c . | wpodman import - docker.io/library/debian:bookworm-slim >/dev/null
wpodman tag docker.io/library/debian:bookworm-slim docker.io/library/debian:bookworm
wpodman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep 'debian:bookworm'
