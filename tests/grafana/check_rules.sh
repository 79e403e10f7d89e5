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

  # Monitoring-mixin style: a Wsrouter... CamelCase name, for:, severity,
  # summary, a templated description, a runbook_url.
  missing="$(awk '
    function flush() {
      if (name == "") return
      if (name !~ /^Wsrouter[A-Z][A-Za-z]*$/) print name ": not a WsrouterCamelCase name"
      if (!f) print name ": no for:"
      if (!sev) print name ": no severity critical or warning"
      if (!sum) print name ": no summary"
      if (!desc) print name ": no description with {{ $labels... }}"
      if (!rb) print name ": no runbook_url"
    }
    /- alert:/ { flush(); name = $3; f = sev = sum = desc = rb = 0; indesc = 0; next }
    /^ *- (record|alert):/ { indesc = 0 }
    /^ *for: *[0-9]+[smh]/ { f = 1 }
    /^ *severity: *(critical|warning) *$/ { sev = 1 }
    /^ *summary: *[^ ]/ { sum = 1 }
    /^ *runbook_url: *https?:/ { rb = 1; indesc = 0 }
    /^ *[a-z_]+:/ && !/description:/ { indesc = 0 }
    /^ *description:/ { indesc = 1 }
    indesc && /\{\{ *\$labels\./ { desc = 1 }
    END { flush() }' "$rules")"
  if [[ -n "$missing" ]]; then echo "check_rules: $missing"; status=1; fi

  # Every alert links to its own section of docs/runbook.md.
  runbook="$here/../../docs/runbook.md"
  while read -r alert url; do
    anchor="${url##*#}"
    if [[ "$url" != */docs/runbook.md#* || "$anchor" != "${alert,,}" ]]; then
      echo "check_rules: $alert: runbook_url $url is not docs/runbook.md#${alert,,}"; status=1
    elif ! grep -qx "## $alert" "$runbook"; then
      echo "check_rules: $alert: docs/runbook.md has no '## $alert' section (anchor #$anchor)"; status=1
    fi
  done < <(awk '/- alert:/ { a = $3 } /runbook_url:/ { print a, $2 }' "$rules")
  if [[ "$(grep -c 'runbook_url:' "$rules")" != "$(grep -c -- '- alert:' "$rules")" ]]; then
    echo "check_rules: an alert of $rules has no runbook_url"; status=1
  fi

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
