#!/usr/bin/env bash
# Checks the Prometheus side of deploy/: every alert links a runbook section that exists in
# docs/operations.md, then `promtool check rules`, `promtool test rules` and `promtool check config`, and the
# PromQL syntax of every dashboard panel (as recording rules written by check_dashboard.py).
# Exit 0 when all pass, 1 on a failure, 77 (SKIP) when promtool is not installed (Debian package `prometheus`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
rules=$root/deploy/prometheus/alerts.yml
tests=$root/deploy/prometheus/alerts_test.yml
config=$root/deploy/prometheus/prometheus.yml
runbook=$root/docs/operations.md
status=0

# 1. Runbook links: one runbook_url per alert, each anchor a heading of docs/operations.md (GitHub's slugs:
#    lower case, punctuation dropped, spaces to hyphens).
alerts=$(grep -c '^[[:space:]]*- alert:' "$rules" || true)
links=$(grep -c 'runbook_url:' "$rules" || true)
if [ "$alerts" -eq 0 ] || [ "$alerts" -ne "$links" ]; then
  echo "FAIL: $rules has $alerts alerts and $links runbook_url annotations" >&2
  status=1
fi
slugs=$(grep -E '^#{1,6} ' "$runbook" | sed -E 's/^#+ +//; s/[[:space:]]+$//' | tr '[:upper:]' '[:lower:]' |
        sed -E 's/[^a-z0-9 _-]//g; s/ /-/g')
while read -r url; do
  case $url in
    https://github.com/claimgate/claimgate/blob/main/docs/operations.md\#*) ;;
    *) echo "FAIL: runbook_url $url does not point into docs/operations.md" >&2; status=1; continue ;;
  esac
  anchor=${url#*#}
  if ! grep -qxF "$anchor" <<<"$slugs"; then
    echo "FAIL: runbook_url anchor #$anchor has no heading in docs/operations.md" >&2
    status=1
  fi
done < <(sed -nE 's/^[[:space:]]*runbook_url:[[:space:]]*"?([^"[:space:]]+)"?.*/\1/p' "$rules")
[ "$status" -eq 0 ] && echo "runbook links: $alerts alerts, every anchor found in docs/operations.md"

# 2. promtool.
if ! command -v promtool > /dev/null 2>&1; then
  echo "SKIP: promtool not found (apt-get install prometheus)"
  [ "$status" -eq 0 ] && exit 77
  exit "$status"
fi
promtool check rules "$rules" || status=1
promtool test rules "$tests" || status=1
# prometheus.yml names the rules by their path inside the Prometheus container: check a copy that points here.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$rules" "$tmp/alerts.yml"
sed "s#/etc/prometheus/alerts.yml#$tmp/alerts.yml#" "$config" > "$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml" || status=1
# The dashboard's expressions, parsed by promtool (the metric names are check_dashboard.py's job).
if python3 "$root/tests/deploy/check_dashboard.py" "$root/deploy/metrics.txt" --emit-rules "$tmp/dashboard.yml" > /dev/null; then
  promtool check rules "$tmp/dashboard.yml" || status=1
else
  echo "FAIL: check_dashboard.py" >&2
  status=1
fi

if [ "$status" -ne 0 ]; then echo "check_deploy: FAILED" >&2; fi
exit "$status"
