#!/usr/bin/env bash
# Installs the Debian 12 packages that wsrouter's build and tests need, and
# nothing when they are all present already. Called first by `make run` and
# `make test`; safe to run by hand.
#
#   scripts/setup.sh            build + test + benchmark dependencies
#   scripts/setup.sh --runtime  only what building and running the router needs
#   scripts/setup.sh --unit     that and GoogleTest (the container image's build stage)
set -euo pipefail

build_packages=(
  g++ make cmake pkg-config
  libssl-dev   # SHA-1 and base64 for the handshake, JWT signatures, token digests
  zlib1g-dev   # permessage-deflate
  libyaml-cpp-dev  # config.yaml parsing (src/config)
  libsimdjson-dev     # client messages and publications (hot path)
  nlohmann-json3-dev  # admin answers, where speed does not matter
  libcpp-httplib-dev  # OTLP exporter (its client); request and response types of the admin routes
  prometheus-cpp-dev  # metrics (src/telemetry), served at /metrics
  libhiredis-dev      # the Redis broker (src/broker), broker.type redis
)
test_packages=(
  libgtest-dev        # unit tests
  python3-websockets  # end-to-end client #1 (Debian's python3)
  clang libclang-rt-14-dev  # libFuzzer targets and their sanitizers
  openssl             # the security tests make RS256/ES256 keys and sign JWTs with it
  prometheus          # promtool (metrics, rules, rule tests) and a real server for the dashboard test
  chromium            # the demo page's test in a real browser (tests/browser, driven by playwright-core)
  redis-server        # the Redis broker's end-to-end tests (tests/e2e/router/test_redis.py) start their own
  # The Kubernetes packaging (tests/deploy): the image is built from a local
  # Debian base (debootstrap) with podman, run with runc, and Helm is
  # unpacked from an npm package's zip.
  podman runc debootstrap unzip iptables
)

bench_packages=(
  wrk  # HTTP load for the publish path's benchmark (bench/publish.sh, make bench)
)

packages=("${build_packages[@]}")
if [[ "${1:-}" == "--unit" ]]; then
  packages+=(libgtest-dev)
elif [[ "${1:-}" != "--runtime" ]]; then
  packages+=("${test_packages[@]}" "${bench_packages[@]}")
  # End-to-end client #2 is Node's ws package; any Node >= 18 will do, so a
  # machine that already has node and npm (from anywhere) is left alone.
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [[ "$(id -u)" != 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Debian's prometheus package starts a system-wide Prometheus on port 9090
# where systemd runs, the port of wsrouter's admin server. The tests start
# their own on a free port; the packaged service is not wanted.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 &&
  systemctl is-active --quiet prometheus 2>/dev/null; then
  echo "setup: stopping and disabling the prometheus service (it takes port 9090)"
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

# Debian's redis-server package starts a system-wide Redis on port 6379
# where systemd runs; the tests start their own on free ports, and the
# scale demo its own on 6390: the packaged service is not wanted.
if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v systemctl >/dev/null 2>&1 &&
  systemctl is-active --quiet redis-server 2>/dev/null; then
  echo "setup: stopping and disabling the redis-server service (the tests start their own)"
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi
