# Sourced: `podman` as the image scripts use it (WSR_*, not WSROUTER_*: the
# router treats any WSROUTER_ variable as a config override). Its own storage (vfs, which
# needs no kernel overlay support or fuse) under WSR_PODMAN_ROOT, so it
# never meets another user's storage configuration on a shared machine.
WSR_PODMAN_ROOT="${WSR_PODMAN_ROOT:-/var/lib/wsrouter-podman}"
WSR_IMAGE="${WSR_IMAGE:-localhost/wsrouter:dev}"
wpodman() {
  podman --root "$WSR_PODMAN_ROOT/storage" --runroot "$WSR_PODMAN_ROOT/run" \
    --storage-driver vfs "$@"
}
