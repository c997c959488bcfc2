#!/usr/bin/env bash
# Builds deploy/k8s with `kubectl kustomize` (no cluster needed) and checks that the output has the
# objects docs/operations.md describes, the gate's probes on /livez and /readyz, and its mandatory
# status-query token. The gates are a StatefulSet whose --instance is the pod's name, so each pod
# keeps its transactional id across restarts (docs/assumptions.md K1), with a volume claim for its
# state directory, a headless governing Service, and the PodDisruptionBudget selecting its pods.
# Exit 0 valid, 1 invalid, 77 (SKIP) when kubectl is not installed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! command -v kubectl > /dev/null 2>&1; then
  echo "SKIP: kubectl not found"
  exit 77
fi
out=$(kubectl kustomize "$root/deploy/k8s")
status=0
fail() { echo "FAIL: $*" >&2; status=1; }

for kind in Namespace ConfigMap Service StatefulSet PodDisruptionBudget ServiceMonitor; do
  grep -qx "kind: $kind" <<<"$out" || fail "no $kind in deploy/k8s"
done
for path in /livez /readyz; do
  grep -q "path: $path\$" <<<"$out" || fail "no probe on $path"
done
# The gates serve the status query (personal data): its token Secret is mandatory, read from a file.
grep -q -- "--http-token-file=" <<<"$out" || fail "the gate has no --http-token-file"
grep -q "secretName: claimgate-http\$" <<<"$out" || fail "no volume of the Secret claimgate-http"
if grep -q "optional: true" <<<"$out"; then fail "an optional Secret or ConfigMap reference"; fi

# One object of the output by kind and name (kustomize writes metadata.name at two spaces' indent).
object() {
  awk -v kind="$1" -v name="$2" '
    /^---$/ { if (k && n) printf "%s", doc; doc = ""; k = n = 0; next }
    { doc = doc $0 "\n" }
    $0 == "kind: " kind { k = 1 }
    $0 == "  name: " name { n = 1 }
    END { if (k && n) printf "%s", doc }' <<<"$out"
}
# The label lines under the first matchLabels: of an object (its selector).
selector() {
  awk '/matchLabels:$/ && !seen { on = seen = 1; indent = match($0, /[^ ]/); next }
       on && match($0, /[^ ]/) <= indent { on = 0 }
       on { sub(/^ +/, ""); print }' | sort
}

# 1. Stable transactional ids: the gates are no Deployment (a new pod name, so a new id, at every
#    restart) but a StatefulSet whose --instance is the pod's name.
if grep -qx "kind: Deployment" <<<"$out"; then
  fail "a Deployment in deploy/k8s: gates run as a StatefulSet (stable transactional ids, K1)"
fi
gate=$(object StatefulSet claimgate-gate)
if [ -z "$gate" ]; then
  fail "no StatefulSet claimgate-gate"
else
  grep -qx -- '        - --instance=$(POD_NAME)' <<<"$gate" ||
    fail "the gate's --instance is not \$(POD_NAME)"
  grep -A3 -x '        - name: POD_NAME' <<<"$gate" |
    grep -qx '              fieldPath: metadata.name' ||
    fail "the gate's POD_NAME is not its metadata.name"
  # 2. Its status store outlives the pod: the claim template 'state' is mounted as --state-dir, and
  #    no pod volume of that name (an emptyDir) stands in for it.
  grep -qx -- '        - --state-dir=/var/lib/claimgate' <<<"$gate" ||
    fail "the gate has no --state-dir"
  grep -A1 -x '        - mountPath: /var/lib/claimgate' <<<"$gate" |
    grep -qx '          name: state' || fail "the gate does not mount 'state' at /var/lib/claimgate"
  awk '/^  volumeClaimTemplates:/ { on = 1 } on && /^      name: state$/ { found = 1 }
       END { exit !found }' <<<"$gate" || fail "the gate has no volumeClaimTemplates entry 'state'"
  if awk '/^      volumes:/ { on = 1; next }
          on && match($0, /[^ ]/) < 7 { on = 0 }
          on && /^        name: state$/ { found = 1 } END { exit !found }' <<<"$gate"; then
    fail "a pod volume 'state' of the gate hides its volume claim"
  fi
  # 3. Its governing Service exists and is headless.
  svc=$(sed -n 's/^  serviceName: //p' <<<"$gate")
  if [ -z "$svc" ]; then
    fail "the gate StatefulSet names no serviceName"
  elif ! object Service "$svc" | grep -qx '  clusterIP: None'; then
    fail "the gate's serviceName $svc is not a headless Service of deploy/k8s"
  fi
  # 4. The PodDisruptionBudget selects exactly the gate's pods.
  pdb=$(object PodDisruptionBudget claimgate-gate | selector)
  [ -n "$pdb" ] && [ "$pdb" = "$(selector <<<"$gate")" ] ||
    fail "the PodDisruptionBudget claimgate-gate does not select the gate StatefulSet's pods"
fi
ledger=$(object StatefulSet claimgate-ledger)
grep -q "^  volumeClaimTemplates:" <<<"$ledger" || fail "the ledger has no volumeClaimTemplates"
# 5. The ServiceMonitor scrapes each gate once: one Service of the gates has a port.
ported=$(awk '/^---$/ { n += s && g && p; s = g = p = 0; next }
              $0 == "kind: Service" { s = 1 }
              /app\.kubernetes\.io\/component: gate$/ { g = 1 }
              /^  ports:/ { p = 1 }
              END { print n + (s && g && p) }' <<<"$out")
[ "$ported" -eq 1 ] ||
  fail "$ported Services with a port select the gates (the ServiceMonitor scrapes each)"

[ "$status" -eq 0 ] && echo "check_k8s: deploy/k8s builds ($(grep -c '^kind:' <<<"$out") objects)"
exit "$status"
