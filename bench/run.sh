#!/usr/bin/env bash
# Broadcast benchmark: the floor (bench/floor_server.cpp) and the engine
# (bench/bench_server.cpp) under the same load generator (bench/loadgen.cpp).
#
# For each run, each N and each server: the server starts pinned to CPU 0, the
# load generator pinned to CPU 1 opens N receivers plus one publisher and
# saturates the server for DURATION seconds; the server is then stopped by
# pid. Runs are interleaved (floor, engine, floor, engine...) so slow drifts
# in the machine hit both alike. The JSON lines land in
# bench/results/<timestamp>/, and a table of medians is printed (and saved as
# summary.md there).
#
# Environment:
#   RUNS=5              runs per (server, N)
#   NS="1000 10000"     receiver counts
#   SERVERS="floor engine"
#   DURATION=10         measured seconds per run (after WARMUP)
#   WARMUP=1            seconds published before measuring
#   WINDOW=16           broadcasts in flight (saturating mode; see BENCHMARKS.md)
#   SIZE=200            payload bytes
#   SERVER_CPU=0 LOADGEN_CPU=1
#   BUILD=0             skip the build (use the binaries in BUILD_DIR)
#   BUILD_DIR=build-bench
#   QUICK=1             smoke check: N=1000 only, 2 runs, 3 s
#   QUIET_MAX=0.25      wait (up to QUIET_WAIT=600 s) until the rest of the machine
#                       uses less than this many cores before each run
#   OTHER_MAX=0.2       a run during which the rest of the machine used more cores
#                       than this is set aside (disturbed.jsonl) and redone, at
#                       most RETRIES=5 times; past that it is kept, marked
#                       "disturbed", and left out of the medians
#
# bash bench/run.sh --summary DIR   prints the table of an earlier results directory
#   LOADGEN_ARGS=...    extra load generator flags (e.g. --busy-poll)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
RUNS=${RUNS:-5}
NS=${NS:-"1000 10000"}
SERVERS=${SERVERS:-"floor engine"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
WINDOW=${WINDOW:-16}
SIZE=${SIZE:-200}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
QUIET_MAX=${QUIET_MAX:-0.25}
QUIET_WAIT=${QUIET_WAIT:-600}
OTHER_MAX=${OTHER_MAX:-0.2}
RETRIES=${RETRIES:-5}
LOADGEN_ARGS=${LOADGEN_ARGS:-}
if [[ "${QUICK:-0}" == 1 ]]; then
  NS="1000"
  RUNS=2
  DURATION=3
fi

PYTHON=$(command -v python3 || true)
[[ -x /usr/bin/python3 ]] && PYTHON=/usr/bin/python3
[[ -n "$PYTHON" ]] || { echo "run.sh: python3 is needed for the summary" >&2; exit 1; }

# The table of medians for one results directory.
summarize() {  # dir "ns" "servers"
  "$PYTHON" - "$1" "$2" "$3" "$OTHER_MAX" <<'EOF'

import json, os, statistics, sys

out, ns, servers = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
other_max = float(sys.argv[4])

def load(server, n):
    path = os.path.join(out, f"{server}-{n}.jsonl")
    if not os.path.exists(path):
        return [], 0
    rows = [json.loads(line) for line in open(path) if line.strip()]
    good = [r for r in rows if "error" not in r and not r.get("disturbed")
            and r.get("other_cpu", 0) <= other_max]
    return good, len(rows) - len(good)

def med(rows, key):
    return statistics.median(key(r) for r in rows) if rows else float("nan")

print(f"Results: {out}\n")
print("| server | N | runs | deliveries/s (median) | min - max | MB/s | p50 ms | p99 ms | p99.9 ms "
      "| server CPU | server core busy | loadgen CPU | other CPU (max) | delivery ratio (min) | gaps |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
medians = {}
for n in ns:
    for server in servers:
        rows, errors = load(server, n)
        if not rows:
            print(f"| {server} | {n} | 0 ({errors} failed or disturbed) | | | | | | | | | | | | |")
            continue
        dps = med(rows, lambda r: r["deliveries_per_s"])
        medians[(server, n)] = dps
        lo = min(r["deliveries_per_s"] for r in rows)
        hi = max(r["deliveries_per_s"] for r in rows)
        print(f"| {server} | {n} | {len(rows)}{f' (+{errors} failed or disturbed, left out)' if errors else ''} | {dps:,.0f} "
              f"| {lo:,.0f} - {hi:,.0f} "
              f"| {med(rows, lambda r: r['bytes_per_s']) / 1e6:.1f} "
              f"| {med(rows, lambda r: r['latency_us']['p50']) / 1000:.2f} "
              f"| {med(rows, lambda r: r['latency_us']['p99']) / 1000:.2f} "
              f"| {med(rows, lambda r: r['latency_us']['p999']) / 1000:.2f} "
              f"| {med(rows, lambda r: r['server_cpu']):.2f} "
              f"| {med(rows, lambda r: r['server_core_busy']):.2f} "
              f"| {med(rows, lambda r: r['loadgen_cpu']):.2f} "
              f"| {max(r['other_cpu'] for r in rows):.2f} "
              f"| {min(r['delivery_ratio'] for r in rows):.4f} "
              f"| {sum(r['gaps'] for r in rows)} |")
print()
for n in ns:
    f, e = medians.get(("floor", n)), medians.get(("engine", n))
    if f and e:
        verdict = "meets" if e / f >= 0.9 else "misses"
        print(f"- N={n}: engine/floor = {e / f:.3f} ({verdict} the 0.9 goal)")
EOF
}

if [[ "${1:-}" == --summary ]]; then
  [[ -d "${2:-}" ]] || { echo "usage: bash bench/run.sh --summary bench/results/<timestamp>" >&2; exit 2; }
  summarize "$2" "$NS" "$SERVERS"
  exit 0
fi

if [[ "${BUILD:-1}" != 0 ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target loadgen floor_server bench_server
fi
for bin in loadgen floor_server bench_server; do
  [[ -x "$BUILD_DIR/$bin" ]] || { echo "run.sh: $BUILD_DIR/$bin is missing" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/$STAMP"
mkdir -p "$OUT"
machine_info >"$OUT/machine.txt"
echo "settings: RUNS=$RUNS NS=\"$NS\" DURATION=$DURATION WARMUP=$WARMUP WINDOW=$WINDOW SIZE=$SIZE LOADGEN_ARGS=\"$LOADGEN_ARGS\"" >>"$OUT/machine.txt"
cat "$OUT/machine.txt"

server_binary() {
  case "$1" in
    floor) echo "$BUILD_DIR/floor_server" ;;
    engine) echo "$BUILD_DIR/bench_server --workers 1 --no-deflate" ;;
    *) echo "run.sh: unknown server $1" >&2; exit 1 ;;
  esac
}

# One line per run, from the load generator's JSON.
FORMAT_RUN=$(cat <<'EOF'
import json, sys
d = json.loads(sys.stdin.read())
tag = sys.argv[1]
if "error" in d:
    print(tag + ": ERROR " + d["error"])
else:
    l = d["latency_us"]
    print("%s: %12s deliveries/s %7.1f MB/s  p50 %7.2f ms  p99 %7.2f ms  server %.2f"
          " (core %.2f)  loadgen %.2f  other %.2f  delivered %.4f  gaps %d" % (
              tag, format(round(d["deliveries_per_s"]), ","), d["bytes_per_s"] / 1e6,
              l["p50"] / 1000, l["p99"] / 1000, d["server_cpu"], d["server_core_busy"],
              d["loadgen_cpu"], d["other_cpu"], d["delivery_ratio"], d["gaps"]))
EOF
)

attempt() {  # server n run -> sets LINE
  local server=$1 n=$2 run=$3 log="$OUT/$1-$2.server.log" port="" i
  local listening="$OUT/.listening-$1-$2-$3"
  wait_quiet
  rm -f "$listening"
  # shellcheck disable=SC2046
  taskset -c "$SERVER_CPU" $(server_binary "$server") --port 0 >"$listening" 2>>"$log" &
  SERVER_PID=$!
  for ((i = 0; i < 100; i++)); do
    port=$(awk '/^LISTENING/{print $2; exit}' "$listening" 2>/dev/null || true)
    [[ -n "$port" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$port" ]]; then
    echo "run.sh: $server did not start (see $log)" >&2
    exit 1
  fi
  local line rc=0
  # shellcheck disable=SC2086
  line=$(taskset -c "$LOADGEN_CPU" "$BUILD_DIR/loadgen" --port "$port" --n "$n" --size "$SIZE" \
    --rate 0 --window "$WINDOW" --duration "$DURATION" --warmup "$WARMUP" \
    --server-pid "$SERVER_PID" $LOADGEN_ARGS 2>>"$OUT/$server-$n.loadgen.log") || rc=$?
  stop_server
  [[ -n "$line" ]] || line="{\"error\":\"loadgen exited $rc without output\"}"
  LINE=$(echo "$line" | sed "s/^{/{\"server\":\"$server\",\"run\":$run,\"exit\":$rc,/")
}

# A run during which the rest of the machine used more than OTHER_MAX cores
# (someone else's build or tests) is set aside in disturbed.jsonl and redone,
# up to RETRIES times.
run_one() {  # server n run
  local server=$1 n=$2 run=$3 try other
  for ((try = 0; ; try++)); do
    attempt "$server" "$n" "$run"
    other=$(echo "$LINE" | grep -o '"other_cpu":[-0-9.]*' | cut -d: -f2 || true)
    if [[ -n "$other" ]] && awk -v o="$other" -v m="$OTHER_MAX" 'BEGIN { exit !(o > m) }' &&
      ((try < RETRIES)); then
      echo "$LINE" >>"$OUT/disturbed.jsonl"
      echo "$server N=$n run $run: disturbed (other processes used $other cores), redoing" >&2
      continue
    fi
    if [[ -n "$other" ]] && awk -v o="$other" -v m="$OTHER_MAX" 'BEGIN { exit !(o > m) }'; then
      LINE=${LINE/#\{/\{\"disturbed\":true,}
      echo "$server N=$n run $run: still disturbed after $RETRIES retries; kept, left out of the medians" >&2
    fi
    break
  done
  echo "$LINE" >>"$OUT/$server-$n.jsonl"
  echo "$LINE" | "$PYTHON" -c "$FORMAT_RUN" "$server N=$n run $run"
}


for ((run = 1; run <= RUNS; run++)); do
  for n in $NS; do
    for server in $SERVERS; do
      run_one "$server" "$n" "$run"
    done
  done
done
rm -f "$OUT"/.listening-*

summarize "$OUT" "$NS" "$SERVERS" | tee "$OUT/summary.md"
