#!/usr/bin/env bash
# Builds deploy/k8s with `kubectl kustomize` (no cluster needed) and checks that the output has the objects
# docs/operations.md describes, the gate's probes on /livez and /readyz, and its mandatory status-query token.
# Exit 0 valid, 1 invalid, 77 (SKIP) when kubectl is not installed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! command -v kubectl > /dev/null 2>&1; then
  echo "SKIP: kubectl not found"
  exit 77
fi
out=$(kubectl kustomize "$root/deploy/k8s")
status=0
for kind in Namespace ConfigMap Service Deployment StatefulSet PodDisruptionBudget ServiceMonitor; do
  if ! grep -qx "kind: $kind" <<<"$out"; then echo "FAIL: no $kind in deploy/k8s" >&2; status=1; fi
done
for path in /livez /readyz; do
  if ! grep -q "path: $path\$" <<<"$out"; then echo "FAIL: no probe on $path" >&2; status=1; fi
done
if ! grep -q "volumeClaimTemplates:" <<<"$out"; then echo "FAIL: the ledger has no volumeClaimTemplates" >&2; status=1; fi
# The gates serve the status query (personal data): its token Secret is mandatory, read from a file.
if ! grep -q -- "--http-token-file=" <<<"$out"; then echo "FAIL: the gate has no --http-token-file" >&2; status=1; fi
if ! grep -q "secretName: claimgate-http\$" <<<"$out"; then echo "FAIL: no volume of the Secret claimgate-http" >&2; status=1; fi
if grep -q "optional: true" <<<"$out"; then echo "FAIL: an optional Secret or ConfigMap reference" >&2; status=1; fi
[ "$status" -eq 0 ] && echo "check_k8s: deploy/k8s builds ($(grep -c '^kind:' <<<"$out") objects)"
exit "$status"
