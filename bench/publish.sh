#!/usr/bin/env bash
# Publish path benchmark: the router's publish API (admin port) under wrk,
# against bench/http_floor.cpp (the least an HTTP/1.1 server can do) in the
# same run, and the publisher WebSocket under bench/pubload.cpp.
#
# Cells (CELLS picks some):
#   single     POST /api/v1/publish, one 200-byte publication a request, one
#              request in flight per keep-alive connection; wrk -c for each
#              of CONNS; floor, then router; router/floor per run
#   pipelined  the same request, DEPTH pipelined per write (wrk -c PIPE_CONNS);
#              floor, then router
#   batch      POST /api/v1/publish/batch of BATCH publications, wrk -c
#              BATCH_CONNS; floor, then router with one WebSocket subscriber
#              on channel bench (a raw reader: bench/publish.sh's SUBSCRIBER),
#              then (BATCH_NOSUB=1) router without one
#   pubws      GET /api/v1/publish/ws: PUB_CONNS connections with WINDOW
#              publish frames in flight each (bench/pubload.cpp); router only
# Server on SERVER_CPU (the router with all its threads, workers: 1), wrk
# -t1 (or pubload, and the batch cell's subscriber) on LOADGEN_CPU. Every run
# starts a fresh server and stops it by pid. A server that does not take
# pipelined requests or the publisher WebSocket is reported as such in the
# cell's JSON line ("error") and the tables. JSON lines land in
# bench/results/publish-<timestamp>/<cell>.jsonl; the tables of medians are
# printed and saved as summary.md there. Exits 1 when a router run answered
# anything but 2xx or lost a connection (the router must take every publication).
#
# Environment:
#   RUNS=3  DURATION=10  WARMUP=1 (a discarded wrk run first)  SIZE=200
#   CONNS="1 16 64"  DEPTH=16 PIPE_CONNS=16  BATCH=1000 BATCH_CONNS=4 BATCH_NOSUB=1
#   PUB_CONNS=4 WINDOW=256  CELLS="single pipelined batch pubws"
#   SERVER_CPU=0 LOADGEN_CPU=1  BUILD=0 (skip the build)  BUILD_DIR=build-bench
#   QUICK=1  smoke check: one run of 3 s per cell, no warm-up
#   QUIET_MAX=0.25 QUIET_WAIT=600  wait for a quiet machine before each run
#
# bash bench/publish.sh --summary DIR   prints the tables of an earlier results directory
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$ROOT/$BUILD_DIR ;; esac
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
SIZE=${SIZE:-200}
CONNS=${CONNS:-"1 16 64"}
DEPTH=${DEPTH:-16}
PIPE_CONNS=${PIPE_CONNS:-16}
BATCH=${BATCH:-1000}
BATCH_CONNS=${BATCH_CONNS:-4}
BATCH_NOSUB=${BATCH_NOSUB:-1}
PUB_CONNS=${PUB_CONNS:-4}
WINDOW=${WINDOW:-256}
CELLS=${CELLS:-"single pipelined batch pubws"}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
QUIET_MAX=${QUIET_MAX:-0.25}
QUIET_WAIT=${QUIET_WAIT:-600}
WRK=${WRK:-wrk}
if [[ "${QUICK:-0}" == 1 ]]; then
  RUNS=1
  DURATION=3
  WARMUP=0
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

def group(rs, *keys):
    groups = {}
    for r in rs:
        groups.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return groups

def ms(rs, q):
    """Median of a latency quantile in ms; '-' where wrk could not tell (null)."""
    vals = [r["latency_us"][q] for r in rs if r["latency_us"].get(q) is not None]
    return f"{statistics.median(vals) / 1000:.2f}" if vals else "-"

def socket_errors(r):
    return sum(r.get("socket_errors", {}).values())

def accepted(r):
    """Publications the server took in a second (the router's 429 OVERLOADED
    refusals inside batches left out; older results did not count them)."""
    return r.get("accepted_per_s", r["requests_per_s"] * r.get("batch", 1))

def clean(rs):
    """Runs that count toward ratios and goals: every request answered 2xx."""
    return [r for r in ok(rs) if r.get("non_2xx", 0) == 0 and socket_errors(r) == 0]

def paired(rs, key, value, goal=None):
    """router/floor in the same run, for each group of `key`."""
    bad = len(ok(rs)) - len(clean(rs))
    if bad:
        print(f"- {bad} run(s) with non-2xx answers or socket errors: left out of the ratios and goals")
    for k, g in sorted(group(clean(rs), key).items(), key=lambda kv: kv[0]):
        by = group(g, "server")
        if ("floor",) not in by or ("router",) not in by:
            continue
        # Each run measures both servers back to back, so the machine's
        # drift between runs (large on a VM) cancels in the run's ratio.
        floor_by_run = {x["run"]: value(x) for x in by[("floor",)]}
        pairs = sorted(value(x) / floor_by_run[x["run"]] for x in by[("router",)]
                       if floor_by_run.get(x["run"]))
        if not pairs:
            continue
        verdict = ""
        if goal is not None:
            verdict = f": {'meets' if statistics.median(pairs) >= goal else 'misses'} the {goal}x goal"
        print(f"- {key} {k[0]}: router/floor in the same run = {statistics.median(pairs):.3f} "
              f"(median of {len(pairs)}, {pairs[0]:.2f}-{pairs[-1]:.2f}){verdict}")

def wrk_table(title, cell, keys, per_request=1):
    rs = rows(cell)
    if not rs:
        return
    print(f"### {title}\n")
    pubs = " | publications/s" if per_request > 1 else ""
    extra = [k for k in keys if k != "server"]
    print("| server | " + " | ".join(extra) + " | runs | requests/s" + pubs +
          " | p50 ms | p99 ms | non-2xx | socket errors | server CPU |")
    print("| --- |" + " ---: |" * (len(extra) + 7 + (1 if pubs else 0)))
    for key, g in sorted(group(rs, *keys).items(), key=lambda kv: [str(x) for x in kv[0]]):
        cols = dict(zip(keys, key))
        shown = lambda v: {True: "yes", False: "no"}.get(v, v) if isinstance(v, bool) else v
        head = f"| {cols['server']} | " + " | ".join(str(shown(cols[k])) for k in extra) + " | "
        good = ok(g)
        if not good:
            print(head + f"0 ({len(g)} failed: {g[0].get('error')}) |" + " |" * (6 + (1 if pubs else 0)))
            continue
        rps = med(good, lambda r: r["requests_per_s"])
        print(head + f"{len(good)} | {rps:,.0f}"
              + (f" | {med(good, accepted):,.0f}" if pubs else "")
              + f" | {ms(good, 'p50')} | {ms(good, 'p99')}"
              f" | {sum(r['non_2xx'] for r in good)} | {sum(socket_errors(r) for r in good)}"
              f" | {med(good, lambda r: r['server_cpu']):.2f} |")
    print()

print(f"Results: {out}\n")
wrk_table("single: one publication a request, one request in flight a connection", "single",
          ["server", "connections"])
paired(rows("single"), "connections", lambda r: r["requests_per_s"], goal=0.8)
print()
wrk_table("pipelined: requests pipelined per connection (latency: per pipeline)", "pipelined",
          ["server", "connections", "depth"])
paired(rows("pipelined"), "connections", lambda r: r["requests_per_s"])
router = clean([r for r in rows("pipelined") if r["server"] == "router"])
if router:
    rps = med(router, lambda r: r["requests_per_s"])
    print(f"- router pipelined: {rps:,.0f} requests/s: "
          f"{'meets' if rps > 200_000 else 'misses'} the 200,000 goal")
print()
rs = rows("batch")
wrk_table("batch: publications per request", "batch", ["server", "subscriber", "connections", "batch"],
          per_request=2)
if rs:
    subbed = clean([r for r in rs if r["server"] == "router" and r.get("subscriber")])
    if subbed:
        print("Subscriber (one WebSocket connection on channel bench, a raw reader): "
              f"{med(subbed, lambda r: r['subscriber_bytes'] / r['duration_s']) / 1e6:,.1f} MB/s "
              f"received, about {med(subbed, lambda r: r['subscriber_bytes'] / r['duration_s'] / r['frame_bytes']):,.0f} "
              f"frames/s of ~{subbed[0]['frame_bytes']} bytes.\n")
    paired([r for r in rs if r["server"] == "floor" or r.get("subscriber")], "batch",
           accepted)
    if subbed:
        pps = med(subbed, accepted)
        print(f"- router batch with a subscriber: {pps:,.0f} publications/s: "
              f"{'meets' if pps > 1_000_000 else 'misses'} the 1,000,000 goal")
    print()
rs = rows("pubws")
if rs:
    print("### pubws: publisher WebSocket (router only)\n")
    print("| connections | window | runs | publications/s | error answers | out of order | lost "
          "| p50 ms | p99 ms | server CPU |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (c, w), g in sorted(group(rs, "connections", "window").items()):
        good = ok(g)
        if not good:
            print(f"| {c} | {w} | 0 ({len(g)} failed: {g[0].get('error')}) |" + " |" * 7)
            continue
        codes = {}
        for r in good:
            for k, v in r.get("error_codes", {}).items():
                codes[k] = codes.get(k, 0) + v
        print(f"| {c} | {w} | {len(good)} | {med(good, lambda r: r['publications_per_s']):,.0f} "
              f"| {sum(r['error_answers'] for r in good)}"
              + (f" ({', '.join(f'{k} {v}' for k, v in sorted(codes.items()))})" if codes else "")
              + f" | {sum(r['out_of_order'] for r in good)} | {sum(r['lost'] for r in good)}"
              f" | {med(good, lambda r: r['latency_us']['p50']) / 1000:.2f}"
              f" | {med(good, lambda r: r['latency_us']['p99']) / 1000:.2f}"
              f" | {med(good, lambda r: r['server_cpu']):.2f} |")
        pps = med(good, lambda r: r["publications_per_s"])
        print(f"\n- pubws: {pps:,.0f} publications/s: "
              f"{'meets' if pps > 300_000 else 'misses'} the 300,000 goal")
    print()
EOF
}

if [[ "${1:-}" == --summary ]]; then
  [[ -d "${2:-}" ]] || { echo "usage: bash bench/publish.sh --summary bench/results/publish-<timestamp>" >&2; exit 2; }
  summarize "$2"
  exit 0
fi

if [[ "${BUILD:-1}" != 0 ]]; then
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWSROUTER_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)" --target http_floor pubload wsrouter
fi
for bin in http_floor pubload wsrouter; do
  [[ -x "$BUILD_DIR/$bin" ]] || { echo "publish.sh: $BUILD_DIR/$bin is missing" >&2; exit 1; }
done
command -v "$WRK" >/dev/null || { echo "publish.sh: $WRK is missing (bash scripts/setup.sh installs it)" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
SUB_PID=""
# The batch cell's subscriber too, when the script stops early.
trap 'if [[ -n "$SUB_PID" ]]; then kill -TERM "$SUB_PID" 2>/dev/null || true; fi; cleanup' EXIT

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/bench/results/publish-$STAMP"
mkdir -p "$OUT"
machine_info >"$OUT/machine.txt"
echo "wrk: $("$WRK" -v 2>&1 | head -1)" >>"$OUT/machine.txt"
echo "settings: RUNS=$RUNS DURATION=$DURATION WARMUP=$WARMUP SIZE=$SIZE CONNS=\"$CONNS\" DEPTH=$DEPTH PIPE_CONNS=$PIPE_CONNS BATCH=$BATCH BATCH_CONNS=$BATCH_CONNS BATCH_NOSUB=$BATCH_NOSUB PUB_CONNS=$PUB_CONNS WINDOW=$WINDOW CELLS=\"$CELLS\"" >>"$OUT/machine.txt"
cat "$OUT/machine.txt"
TOKEN=bench-publisher-token-0123456789
echo "$TOKEN" >"$OUT/publisher.token"
# A batch body is BATCH publications of SIZE bytes of data and ~60 of their own.
MAX_PUBLISH_BYTES=$(((SIZE + 64) * BATCH + 1024))
((MAX_PUBLISH_BYTES >= 1048576)) || MAX_PUBLISH_BYTES=1048576
MAX_BATCH=$BATCH
((MAX_BATCH >= 1000)) || MAX_BATCH=1000
# What the router puts on the wire per delivery of a publication:
# {"type":"bench","channel":"bench","seq":N,"ts":MS,"data":...} around the
# data (75 bytes with a 7-digit seq) and a 4-byte frame header.
FRAME_BYTES=$((SIZE + 79))

# The batch cell's subscriber: the cheapest reader of channel bench, so the
# router builds and writes every publication's frame and the load side pays
# next to nothing for it. Standard library only; bytes are counted, frames
# not parsed (a Python frame parser could not keep up with a million a
# second). Prints SUBSCRIBED once upgraded; on SIGTERM, {"bytes":N}.
SUBSCRIBER_PY=$(
  cat <<'EOF'
import base64, os, signal, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(4096)
    if not chunk:
        sys.exit(f"subscriber: the router closed the connection during the handshake: {head[:200]!r}")
    head += chunk
status = head.split(b"\r\n", 1)[0]
if not status.startswith(b"HTTP/1.1 101"):
    sys.exit(f"subscriber: {path} refused: {status.decode(errors='replace')}")
received = len(head) - head.index(b"\r\n\r\n") - 4
stop = False
def on_term(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)
print("SUBSCRIBED", flush=True)
s.settimeout(0.2)
buf = bytearray(1 << 20)
while not stop:
    try:
        n = s.recv_into(buf)
    except socket.timeout:
        continue
    except InterruptedError:
        continue
    if n == 0:
        sys.exit("subscriber: the router closed the connection")
    received += n
print(f'{{"bytes":{received}}}', flush=True)
EOF
)

PORT=""
ADMIN_PORT=""
# start_server floor|router: sets SERVER_PID, PORT (the router's WebSocket
# port) and ADMIN_PORT (where publications go: the floor's only port).
start_server() {
  local kind=$1 log="$OUT/$1.server.log" listening="$OUT/.listening" i
  rm -f "$listening"
  PORT="" ADMIN_PORT=""
  if [[ "$kind" == floor ]]; then
    taskset -c "$SERVER_CPU" "$BUILD_DIR/http_floor" --port 0 >"$listening" 2>>"$log" &
  else
    cat >"$OUT/router.yaml" <<YAML
server: {host: 127.0.0.1, port: 0, workers: 1, permessage_deflate: false}
admin: {host: 127.0.0.1, port: 0, publisher_token_file: $OUT/publisher.token, max_batch_messages: $MAX_BATCH, max_publish_bytes: $MAX_PUBLISH_BYTES}
feed: {enabled: false}
limits: {max_connections: 0, connections_per_address: 0, connection_attempts_per_minute: 0}
namespaces:
  bench: {dedicated_endpoint: true}
YAML
    taskset -c "$SERVER_CPU" "$BUILD_DIR/wsrouter" --config "$OUT/router.yaml" >"$listening" 2>>"$log" &
  fi
  SERVER_PID=$!
  local serving
  for ((i = 0; i < 200; i++)); do
    if [[ "$kind" == floor ]]; then
      ADMIN_PORT=$(awk '/^LISTENING/{print $2; exit}' "$listening" 2>/dev/null || true)
      [[ -n "$ADMIN_PORT" ]] && break
    else
      # The "serving" log line, read once so both ports come from the same
      # (whole) line: {..."ws":"ws://127.0.0.1:P/ws","admin":"http://127.0.0.1:A",...}
      serving=$(grep -m1 '"event":"serving"' "$listening" 2>/dev/null || true)
      PORT=$(echo "$serving" | sed -n 's|.*"ws":"ws://[0-9.]*:\([0-9]*\)/ws".*|\1|p')
      ADMIN_PORT=$(echo "$serving" | sed -n 's|.*"admin":"http://[0-9.]*:\([0-9]*\)".*|\1|p')
      [[ -n "$PORT" && -n "$ADMIN_PORT" ]] && break
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [[ -z "$ADMIN_PORT" || ("$kind" == router && -z "$PORT") ]]; then
    echo "publish.sh: $kind did not start (see $log)" >&2
    exit 1
  fi
}

cpu_ticks() {  # pid: utime + stime of all its threads, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# Whether the server on ADMIN_PORT answers 3 publish requests sent in one
# write, all 200 and in order: prints nothing if so, else what went wrong
# (quotes and backslashes turned into ', for the JSON line).
pipelining_problem() {
  "$PYTHON" - "$ADMIN_PORT" "$TOKEN" <<'EOF' | tr '"\\' "''" || true
import socket, sys, time
port, token = int(sys.argv[1]), sys.argv[2]
body = b'{"channel":"bench","type":"bench","data":{"probe":1}}'
req = (f"POST /api/v1/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
got, answers, deadline = b"", 0, time.monotonic() + 3
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(req * 3)
    while answers < 3 and time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        answers = got.count(b"HTTP/1.1 ")
except OSError as e:  # a timeout too
    if answers == 0 and not isinstance(e, socket.timeout):
        print(f"pipelining probe failed: {e}")
        sys.exit(0)
if answers < 3:
    print(f"pipelining not supported: 3 requests sent in one write, {answers} answered within 3 s")
elif got.count(b"HTTP/1.1 200") < 3:
    print("pipelining not supported: answers " +
          ", ".join(l.decode(errors="replace") for l in got.split(b"\r\n") if l.startswith(b"HTTP/1.1")))
EOF
}

# The router's count of publications refused with OVERLOADED so far.
refused_overloaded() {
  curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" |
    sed -n 's/^wsrouter_publish_rejected_total{code="OVERLOADED"} \([0-9.e+]*\)$/\1/p' |
    awk '{printf "%d", $1} END {if (NR == 0) printf "0"}'
}

FAILED=0
# record CELL SERVER RUN JSON: the JSON line, with cell, server and run first.
record() {
  local line
  line=$(echo "$4" | sed "s/^{/{\"cell\":\"$1\",\"server\":\"$2\",\"run\":$3,/")
  echo "$line" >>"$OUT/$1.jsonl"
  echo "$1 $2 run $3: $(echo "$line" | cut -c1-200)..."
}

# wrk_cell CELL SERVER RUN SUBSCRIBER(0|1) CONNECTIONS MODE COUNT: one wrk
# run against a fresh server.
wrk_cell() {
  local cell=$1 server=$2 run=$3 sub=$4 conns=$5 mode=$6 count=$7
  local sub_pid="" sub_out="$OUT/.subscriber" problem="" raw json t0 t1 rc=0 extra
  local depth=1 batch=1
  [[ "$mode" == single ]] && depth=$count
  [[ "$mode" == batch ]] && batch=$count
  extra="\"connections\":$conns,\"depth\":$depth,\"batch\":$batch,\"subscriber\":$([[ $sub == 1 ]] && echo true || echo false)"
  wait_quiet
  start_server "$server"
  if ((depth > 1)); then problem=$(pipelining_problem); fi
  if [[ -n "$problem" ]]; then
    stop_server
    echo "publish.sh: $server: $problem" >&2
    record "$cell" "$server" "$run" "{$extra,\"error\":\"$problem\"}"
    return 0
  fi
  if [[ "$sub" == 1 ]]; then
    rm -f "$sub_out"
    taskset -c "$LOADGEN_CPU" "$PYTHON" -c "$SUBSCRIBER_PY" "$PORT" /ws/bench >"$sub_out" 2>>"$OUT/$cell.subscriber.log" &
    sub_pid=$!
    SUB_PID=$sub_pid
    local i
    for ((i = 0; i < 100; i++)); do
      grep -q SUBSCRIBED "$sub_out" 2>/dev/null && break
      kill -0 "$sub_pid" 2>/dev/null || break
      sleep 0.05
    done
    if ! grep -q SUBSCRIBED "$sub_out" 2>/dev/null; then
      kill -TERM "$sub_pid" 2>/dev/null || true
      wait "$sub_pid" 2>/dev/null || true
      SUB_PID=""
      stop_server
      problem="subscriber did not connect: $(tail -1 "$OUT/$cell.subscriber.log" | tr '"\\' "''")"
      echo "publish.sh: $problem" >&2
      record "$cell" "$server" "$run" "{$extra,\"error\":\"$problem\"}"
      return 0
    fi
  fi
  run_wrk() {  # SECONDS: wrk -t1 on LOADGEN_CPU against the server
    taskset -c "$LOADGEN_CPU" "$WRK" -t1 -c "$conns" -d "${1}s" --latency --timeout 10s \
      -s "$ROOT/bench/wrk/publish.lua" "http://127.0.0.1:$ADMIN_PORT" -- "$mode" "$TOKEN" "$SIZE" "$count"
  }
  if [[ "$WARMUP" != 0 ]]; then run_wrk "$WARMUP" >/dev/null 2>>"$OUT/$cell.wrk.log" || true; fi
  local sub_before=0 refused0=0 refused1=0
  [[ "$server" == router ]] && refused0=$(refused_overloaded)
  t0=$(cpu_ticks "$SERVER_PID")
  raw=$(run_wrk "$DURATION" 2>>"$OUT/$cell.wrk.log") || rc=$?
  t1=$(cpu_ticks "$SERVER_PID")
  [[ "$server" == router ]] && refused1=$(refused_overloaded)
  echo "$raw" >>"$OUT/$cell.wrk.log"
  local sub_bytes=0
  if [[ -n "$sub_pid" ]]; then
    kill -TERM "$sub_pid" 2>/dev/null || true
    wait "$sub_pid" 2>/dev/null || true
    SUB_PID=""
    sub_bytes=$(sed -n 's/^{"bytes":\([0-9]*\)}$/\1/p' "$sub_out")
    [[ -n "$sub_bytes" ]] || sub_bytes=-1
    sub_before=1
  fi
  stop_server
  json=$(echo "$raw" | sed -n 's/^WRKJSON //p' | tail -1)
  if [[ -z "$json" ]]; then
    json="{\"error\":\"wrk exited $rc without its report (see $cell.wrk.log)\"}"
  fi
  json=$("$PYTHON" -c '
import json, os, sys
r = json.loads(sys.argv[1])
r.update(json.loads("{" + sys.argv[2] + "}"))
r["server_cpu"] = (int(sys.argv[4]) - int(sys.argv[3])) / os.sysconf("SC_CLK_TCK") / max(r.get("duration_s", 0), 1e-9)
# Publications the router refused (429 OVERLOADED: its worker was behind),
# within batches answered 200 too: not taken in, so not counted as such.
r["refused_overloaded"] = int(sys.argv[9]) - int(sys.argv[8])
r["accepted_per_s"] = max(r.get("requests_per_s", 0) * r.get("batch", 1)
                          - r["refused_overloaded"] / max(r.get("duration_s", 0), 1e-9), 0)
if sys.argv[5] == "1":
    r["subscriber_bytes"] = int(sys.argv[6])
    r["frame_bytes"] = int(sys.argv[7])
    if r["subscriber_bytes"] < 0:
        r["error"] = "the subscriber did not report (lost its connection?)"
print(json.dumps(r))' "$json" "$extra" "$t0" "$t1" "$sub_before" "$sub_bytes" "$FRAME_BYTES" "$refused0" "$refused1")
  if [[ "$server" == router && "$json" != *'"error"'* ]] &&
    ! "$PYTHON" -c 'import json, sys; r = json.loads(sys.argv[1]); sys.exit(r["non_2xx"] + sum(r["socket_errors"].values()) > 0)' "$json"; then
    echo "publish.sh: FAILED: the router answered non-2xx or dropped connections in $cell ($server run $run)" >&2
    FAILED=1
  fi
  record "$cell" "$server" "$run" "$json"
}

# pubws_cell RUN: pubload against a fresh router.
pubws_cell() {
  local run=$1 line rc=0 t0 t1
  wait_quiet
  start_server router
  t0=$(cpu_ticks "$SERVER_PID")
  line=$(taskset -c "$LOADGEN_CPU" "$BUILD_DIR/pubload" --port "$ADMIN_PORT" --token "$TOKEN" \
    --channel bench --connections "$PUB_CONNS" --window "$WINDOW" --size "$SIZE" \
    --duration "$DURATION" --warmup "$WARMUP" 2>>"$OUT/pubws.pubload.log") || rc=$?
  t1=$(cpu_ticks "$SERVER_PID")
  stop_server
  [[ -n "$line" ]] || line="{\"error\":\"pubload exited $rc without output (see pubws.pubload.log)\"}"
  line=$("$PYTHON" -c '
import json, os, sys
r = json.loads(sys.argv[1])
r.setdefault("connections", int(sys.argv[4]))
r.setdefault("window", int(sys.argv[5]))
if "duration_s" in r:
    r["server_cpu"] = (int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK") / max(r["duration_s"] + float(sys.argv[6]), 1e-9)
print(json.dumps(r))' "$line" "$t0" "$t1" "$PUB_CONNS" "$WINDOW" "$WARMUP")
  if [[ "$line" == *'"error"'* ]]; then
    [[ "$line" == *"handshake refused"* ]] || FAILED=1
    echo "publish.sh: pubws: $(echo "$line" | sed -n 's/.*"error": *"\([^"]*\)".*/\1/p')" >&2
  elif [[ "$line" != *'"out_of_order": 0'* ]]; then
    echo "publish.sh: FAILED: the router's publisher WebSocket answered out of order" >&2
    FAILED=1
  fi
  record pubws router "$run" "$line"
}

has_cell() { [[ " $CELLS " == *" $1 "* ]]; }

for ((run = 1; run <= RUNS; run++)); do
  if has_cell single; then
    for c in $CONNS; do
      for server in floor router; do
        wrk_cell single "$server" "$run" 0 "$c" single 1
      done
    done
  fi
  if has_cell pipelined; then
    for server in floor router; do
      wrk_cell pipelined "$server" "$run" 0 "$PIPE_CONNS" single "$DEPTH"
    done
  fi
  if has_cell batch; then
    wrk_cell batch floor "$run" 0 "$BATCH_CONNS" batch "$BATCH"
    wrk_cell batch router "$run" 1 "$BATCH_CONNS" batch "$BATCH"
    if [[ "$BATCH_NOSUB" == 1 ]]; then
      wrk_cell batch router "$run" 0 "$BATCH_CONNS" batch "$BATCH"
    fi
  fi
  if has_cell pubws; then
    pubws_cell "$run"
  fi
done
rm -f "$OUT/.listening" "$OUT/.subscriber"

summarize "$OUT" | tee "$OUT/summary.md"
if ((FAILED)); then
  echo "publish.sh: some router runs failed (see above and $OUT)" >&2
  exit 1
fi
