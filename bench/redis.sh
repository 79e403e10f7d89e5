#!/usr/bin/env bash
# The Redis broker's benchmark: what the path through Redis costs against the
# memory broker, with the load generator in router mode (bench/loadgen.cpp).
#
# Cells (CELLS picks some):
#   latency     N subscribers x publications/s at 200 bytes. memory: one
#               instance. redis: two instances on one Redis, published
#               through the first, received on the second (the path every
#               publication takes between instances). The latency is the
#               publisher's send to the subscriber's receive; the added
#               latency is redis minus memory in the same run.
#   throughput  saturation, few subscribers (THROUGHPUT_N): publications a
#               second through one Redis into one instance (published and
#               received on it), batches of PER_REQUEST on PUBLISHERS
#               connections, WINDOW in flight; memory alongside.
# Every redis run reports Redis's CPU per publication (utime + stime of
# redis-server over the run / publications sent). Nothing is pinned: the
# router's workers, its broker threads and redis-server share the machine
# with the load generator. Every run starts fresh servers (Redis without
# persistence) on free loopback ports and stops them by pid. JSON lines land
# in bench/results/redis-<timestamp>/<cell>.jsonl; the tables of medians are
# printed and saved as summary.md there.
#
# Environment:
#   RUNS=3  DURATION=10  WARMUP=1  CELLS="latency throughput"
#   LATENCY_CELLS="1000:100 1000:1000 1000:10000 5000:100 5000:1000"  (N:rate)
#   THROUGHPUT_N=1  PUBLISHERS=4  PER_REQUEST=256  WINDOW=2048
#   BUILD=0 (skip the build)  BUILD_DIR=build-bench  REDIS_SERVER=/usr/bin/redis-server
#   QUICK=1  smoke check: one run of 3 s, two latency cells
#   QUIET_MAX=0.25 QUIET_WAIT=600  wait for a quiet machine before each run
#
# bash bench/redis.sh --summary DIR   prints the tables of an earlier results directory
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
CELLS=${CELLS:-"latency throughput"}
# 5,000 x 10,000/s (50 M deliveries a second) is past what one machine of
# two cores fans out with either broker: it measures nothing of Redis.
LATENCY_CELLS=${LATENCY_CELLS:-"1000:100 1000:1000 1000:10000 5000:100 5000:1000"}
THROUGHPUT_N=${THROUGHPUT_N:-1}
PUBLISHERS=${PUBLISHERS:-4}
PER_REQUEST=${PER_REQUEST:-256}
WINDOW=${WINDOW:-2048}
REDIS_SERVER=${REDIS_SERVER:-/usr/bin/redis-server}
QUIET_MAX=${QUIET_MAX:-0.25}
QUIET_WAIT=${QUIET_WAIT:-600}
if [[ "${QUICK:-0}" == 1 ]]; then
  RUNS=1
  DURATION=3
  LATENCY_CELLS="1000:100 1000:1000"
fi
PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || PYTHON=$(command -v python3)

summarize() {  # dir
  "$PYTHON" - "$1" <<'EOF'
import json, os, statistics, sys

out = sys.argv[1]

def rows(cell):
    path = os.path.join(out, cell + ".jsonl")
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]

def med(rs, f):
    vals = [f(r) for r in rs]
    return statistics.median(vals) if vals else float("nan")

def ok(rs):
    return [r for r in rs if "error" not in r]

print(f"Results: {out}\n")
rs = rows("latency")
if rs:
    print("### Latency: memory (one instance) against redis (published on one instance, "
          "received on another)\n")
    print("| N | publications/s | broker | runs | deliveries/s | delivered (min) | gaps | p50 ms "
          "| p99 ms | p99.9 ms | Redis CPU us per publication |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    keys = sorted({(r["n"], r["rate"], r["broker"]) for r in rs})
    for n, rate, broker in keys:
        g = [r for r in rs if (r["n"], r["rate"], r["broker"]) == (n, rate, broker)]
        good = ok(g)
        if not good:
            print(f"| {n} | {rate:g} | {broker} | 0 ({len(g)} failed: {g[0].get('error')}) |" + " |" * 7)
            continue
        lat = lambda q: med(good, lambda r: r["latency_us"][q]) / 1000
        cpu = med(good, lambda r: r.get("redis_cpu_us_per_publication", float("nan")))
        print(f"| {n} | {rate:g} | {broker} | {len(good)} | {med(good, lambda r: r['deliveries_per_s']):,.0f} "
              f"| {min(r['delivery_ratio'] for r in good):.4f} | {sum(r['gaps'] for r in good)} "
              f"| {lat('p50'):.2f} | {lat('p99'):.2f} | {lat('p999'):.2f} "
              f"| {'-' if broker == 'memory' else f'{cpu:.1f}'} |")
    print()
    print("Added by Redis (median over runs of redis minus memory in the same run):\n")
    print("| N | publications/s | p50 ms | p99 ms |")
    print("| ---: | ---: | ---: | ---: |")
    for n, rate in sorted({(r["n"], r["rate"]) for r in rs}):
        adds = {"p50": [], "p99": []}
        for run in sorted({r["run"] for r in rs}):
            pair = {r["broker"]: r for r in ok(rs) if (r["n"], r["rate"], r["run"]) == (n, rate, run)}
            if "memory" in pair and "redis" in pair:
                for q in adds:
                    adds[q].append((pair["redis"]["latency_us"][q] - pair["memory"]["latency_us"][q]) / 1000)
        if adds["p50"]:
            print(f"| {n} | {rate:g} | {statistics.median(adds['p50']):.2f} "
                  f"| {statistics.median(adds['p99']):.2f} |")
    print()
rs = ok(rows("throughput"))
if rs:
    print("### Throughput at saturation: published and received on one instance\n")
    print("| broker | N | runs | publications/s | delivered (min) | gaps | p50 ms | p99 ms "
          "| Redis CPU us per publication |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for broker in ("memory", "redis"):
        good = [r for r in rs if r["broker"] == broker]
        if not good:
            continue
        cpu = med(good, lambda r: r.get("redis_cpu_us_per_publication", float("nan")))
        print(f"| {broker} | {good[0]['n']} | {len(good)} "
              f"| {med(good, lambda r: r['window_messages'] / r['duration_s']):,.0f} "
              f"| {min(r['delivery_ratio'] for r in good):.4f} | {sum(r['gaps'] for r in good)} "
              f"| {med(good, lambda r: r['latency_us']['p50']) / 1000:.2f} "
              f"| {med(good, lambda r: r['latency_us']['p99']) / 1000:.2f} "
              f"| {'-' if broker == 'memory' else f'{cpu:.1f}'} |")
    print()
EOF
}

if [[ "${1:-}" == --summary ]]; then
  [[ -d "${2:-}" ]] || { echo "usage: bash bench/redis.sh --summary bench/results/redis-<timestamp>" >&2; exit 2; }
  summarize "$2"
  exit 0
fi

if [[ "${BUILD:-1}" != 0 ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target loadgen wsrouter
fi
for bin in "$BUILD_DIR/loadgen" "$BUILD_DIR/wsrouter" "$REDIS_SERVER"; do
  [[ -x "$bin" ]] || { echo "redis.sh: $bin is missing" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/redis-$STAMP"
mkdir -p "$OUT"
machine_info >"$OUT/machine.txt"
echo "redis: $("$REDIS_SERVER" --version)" >>"$OUT/machine.txt"
echo "settings: RUNS=$RUNS DURATION=$DURATION WARMUP=$WARMUP CELLS=\"$CELLS\" LATENCY_CELLS=\"$LATENCY_CELLS\" THROUGHPUT_N=$THROUGHPUT_N PUBLISHERS=$PUBLISHERS PER_REQUEST=$PER_REQUEST WINDOW=$WINDOW" >>"$OUT/machine.txt"
cat "$OUT/machine.txt"
TOKEN=bench-publisher-token-0123456789
echo "$TOKEN" >"$OUT/publisher.token"

PIDS=()
stop_all() {
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap 'stop_all' EXIT

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

REDIS_PID=""
REDIS_PORT=""
start_redis() {
  local i
  REDIS_PORT=$(free_port)
  "$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --logfile "$OUT/redis.log" &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  for ((i = 0; i < 200; i++)); do
    "$PYTHON" -c "import socket; socket.create_connection(('127.0.0.1', $REDIS_PORT), 0.2).close()" \
      2>/dev/null && return 0
    sleep 0.05
  done
  echo "redis.sh: redis-server did not start (see $OUT/redis.log)" >&2
  exit 1
}

# start_router NAME BROKER: sets ROUTER_PID, PORT, ADMIN_PORT.
ROUTER_PID="" PORT="" ADMIN_PORT=""
start_router() {
  local name=$1 broker=$2 listening="$OUT/.listening-$1" i broker_yaml
  broker_yaml="broker: {type: memory}"
  [[ "$broker" == redis ]] &&
    broker_yaml="broker: {type: redis, redis: {addresses: [\"127.0.0.1:$REDIS_PORT\"]}}"
  cat >"$OUT/$name.yaml" <<YAML
server: {host: 127.0.0.1, port: 0, workers: 1, permessage_deflate: false}
admin: {host: 127.0.0.1, port: 0, publisher_token_file: $OUT/publisher.token, max_batch_messages: 10000}
feed: {enabled: false}
limits: {max_connections: 0, connections_per_address: 0, connection_attempts_per_minute: 0}
$broker_yaml
namespaces:
  bench: {dedicated_endpoint: true}
YAML
  rm -f "$listening"
  "$BUILD_DIR/wsrouter" --config "$OUT/$name.yaml" >"$listening" 2>>"$OUT/$name.log" &
  ROUTER_PID=$!
  PIDS+=("$ROUTER_PID")
  PORT="" ADMIN_PORT=""
  for ((i = 0; i < 200; i++)); do
    # The file may not exist yet (the child opens it): not an error.
    [[ -e "$listening" ]] || { sleep 0.05; continue; }
    PORT=$(sed -n 's|.*"ws":"ws://[0-9.]*:\([0-9]*\)/ws".*|\1|p' "$listening" 2>/dev/null | head -1)
    ADMIN_PORT=$(sed -n 's|.*"admin":"http://[0-9.]*:\([0-9]*\)".*|\1|p' "$listening" 2>/dev/null | head -1)
    [[ -n "$PORT" ]] && return 0
    kill -0 "$ROUTER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "redis.sh: wsrouter ($name, $broker) did not start (see $OUT/$name.log)" >&2
  exit 1
}

cpu_ticks() {  # pid: utime + stime, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# measure CELL BROKER RUN TWO_INSTANCES loadgen-args...
measure() {
  local cell=$1 broker=$2 run=$3 two=$4 line rc=0 pub_admin recv_port recv_pid t0=0 t1=0
  shift 4
  wait_quiet
  [[ "$broker" == redis ]] && start_redis
  start_router a "$broker"
  pub_admin=$ADMIN_PORT recv_port=$PORT recv_pid=$ROUTER_PID
  if [[ "$two" == 1 ]]; then
    start_router b "$broker"
    recv_port=$PORT recv_pid=$ROUTER_PID
  fi
  [[ "$broker" == redis ]] && t0=$(cpu_ticks "$REDIS_PID")
  line=$("$BUILD_DIR/loadgen" --port "$recv_port" --admin-port "$pub_admin" --token "$TOKEN" \
    --path /ws/bench --channel bench --server-pid "$recv_pid" "$@" 2>>"$OUT/$cell.loadgen.log") || rc=$?
  [[ "$broker" == redis ]] && t1=$(cpu_ticks "$REDIS_PID")
  stop_all
  [[ -n "$line" ]] || line="{\"error\":\"loadgen exited $rc without output\"}"
  if [[ "$broker" == redis && "$line" != *'"error"'* ]]; then
    line=$("$PYTHON" -c '
import json, os, sys
r = json.loads(sys.argv[1])
seconds = (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK")
r["redis_cpu_s"] = seconds
r["redis_cpu_us_per_publication"] = seconds * 1e6 / max(1, r["messages"])
print(json.dumps(r))' "$line" "$t0" "$t1")
  fi
  line=$(echo "$line" | sed "s/^{/{\"cell\":\"$cell\",\"broker\":\"$broker\",\"run\":$run,\"exit\":$rc,/")
  echo "$line" >>"$OUT/$cell.jsonl"
  echo "$cell $broker run $run $*: $(echo "$line" | cut -c1-160)..."
}

has_cell() { [[ " $CELLS " == *" $1 "* ]]; }

for ((run = 1; run <= RUNS; run++)); do
  if has_cell latency; then
    for nr in $LATENCY_CELLS; do
      n=${nr%%:*} rate=${nr##*:}
      for broker in memory redis; do
        two=0
        [[ "$broker" == redis ]] && two=1
        measure latency "$broker" "$run" "$two" --n "$n" --size 200 --rate "$rate" \
          --duration "$DURATION" --warmup "$WARMUP"
      done
    done
  fi
  if has_cell throughput; then
    for broker in memory redis; do
      measure throughput "$broker" "$run" 0 --n "$THROUGHPUT_N" --size 200 --rate 0 \
        --window "$WINDOW" --publishers "$PUBLISHERS" --per-request "$PER_REQUEST" \
        --duration "$DURATION" --warmup "$WARMUP"
    done
  fi
done
rm -f "$OUT"/.listening-*

summarize "$OUT" | tee "$OUT/summary.md"
