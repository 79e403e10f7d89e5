#!/usr/bin/env bash
# Three wsrouter instances and one Redis on this machine, as one router:
#
#   scripts/scale-demo.sh          (or: make scale-demo)
#
# Redis on 127.0.0.1:$REDIS_PORT (default 6390, no persistence); instances on
# WebSocket ports 8081, 8082, 8083 and admin ports 9091, 9092, 9093; the demo
# feed runs on the first only (one feed, not three). Publish through any
# admin port, subscribe on any WebSocket port: the same seq everywhere.
# Ctrl-C stops everything this script started (by pid).
set -euo pipefail

cd "$(dirname "$0")/.."
REDIS_PORT="${REDIS_PORT:-6390}"
BIN="${WSROUTER:-build/wsrouter}"
if [[ ! -x "$BIN" ]]; then
  echo "scale-demo: $BIN is missing; build it first (make build)" >&2
  exit 1
fi
command -v redis-server >/dev/null || { echo "scale-demo: redis-server is missing (apt-get install redis-server)" >&2; exit 1; }

pids=()
stop() {
  # The instances first, Redis last (so they do not log a lost Redis).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --loglevel warning &
pids+=($!)

for i in 1 2 3; do
  feed=false
  [[ $i == 1 ]] && feed=true
  WSROUTER_BROKER_TYPE=redis \
    WSROUTER_BROKER_REDIS_ADDRESSES="[127.0.0.1:$REDIS_PORT]" \
    WSROUTER_SERVER_PORT=$((8080 + i)) \
    WSROUTER_ADMIN_PORT=$((9090 + i)) \
    WSROUTER_FEED_ENABLED=$feed \
    "$BIN" --config config.yaml &
  pids+=($!)
done

echo "scale-demo: ws://localhost:8081/ws, :8082, :8083; admin :9091, :9092, :9093; Ctrl-C stops"
wait
