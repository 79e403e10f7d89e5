# Sourced: `podman` as the image scripts use it. Its own storage (vfs, which
# needs no kernel overlay support or fuse) under WSROUTER_PODMAN_ROOT, so it
# never meets another user's storage configuration on a shared machine.
WSROUTER_PODMAN_ROOT="${WSROUTER_PODMAN_ROOT:-/var/lib/wsrouter-podman}"
WSROUTER_IMAGE="${WSROUTER_IMAGE:-localhost/wsrouter:dev}"
wpodman() {
  podman --root "$WSROUTER_PODMAN_ROOT/storage" --runroot "$WSROUTER_PODMAN_ROOT/run" \
    --storage-driver vfs "$@"
}
