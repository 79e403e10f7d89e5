#!/usr/bin/env bash
# make image: the local Debian base (base.sh), then `podman build` of the
# repository's Dockerfile as WSR_IMAGE (default localhost/wsrouter:dev).
# chroot isolation and the host network because this machine's sandbox allows
# no nested namespaces for RUN steps, and apt inside the build must reach the
# configured mirror.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
. "$here/podman.sh"
"$here/base.sh"
start=$SECONDS
wpodman build --pull=never --isolation chroot --network host \
  --build-arg JOBS="${JOBS:-2}" -t "$WSR_IMAGE" -f "$root/Dockerfile" "$root"
echo "image: $WSR_IMAGE built in $((SECONDS - start)) s"
