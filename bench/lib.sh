# Shared by bench/run.sh and bench/router.sh (sourced, not run): the server
# process to stop on exit, the machine description, and the wait for a quiet
# machine. Expects ROOT, QUIET_MAX and QUIET_WAIT to be set.

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Busy cores of the whole machine over one second, from /proc/stat.
machine_busy() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " "); printf "%.2f", (y[1] - x[1]) / hz }'
}

wait_quiet() {
  local waited=0 busy
  while :; do
    busy=$(machine_busy)
    if awk -v b="$busy" -v m="$QUIET_MAX" 'BEGIN { exit !(b <= m) }'; then return 0; fi
    if ((waited >= QUIET_WAIT)); then
      echo "bench: warning: machine still busy ($busy cores used by others); running anyway" >&2
      return 0
    fi
    ((waited == 0)) && echo "bench: machine busy ($busy cores used by others), waiting..." >&2
    waited=$((waited + 1))
  done
}

# What ran where: saved as machine.txt next to the results.
machine_info() {
  echo "date: $(date -u +%FT%TZ)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cpus: $(nproc)"
  echo "kernel: $(uname -r)"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
  # The code may be uncommitted work: fingerprint what was built.
  echo "src sha1: $(cd "$ROOT" && find src bench -name '*.cpp' -o -name '*.h' | LC_ALL=C sort |
    xargs sha1sum | sha1sum | cut -c1-12)"
}

# Stops SERVER_PID: SIGTERM, then SIGKILL after 5 s.
stop_server() {
  local i
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
