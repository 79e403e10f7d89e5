#!/usr/bin/env bash
# Runs every fuzz target in BUILD_DIR for SECONDS each, seeded from
# tests/fuzz/corpus/<target>/. Any crash, leak or timeout fails the run.
set -euo pipefail
build_dir=${1:?build dir}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
for fuzzer in "$build_dir"/fuzz_*; do
  [[ -x "$fuzzer" ]] || continue
  name=$(basename "$fuzzer")
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  if ! "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$scratch/$name-" "$scratch/$name" "$root/tests/fuzz/corpus/$name" \
       >"$scratch/$name.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -n 60 "$scratch/$name.log"; status=1
  else
    grep -E 'stat::number_of_executed_units|Done' "$scratch/$name.log" | tail -n 2 || true
  fi
done
exit $status
