#!/usr/bin/env bash
# helm lint --strict and helm template of the chart with its defaults and with
# each ci/ values file, and kubectl kustomize of k8s/base and every overlay;
# every object validated against the pinned Kubernetes and prometheus-operator
# models (validate.mjs). Needs tests/deploy/node_modules (npm ci).
#   tests/deploy/check_manifests.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
chart="$root/helm/wsrouter"
helm="$here/helm.sh"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

to_json() {  # YAML stream on stdin -> JSON array in $1
  /usr/bin/python3 -c 'import json, sys, yaml
json.dump([o for o in yaml.safe_load_all(sys.stdin) if o], open(sys.argv[1], "w"))' "$1"
}

status=0
variants=("defaults:")
for f in "$chart"/ci/*.yaml; do variants+=("$(basename "$f" .yaml):$f"); done
for v in "${variants[@]}"; do
  name="${v%%:*}" file="${v#*:}"
  args=()
  [[ -n "$file" ]] && args=(-f "$file")
  # Lint findings go to stdout; symlink notices (files/ links to grafana/) to stderr.
  if lint="$("$helm" lint --strict "$chart" "${args[@]}" 2>/dev/null)" &&
    ! grep -qE '\[(WARNING|ERROR)\]' <<<"$lint"; then
    echo "helm lint --strict ($name): ok"
  else
    echo "$lint"; echo "helm lint --strict ($name): FAILED"; status=1
  fi
  "$helm" template wsrouter "$chart" --namespace wsrouter "${args[@]}" 2>"$out/err" | to_json "$out/helm-$name.json" ||
    { cat "$out/err"; status=1; }
done
for k in "$root"/k8s/base "$root"/k8s/overlays/*/; do
  name="kustomize-$(basename "$k")"
  "$here/kubectl.sh" kustomize "$k" | to_json "$out/$name.json" || status=1
done
node "$here/validate.mjs" "$out"/*.json || status=1
exit $status
