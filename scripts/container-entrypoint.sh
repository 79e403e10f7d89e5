#!/bin/sh
# The container's entrypoint: raises the soft descriptor limit to the hard one,
# then execs wsrouter, which stays PID 1 and handles SIGTERM itself.
#
# Each WebSocket client is a descriptor. Container runtimes often start
# processes with a soft limit of 1024 (containerd 2, systemd's default) under
# a much higher hard limit, and Kubernetes has no field to set it; wsrouter
# does not raise it itself. MIN_NOFILE (the Helm chart sets it from
# limits.max_connections) makes a hard limit below the connection cap a clear
# start-up error instead of refusals under load.
hard="$(ulimit -H -n)"
if [ "$hard" != unlimited ] && [ -n "${MIN_NOFILE:-}" ] && [ "$hard" -lt "$MIN_NOFILE" ]; then
  printf '{"level":"error","event":"startup_failed","message":"the hard descriptor limit (RLIMIT_NOFILE) is %s, below MIN_NOFILE=%s (limits.max_connections plus a margin): raise it in the container runtime or lower limits.max_connections"}\n' \
    "$hard" "$MIN_NOFILE"
  exit 1
fi
ulimit -S -n "$hard" 2>/dev/null || true
exec /usr/local/bin/wsrouter "$@"
