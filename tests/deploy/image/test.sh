#!/usr/bin/env bash
# make image-test: the image built by `make image`, checked for what it holds
# (size, no compiler, user, entrypoint, ports, stop signal) and then run for
# real with podman (test_image.py): read-only, every capability dropped, as
# uid 65532, probes and a WebSocket client on published loopback ports,
# SIGTERM on `podman stop`, exit 0.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/podman.sh"
export WSR_PODMAN_ROOT WSR_IMAGE
MAX_MB="${MAX_IMAGE_MB:-160}"
status=0
fail() { echo "image-test: FAIL: $*"; status=1; }

wpodman image exists "$WSR_IMAGE" || { echo "image-test: $WSR_IMAGE missing: make image"; exit 1; }
size=$(wpodman image inspect --format '{{.Size}}' "$WSR_IMAGE")
echo "image-test: $WSR_IMAGE is $((size / 1024 / 1024)) MiB (limit $MAX_MB)"
((size <= MAX_MB * 1024 * 1024)) || fail "image larger than $MAX_MB MiB"

inspect() { wpodman image inspect --format "$1" "$WSR_IMAGE"; }
[[ "$(inspect '{{.Config.User}}')" == "65532:65532" ]] || fail "user is $(inspect '{{.Config.User}}'), not 65532:65532"
[[ "$(inspect '{{.Config.StopSignal}}')" == "SIGTERM" ]] || fail "stop signal $(inspect '{{.Config.StopSignal}}')"
[[ "$(inspect '{{json .Config.Entrypoint}}')" == '["/usr/local/bin/wsrouter-entrypoint"]' ]] || fail "entrypoint $(inspect '{{json .Config.Entrypoint}}')"
ports="$(inspect '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}')"
[[ "$ports" == *"8080/tcp"* && "$ports" == *"9090/tcp"* ]] || fail "exposed ports: $ports"

# The file system itself: no compiler, the binary's libraries all present.
mnt="$(wpodman image mount "$WSR_IMAGE")"
trap 'wpodman image unmount "$WSR_IMAGE" >/dev/null 2>&1 || true' EXIT
compilers="$(find "$mnt/usr" "$mnt/bin" -maxdepth 3 \( -name 'gcc*' -o -name 'g++*' -o -name 'cc' -o -name 'c++' \
  -o -name 'clang*' -o -name 'cc1*' -o -name '*-linux-gnu-gcc*' -o -name 'ld' -o -name 'as' \) \( -type f -o -type l \) 2>/dev/null || true)"
[[ -z "$compilers" ]] || fail "compiler or toolchain files in the image: $compilers"
[[ ! -d "$mnt/usr/include/c++" ]] || fail "C++ headers in the image"
[[ -f "$mnt/etc/wsrouter/config.yaml" ]] || fail "no /etc/wsrouter/config.yaml"
missing="$(chroot "$mnt" /usr/bin/ldd /usr/local/bin/wsrouter 2>&1 | grep 'not found' || true)"
[[ -z "$missing" ]] || fail "libraries missing: $missing"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot --userspec=65532:65532 "$mnt" /usr/local/bin/wsrouter --check-config /etc/wsrouter/config.yaml ||
  fail "the image's config is refused"
wpodman image unmount "$WSR_IMAGE" >/dev/null
trap - EXIT

/usr/bin/python3 "$here/test_image.py" || status=1
if ((status == 0)); then echo "image-test: all checks passed"; fi
exit $status
