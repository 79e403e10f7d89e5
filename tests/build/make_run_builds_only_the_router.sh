#!/usr/bin/env bash
# `make run` must build the router alone: the test suite and the benchmarks
# take minutes on a fresh machine and running needs neither. Checked on the
# commands make would run (make -n), so nothing is built or started here.
set -euo pipefail
cd "$(dirname "$0")/../.."
plan=$(make -n run)
fail() { echo "make run: $1"; echo "$plan"; exit 1; }
grep -q -- "setup.sh --runtime" <<<"$plan" || fail "does not install the runtime packages only"
grep -q -- "-DWSROUTER_TESTS=OFF" <<<"$plan" || fail "configures the test suite"
grep -q -- "--target wsrouter" <<<"$plan" || fail "builds more than the wsrouter target"
if grep -Eq "cmake --build build( -j [0-9]+)?$" <<<"$plan"; then fail "builds every target"; fi
echo "make run builds only wsrouter"
