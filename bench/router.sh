#!/usr/bin/env bash
# Router benchmark: wsrouter itself (publish API in, WebSocket out) under the
# load generator in router mode (bench/loadgen.cpp), with the floor server of
# bench/run.sh run alongside in the same cells for comparison.
#
# Cells (CELLS picks some):
#   rate        N x publications/s at 200 bytes, router and floor
#   saturation  N at saturation (WINDOW publications in flight; the router's
#               publishers send batches of PER_REQUEST), router and floor
#   snapshot    a 16 KiB compressible snapshot at SNAPSHOT_RATE/s to N clients
#               with permessage-deflate: router CPU per snapshot against N
#   idle        10,000 idle connections: the router's resident memory
#   unpinned    saturation again, nothing pinned, the router with 2 workers
#   overload    OVERLOAD_N subscribers: the capacity C (publications/s at
#               saturation, as above but with OVERLOAD_WINDOW publications
#               in flight from OVERLOAD_PUBLISHERS connections, enough for
#               the router's biggest passes), then a
#               fixed rate of C and of 2C for OVERLOAD_S each, in batches of
#               OVERLOAD_PER_REQUEST from OVERLOAD_PUBLISHERS connections:
#               what is delivered, refused (429) or shed (every missing seq
#               must be announced by a `gap`), the latency of what is
#               delivered, the router's RSS each second
# Pinned cells: server on SERVER_CPU, load generator on LOADGEN_CPU. Every
# run starts a fresh server and stops it by pid. JSON lines land in
# bench/results/router-<timestamp>/<cell>.jsonl; the tables of medians are
# printed and saved as summary.md there.
#
# Environment:
#   RUNS=3  NS="1000 10000"  RATES="100 1000"  DURATION=10  WARMUP=1
#   WINDOW=128 PER_REQUEST=32  (saturation: 4 publish connections with 32 publications
#   each in flight; each connection holds one of the admin server's 16 threads)
#   SNAPSHOT_RATE=5  IDLE_N=10000  IDLE_S=5  CELLS="rate saturation snapshot idle unpinned overload"
#   OVERLOAD_N=10000 OVERLOAD_S=15 OVERLOAD_WARMUP=3 OVERLOAD_WINDOW=1024
#   OVERLOAD_PUBLISHERS=16 OVERLOAD_PER_REQUEST=16
#   OVERLOAD_LIMITS="worker_inbox_messages: 65536, worker_inbox_max_delay_ms: 500"
#   OVERLOAD_ADMIN="publish_backlog: 8192, publish_backlog_ms: 250"  (the overload cell's extra `limits`
#   and `admin` keys: the defaults, written out so the run records them;
#   every other key is the other cells')
#   OVERLOAD_NAMESPACE=""  (extra keys of namespace bench in the overload cell)
#   OVERLOAD_RSS_SLACK_MIB=4  (the RSS check: last <= first + this)
#   SERVER_CPU=0 LOADGEN_CPU=1  BUILD=0 (skip the build)  BUILD_DIR=build-bench
#   ENVELOPE_BYTES=72 (added to the floor's --size: the router's envelope)
#   QUICK=1  smoke check: N=1000, one run of 3 s per cell, 1,000 idle connections,
#            overload at N=1000
#   QUIET_MAX=0.25 QUIET_WAIT=600  wait for a quiet machine before each run
#
# bash bench/router.sh --summary DIR   prints the tables of an earlier results directory
# /usr/bin/python3 bench/loadgen_check.py BUILD_DIR/loadgen   checks the load
#   generator's gap, refusal and Retry-After accounting against a scripted router
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
RUNS=${RUNS:-3}
NS=${NS:-"1000 10000"}
RATES=${RATES:-"100 1000"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
WINDOW=${WINDOW:-128}
PER_REQUEST=${PER_REQUEST:-32}
SNAPSHOT_RATE=${SNAPSHOT_RATE:-5}
IDLE_N=${IDLE_N:-10000}
IDLE_S=${IDLE_S:-5}
CELLS=${CELLS:-"rate saturation snapshot idle unpinned overload"}
OVERLOAD_N_GIVEN=${OVERLOAD_N:-}
OVERLOAD_N=${OVERLOAD_N:-10000}
OVERLOAD_S=${OVERLOAD_S:-15}
# Past capacity the backlog reaches the inbox's bounds within about a
# second, and the router's RSS settles within another (N = 10,000, 2C: 32.9,
# 34.2, then 34.3 to 34.6 MiB over 14 s): the window opens on the steady state.
OVERLOAD_WARMUP=${OVERLOAD_WARMUP:-3}
# At W = 128 the router's passes hold 128 publications; a backlog lets it
# take up to 512 a pass, writing each socket once for all of them. At
# N = 10,000: W = 128 measured 455/s and a fixed 910/s was then all
# delivered; W = 512 measured 893/s, and at 1,786/s it delivered 1,578/s;
# W = 1,024 measured 1,587/s, what it delivers when overloaded (1,569/s).
OVERLOAD_WINDOW=${OVERLOAD_WINDOW:-1024}
# The admin threads share the router's core with its busy worker: single
# publishes from 8 connections reached 774 of 1,304 publications/s at 2C
# (N = 10,000), batches of 8 from 8 connections 463 of 576 (answers took up
# to 300 ms). 16 connections with batches of 16 (256 publications in
# flight) offer 2C while answers take up to 140 ms.
OVERLOAD_PUBLISHERS=${OVERLOAD_PUBLISHERS:-16}
OVERLOAD_PER_REQUEST=${OVERLOAD_PER_REQUEST:-16}
OVERLOAD_LIMITS=${OVERLOAD_LIMITS-"worker_inbox_messages: 65536, worker_inbox_max_delay_ms: 500"}
OVERLOAD_ADMIN=${OVERLOAD_ADMIN-"publish_backlog: 8192, publish_backlog_ms: 250"}
OVERLOAD_NAMESPACE=${OVERLOAD_NAMESPACE:-}
export OVERLOAD_RSS_SLACK_MIB=${OVERLOAD_RSS_SLACK_MIB:-4}
if ! ((OVERLOAD_PUBLISHERS > 0 && OVERLOAD_WINDOW >= OVERLOAD_PUBLISHERS)); then
  echo "router.sh: OVERLOAD_WINDOW ($OVERLOAD_WINDOW) must be at least OVERLOAD_PUBLISHERS" \
    "($OVERLOAD_PUBLISHERS), which must be at least 1: the capacity run's requests carry" \
    "OVERLOAD_WINDOW / OVERLOAD_PUBLISHERS publications each" >&2
  exit 2
fi
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
QUIET_MAX=${QUIET_MAX:-0.25}
# What the router adds around a publication's data on channel `bench`:
# {"type":"bench","channel":"bench","seq":N,"ts":MS,"data":...} with a
# 4-digit seq and a 13-digit ts is 72 bytes.
ENVELOPE_BYTES=${ENVELOPE_BYTES:-72}
QUIET_WAIT=${QUIET_WAIT:-600}
if [[ "${QUICK:-0}" == 1 ]]; then
  NS="1000"
  RUNS=1
  DURATION=3
  IDLE_N=1000
  IDLE_S=1
  OVERLOAD_N=${OVERLOAD_N_GIVEN:-1000}
  OVERLOAD_S=3
fi
PYTHON=/usr/bin/python3
[[ -x "$PYTHON" ]] || PYTHON=$(command -v python3)
has_cell() { [[ " $CELLS " == *" $1 "* ]]; }

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

def group(rs, *keys):
    groups = {}
    for r in rs:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return groups

def ok(rs):
    return [r for r in rs if "error" not in r]

def traffic_table(title, cell, keys):
    rs = rows(cell)
    if not rs:
        return
    print(f"### {title}\n")
    print("| server | N | " + "".join(k + " | " for k in keys if k not in ("server", "n")) +
          "runs | deliveries/s | delivered (min) | seq gaps | gap msgs | p50 ms | p99 ms "
          "| p99.9 ms | max ms | ts p99 ms | server CPU | RSS end MiB |")
    print("| --- | ---: |" + " ---: |" * (len(keys) - 2) + " ---: |" * 12)
    for key, g in sorted(group(rs, *keys).items(), key=lambda kv: [str(x) for x in kv[0]]):
        good = ok(g)
        cols = dict(zip(keys, key))
        extra = " | ".join(str(cols[k]) for k in keys if k not in ("server", "n"))
        head = f"| {cols['server']} | {cols['n']} | " + (extra + " | " if extra else "")
        if not good:
            print(head + f"0 ({len(g)} failed: {g[0].get('error')}) |" + " |" * 11)
            continue
        lat = lambda q: med(good, lambda r: r["latency_us"][q]) / 1000
        print(head + f"{len(good)} | {med(good, lambda r: r['deliveries_per_s']):,.0f} "
              f"| {min(r['delivery_ratio'] for r in good):.4f} "
              f"| {sum(r['gaps'] for r in good)} | {sum(r.get('gap_messages', 0) for r in good)} "
              f"| {lat('p50'):.2f} | {lat('p99'):.2f} | {lat('p999'):.2f} | {lat('max'):.2f} "
              + (f"| {med(good, lambda r: r['ts_latency_ms']['p99']):.0f} " if good[0].get("router") else "| - ")
              + f"| {med(good, lambda r: r['server_cpu']):.2f} "
              f"| {med(good, lambda r: r.get('server_rss_kib', {}).get('end', -1)) / 1024:.1f} |")
    print()

print(f"Results: {out}\n")
traffic_table("Fixed rate, 200-byte messages, pinned", "rate", ["server", "n", "rate"])
traffic_table("Saturation, 200-byte messages, pinned", "saturation", ["server", "n"])
for cell, title in (("saturation", "pinned"), ("unpinned", "unpinned, router with 2 workers")):
    rs = ok(rows(cell))
    for (n,), g in sorted(group(rs, "n").items()):
        by = group(g, "server")
        if ("floor",) in by and ("router",) in by:
            f = med(by[("floor",)], lambda r: r["deliveries_per_s"])
            r = med(by[("router",)], lambda r: r["deliveries_per_s"])
            # The goal compares the two servers in the same run: each run
            # measures both back to back, so the machine's drift between
            # runs (large on a VM) cancels in the run's ratio.
            floor_by_run = {x["run"]: x["deliveries_per_s"] for x in by[("floor",)]}
            pairs = sorted(x["deliveries_per_s"] / floor_by_run[x["run"]]
                           for x in by[("router",)] if x["run"] in floor_by_run)
            if not pairs:
                continue
            paired = statistics.median(pairs)
            print(f"- {cell} ({title}), N={n}: router/floor in the same run = {paired:.3f} "
                  f"(median of {len(pairs)}, {pairs[0]:.2f}-{pairs[-1]:.2f}; "
                  f"ratio of the medians {r / f:.3f}): "
                  f"{'meets' if paired >= 0.9 else 'misses'} the 0.9 goal")
print()
traffic_table("Saturation, unpinned (router: 2 workers)", "unpinned", ["server", "n"])

rs = ok(rows("snapshot"))
if rs:
    print("### 16 KiB compressible snapshot, permessage-deflate, pinned\n")
    print("| N | runs | snapshots/s | deliveries/s | delivered (min) | wire bytes per delivery "
          "| router CPU ms per snapshot | router CPU us per delivery | p99 ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (n,), g in sorted(group(rs, "n").items()):
        per_snapshot = med(g, lambda r: r["server_cpu"] * r["duration_s"] / max(1, r["window_messages"]) * 1000)
        per_delivery = med(g, lambda r: r["server_cpu"] * r["duration_s"] / max(1, r["window_deliveries"]) * 1e6)
        print(f"| {n} | {len(g)} | {med(g, lambda r: r['window_messages'] / r['duration_s']):.1f} "
              f"| {med(g, lambda r: r['deliveries_per_s']):,.0f} | {min(r['delivery_ratio'] for r in g):.4f} "
              f"| {med(g, lambda r: r['bytes_per_s'] / max(1, r['deliveries_per_s'])):,.0f} "
              f"| {per_snapshot:.2f} | {per_delivery:.2f} | {med(g, lambda r: r['latency_us']['p99']) / 1000:.2f} |")
    print()

rs = ok(rows("idle"))
if rs:
    print("### Idle connections\n")
    print("| N | runs | RSS empty MiB | RSS with N idle MiB | growth MiB | bytes per connection |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for (n,), g in sorted(group(rs, "n").items()):
        empty = med(g, lambda r: r["server_rss_kib"]["empty"]) / 1024
        full = med(g, lambda r: max(r["server_rss_kib"]["connected"], r["server_rss_kib"]["end"])) / 1024
        print(f"| {n} | {len(g)} | {empty:.1f} | {full:.1f} | {full - empty:.1f} "
              f"| {med(g, lambda r: r['bytes_per_connection']):,.0f} |")
    print()

rs = rows("overload")
if rs:
    slack = float(os.environ.get("OVERLOAD_RSS_SLACK_MIB") or 4)
    order = {"capacity": 0, "1x": 1, "2x": 2}
    rs.sort(key=lambda r: (r.get("run", 0), order.get(r.get("load"), 9)))
    n = next((r["n"] for r in rs if "n" in r), "?")
    print(f"### Overload, N = {n}: capacity C (saturation), then C and 2C at a fixed rate, pinned\n")
    print("| run | load | offered pub/s | sent pub/s | accepted pub/s | refused (429, OVERLOADED) | withheld "
          "| deliveries/s | missing covered | missing uncovered | seq gaps | gap msgs | p50 ms "
          "| p99 ms | p99.9 ms | RSS first MiB | RSS last MiB | RSS max MiB | publish p99 ms |")
    print("| ---: | --- |" + " ---: |" * 17)
    for r in rs:
        head = f"| {r.get('run')} | {r.get('load')} "
        if "error" in r:
            print(head + f"| failed: {r['error']} |" + " |" * 16)
            continue
        offered = f"{r['rate']:,.0f}" if r["rate"] > 0 else f"saturation (W = {r['window']})"
        lat = r["latency_us"]
        print(head + f"| {offered} | {r['sent_per_s']:,.0f} | {r['accepted_per_s']:,.0f} "
              f"| {r['publish_refused']:,} | {r['publish_withheld']:,} "
              f"| {r['deliveries_per_s']:,.0f} | {r['missing_covered']:,} "
              f"| {r['missing_uncovered']:,} | {r['gaps']:,} | {r['gap_messages']:,} "
              f"| {lat['p50'] / 1000:.2f} | {lat['p99'] / 1000:.2f} | {lat['p999'] / 1000:.2f} "
              f"| {r['rss_first_mib']:.1f} | {r['rss_last_mib']:.1f} | {r['rss_max_mib']:.1f} "
              f"| {r['publish_rtt_ms']['p99']:.1f} |")
    print()
    print("Refused, withheld (due while a Retry-After held the publishers back) and missing are "
          "counts over the whole run; rates and latency over the measured window. Missing "
          "covered: deliveries a `gap` announced before the next data message (or before the "
          "end); uncovered: neither delivered nor announced in time, including what was still "
          "undelivered when the drain (up to 5 s) ended. Publish p99: from a publish request's "
          "write to its answer.\n")
    met = lambda ok: "met" if ok else "not met"
    tally = {}
    for (run,), g in sorted(group(rs, "run").items()):
        by = {r.get("load"): r for r in g if "error" not in r}
        one, two = by.get("1x"), by.get("2x")
        if one is None or two is None:
            print(f"- run {run}: incomplete (capacity, C and 2C runs needed); checks not made")
            tally.setdefault("incomplete", []).append(False)
            continue
        p99_1 = one["latency_us"]["p99"] / 1000
        p99_2 = two["latency_us"]["p99"] / 1000
        uncovered = sum(r["missing_uncovered"] + r["gaps"] for r in by.values())
        grew = two["rss_last_mib"] - two["rss_first_mib"]
        # Withheld publications count as offered: the router asked for them
        # to wait. Short of the rate otherwise, the publishers were the limit.
        offered = (two["sent_per_s"] + two["window_withheld"] / max(two["duration_s"], 1e-9)) / two["rate"]
        dropped = two["missing_covered"] + two["missing_uncovered"] + two["publish_refused"]
        checks = [
            (f"2C past capacity ({dropped:,} publication deliveries shed or publications refused)",
             dropped > 0),
            (f"2C offered in full ({offered:.0%} of {two['rate']:,.0f}/s sent or withheld)",
             offered >= 0.95),
            (f"p99(2C) {p99_2:.0f} ms < 1000 ms", p99_2 < 1000),
            (f"p99(2C) {p99_2:.0f} ms <= 2 x p99(C) {p99_1:.0f} ms", p99_2 <= 2 * p99_1),
            (f"missing uncovered (and seq gaps) in its runs {uncovered} == 0", uncovered == 0),
            (f"RSS at 2C last {two['rss_last_mib']:.1f} <= first {two['rss_first_mib']:.1f} "
             f"+ {slack:g} MiB (grew {grew:+.1f})", grew <= slack),
        ]
        print(f"- run {run}, C = {one['rate']:,.0f} publications/s: " +
              "; ".join(f"{text}: **{met(ok)}**" for text, ok in checks))
        for i, (_, ok) in enumerate(checks):
            tally.setdefault(i, []).append(ok)
    if any(k != "incomplete" for k in tally):
        runs = len(next(v for k, v in tally.items() if k != "incomplete"))
        print(f"- every check met in all {runs} complete runs: "
              f"**{met(all(all(v) for k, v in tally.items() if k != 'incomplete'))}**")
    print()
EOF
}

if [[ "${1:-}" == --summary ]]; then
  [[ -d "${2:-}" ]] || { echo "usage: bash bench/router.sh --summary bench/results/router-<timestamp>" >&2; exit 2; }
  summarize "$2"
  exit 0
fi

if [[ "${BUILD:-1}" != 0 ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target loadgen floor_server wsrouter
fi
for bin in loadgen floor_server wsrouter; do
  [[ -x "$BUILD_DIR/$bin" ]] || { echo "router.sh: $BUILD_DIR/$bin is missing" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/router-$STAMP"
mkdir -p "$OUT"
machine_info >"$OUT/machine.txt"
echo "settings: RUNS=$RUNS NS=\"$NS\" RATES=\"$RATES\" DURATION=$DURATION WARMUP=$WARMUP WINDOW=$WINDOW PER_REQUEST=$PER_REQUEST SNAPSHOT_RATE=$SNAPSHOT_RATE IDLE_N=$IDLE_N CELLS=\"$CELLS\"" >>"$OUT/machine.txt"
echo "overload: OVERLOAD_N=$OVERLOAD_N OVERLOAD_S=$OVERLOAD_S OVERLOAD_WARMUP=$OVERLOAD_WARMUP OVERLOAD_WINDOW=$OVERLOAD_WINDOW OVERLOAD_PUBLISHERS=$OVERLOAD_PUBLISHERS OVERLOAD_PER_REQUEST=$OVERLOAD_PER_REQUEST OVERLOAD_LIMITS=\"$OVERLOAD_LIMITS\" OVERLOAD_ADMIN=\"$OVERLOAD_ADMIN\" OVERLOAD_NAMESPACE=\"$OVERLOAD_NAMESPACE\" OVERLOAD_RSS_SLACK_MIB=$OVERLOAD_RSS_SLACK_MIB" >>"$OUT/machine.txt"
cat "$OUT/machine.txt"
TOKEN=bench-publisher-token-0123456789
echo "$TOKEN" >"$OUT/publisher.token"

# router_yaml WORKERS DEFLATE: the router's configuration. ROUTER_ADMIN,
# ROUTER_LIMITS and ROUTER_NAMESPACE, when set, add keys to `admin`, `limits`
# and namespace `bench`.
router_yaml() {
  cat <<YAML
server: {host: 127.0.0.1, port: 0, workers: $1, permessage_deflate: $2}
admin: {host: 127.0.0.1, port: 0, publisher_token_file: $OUT/publisher.token${ROUTER_ADMIN:+, $ROUTER_ADMIN}}
feed: {enabled: false}
limits: {max_connections: 0, connections_per_address: 0, connection_attempts_per_minute: 0${ROUTER_LIMITS:+, $ROUTER_LIMITS}}
namespaces:
  bench: {dedicated_endpoint: true${ROUTER_NAMESPACE:+, $ROUTER_NAMESPACE}}
YAML
}

# The overload cell's configuration names keys an older router does not
# have: say so now, not after the other cells have run.
if has_cell overload; then
  ROUTER_ADMIN="$OVERLOAD_ADMIN" ROUTER_LIMITS="$OVERLOAD_LIMITS" ROUTER_NAMESPACE="$OVERLOAD_NAMESPACE" \
    router_yaml 1 false \
    >"$OUT/overload.router.yaml"
  if ! check=$("$BUILD_DIR/wsrouter" --check-config "$OUT/overload.router.yaml" 2>&1); then
    echo "router.sh: $BUILD_DIR/wsrouter refuses the overload cell's configuration" \
      "($OUT/overload.router.yaml):" >&2
    echo "$check" >&2
    echo "router.sh: build a router that has these keys, or set OVERLOAD_LIMITS (now" \
      "\"$OVERLOAD_LIMITS\") and OVERLOAD_ADMIN (now \"$OVERLOAD_ADMIN\"), or CELLS without overload" >&2
    exit 1
  fi
fi

PORT=""
ADMIN_PORT=""
# start_server floor|router CPU|- WORKERS DEFLATE: sets SERVER_PID, PORT, ADMIN_PORT.
start_server() {
  local kind=$1 cpu=$2 workers=$3 deflate=$4 log="$OUT/$1.server.log" listening="$OUT/.listening" i
  local pin=()
  [[ "$cpu" == - ]] || pin=(taskset -c "$cpu")
  rm -f "$listening"
  PORT="" ADMIN_PORT=""
  if [[ "$kind" == floor ]]; then
    "${pin[@]}" "$BUILD_DIR/floor_server" --port 0 >"$listening" 2>>"$log" &
  else
    router_yaml "$workers" "$deflate" >"$OUT/router.yaml"
    "${pin[@]}" "$BUILD_DIR/wsrouter" --config "$OUT/router.yaml" >"$listening" 2>>"$log" &
  fi
  SERVER_PID=$!
  for ((i = 0; i < 200; i++)); do
    if [[ "$kind" == floor ]]; then
      PORT=$(awk '/^LISTENING/{print $2; exit}' "$listening" 2>/dev/null || true)
    else
      # The "serving" log line: {..."ws":"ws://127.0.0.1:P/ws","admin":"http://127.0.0.1:A",...}
      # The shell may not have created $listening yet: no match, no error.
      PORT=$(sed -n 's|.*"ws":"ws://[0-9.]*:\([0-9]*\)/ws".*|\1|p' "$listening" 2>/dev/null | head -1 || true)
      ADMIN_PORT=$(sed -n 's|.*"admin":"http://[0-9.]*:\([0-9]*\)".*|\1|p' "$listening" 2>/dev/null | head -1 || true)
    fi
    [[ -n "$PORT" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$PORT" ]]; then
    echo "router.sh: $kind did not start; the end of $log:" >&2
    tail -n 5 "$log" >&2
    exit 1
  fi
}

# measure CELL SERVER RUN CPU|- LOADGEN_CPU|- WORKERS DEFLATE loadgen-args...
# MEASURE_FIELDS (e.g. '"load":"2x",'), when set, is added to the JSON line.
measure() {
  local cell=$1 server=$2 run=$3 cpu=$4 lcpu=$5 workers=$6 deflate=$7 line rc=0
  shift 7
  local pin=() target=()
  [[ "$lcpu" == - ]] || pin=(taskset -c "$lcpu")
  wait_quiet
  start_server "$server" "$cpu" "$workers" "$deflate"
  if [[ "$server" == router ]]; then
    target=(--admin-port "$ADMIN_PORT" --token "$TOKEN" --path /ws/bench --channel bench)
  else
    # The floor has no batches (--per-request is the router's), and sends
    # frames as large as the router's: its payload is the router's data plus
    # the envelope the router wraps it in, so both put the same bytes on the
    # wire for each delivery.
    local args=() skip=0 size=0 a
    for a in "$@"; do
      if ((skip == 1)); then skip=0; continue; fi
      if ((skip == 2)); then skip=0; args+=("$((a + ENVELOPE_BYTES))"); continue; fi
      if [[ "$a" == --per-request ]]; then skip=1; continue; fi
      if [[ "$a" == --size ]]; then skip=2; fi
      args+=("$a")
    done
    set -- "${args[@]}"
  fi
  line=$("${pin[@]}" "$BUILD_DIR/loadgen" --port "$PORT" "${target[@]}" --server-pid "$SERVER_PID" \
    "$@" 2>>"$OUT/$cell.loadgen.log") || rc=$?
  stop_server
  [[ -n "$line" ]] || line="{\"error\":\"loadgen exited $rc without output\"}"
  line=$(echo "$line" | sed "s/^{/{\"cell\":\"$cell\",\"server\":\"$server\",\"run\":$run,\"exit\":$rc,${MEASURE_FIELDS:-}/")
  echo "$line" >>"$OUT/$cell.jsonl"
  echo "$cell $server run $run $*: $(echo "$line" | cut -c1-160)..."
}

# measure_overload RUN LOAD CAPACITY RATE loadgen-args...: one run of the
# overload cell, its router configured with OVERLOAD_ADMIN, OVERLOAD_LIMITS and
# OVERLOAD_NAMESPACE (the capacity run without the overload bounds).
measure_overload() {
  local run=$1 load=$2 capacity=$3 rate=$4
  shift 4
  local admin=$OVERLOAD_ADMIN limits=$OVERLOAD_LIMITS
  if [[ "$load" == capacity ]]; then
    # The fan-out's own capacity: no refusal and no shedding (the window
    # bounds what waits), which would hold the publishers back and measure
    # the backpressure instead.
    admin="publish_backlog: 0, publish_backlog_ms: 0"
    limits="worker_inbox_max_delay_ms: 0"
  fi
  MEASURE_FIELDS="\"load\":\"$load\",\"capacity\":$capacity," \
    ROUTER_ADMIN="$admin" ROUTER_LIMITS="$limits" ROUTER_NAMESPACE="$OVERLOAD_NAMESPACE" \
    measure overload router "$run" "$SERVER_CPU" "$LOADGEN_CPU" 1 false \
    --n "$OVERLOAD_N" --size 200 --rate "$rate" "$@"
}

for ((run = 1; run <= RUNS; run++)); do
  if has_cell rate; then
    for n in $NS; do
      for rate in $RATES; do
        for server in floor router; do
          measure rate "$server" "$run" "$SERVER_CPU" "$LOADGEN_CPU" 1 false \
            --n "$n" --size 200 --rate "$rate" --duration "$DURATION" --warmup "$WARMUP"
        done
      done
    done
  fi
  if has_cell saturation; then
    for n in $NS; do
      for server in floor router; do
        measure saturation "$server" "$run" "$SERVER_CPU" "$LOADGEN_CPU" 1 false \
          --n "$n" --size 200 --rate 0 --window "$WINDOW" --per-request "$PER_REQUEST" \
          --duration "$DURATION" --warmup "$WARMUP"
      done
    done
  fi
  if has_cell snapshot; then
    for n in $NS; do
      measure snapshot router "$run" "$SERVER_CPU" "$LOADGEN_CPU" 1 true \
        --n "$n" --size 16384 --deflate --rate "$SNAPSHOT_RATE" --duration "$DURATION" --warmup "$WARMUP"
    done
  fi
  if has_cell idle; then
    measure idle router "$run" "$SERVER_CPU" "$LOADGEN_CPU" 1 false --n "$IDLE_N" --idle "$IDLE_S"
  fi
  if has_cell unpinned; then
    for n in $NS; do
      for server in floor router; do
        measure unpinned "$server" "$run" - - 2 false \
          --n "$n" --size 200 --rate 0 --window "$WINDOW" --per-request "$PER_REQUEST" \
          --duration "$DURATION" --warmup "$WARMUP"
      done
    done
  fi
  if has_cell overload; then
    # Capacity first, as the saturation cell measures it but with enough
    # publications in flight for the router's biggest passes: what the
    # fan-out sustains at this N on this minute's machine. Then a fixed rate of C and of 2C in the
    # same run, so that the three share the machine's speed of the moment.
    measure_overload "$run" capacity 0 0 --window "$OVERLOAD_WINDOW" \
      --per-request $((OVERLOAD_WINDOW / OVERLOAD_PUBLISHERS)) --duration "$DURATION" --warmup "$WARMUP"
    capacity=$(tail -n 1 "$OUT/overload.jsonl" | "$PYTHON" -c '
import json, sys
r = json.loads(sys.stdin.read())
print(int(r["deliveries_per_s"] / r["n"]) if "error" not in r and r.get("deliveries_per_s", 0) > 0 else 0)')
    if ((capacity == 0)); then
      echo "router.sh: overload run $run: no capacity measured (see $OUT/overload.jsonl);" \
        "its fixed-rate runs are skipped" >&2
    else
      for load in 1 2; do
        measure_overload "$run" "${load}x" "$capacity" $((load * capacity)) \
          --publishers "$OVERLOAD_PUBLISHERS" --per-request "$OVERLOAD_PER_REQUEST" \
          --duration "$OVERLOAD_S" --warmup "$OVERLOAD_WARMUP"
      done
    fi
  fi
done
rm -f "$OUT/.listening"

summarize "$OUT" | tee "$OUT/summary.md"
