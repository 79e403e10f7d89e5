#!/usr/bin/env bash
# promtool check rules + promtool test rules on grafana/alerts/: any warning,
# lint finding, failed unit test or missing test of an alert fails.
#   tests/grafana/check_rules.sh [PROMTOOL]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
alerts="$here/../../grafana/alerts"
promtool="${1:-${PROMTOOL:-promtool}}"
command -v "$promtool" >/dev/null || { echo "check_rules: $promtool not found (scripts/setup.sh installs Debian's prometheus)"; exit 1; }

status=0
for rules in "$alerts"/*.rules.yaml; do
  out="$("$promtool" check rules --lint=all --lint-fatal "$rules" 2>&1)" || status=1
  echo "$out"
  # promtool exits 0 on some findings it only prints; treat them as failures.
  if grep -qiE 'warning|error|FAILED' <<<"$out"; then status=1; fi

  tests="${rules%.yaml}.test.yaml"
  if [[ ! -f "$tests" ]]; then
    echo "check_rules: $rules has no unit tests ($tests)"; status=1; continue
  fi
  (cd "$(dirname "$tests")" && "$promtool" test rules "$(basename "$tests")") || status=1

  # Every alert of the rule file is tested, firing (an exp_alerts entry) and
  # not firing (an empty exp_alerts).
  for alert in $(sed -nE 's/^\s*- alert:\s*(\S+)\s*$/\1/p' "$rules"); do
    fired="$(awk -v a="$alert" '
      /alertname:/ { cur = $2 }
      /exp_alerts: \[\]/ { if (cur == a) quiet = 1; cur = "" ; next }
      /exp_alerts:/ { if (cur == a) loud = 1 }
      END { print (loud ? "fire" : "-") " " (quiet ? "quiet" : "-") }' "$tests")"
    if [[ "$fired" != "fire quiet" ]]; then
      echo "check_rules: $alert lacks a firing or a not-firing unit test in $(basename "$tests") ($fired)"
      status=1
    fi
  done
done
if ((status == 0)); then echo "check_rules: all rules checked and tested"; fi
exit $status
