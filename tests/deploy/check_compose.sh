#!/usr/bin/env bash
# Checks that every gate of deploy/docker-compose.yml requires CLAIMGATE_HTTP_TOKEN, then validates the file
# with `docker compose config -q` (the Compose plugin), or with the
# standalone `docker-compose` (Debian package docker-compose) when the plugin is missing. Neither needs a
# running Docker engine. Exit 0 valid, 1 invalid, 77 (SKIP) when no Compose client is installed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
file=$root/deploy/docker-compose.yml

# Without a Compose client too: every gate requires the status query's token (personal data behind it),
# with the ${VAR:?message} form that stops `docker compose up` when it is unset.
gates=$(grep -cE '^  gate-[0-9]+:$' "$file")
required=$(grep -cE '^      CLAIMGATE_HTTP_TOKEN: "\$\{CLAIMGATE_HTTP_TOKEN:\?' "$file")
if [ "$gates" -eq 0 ] || [ "$required" -ne "$gates" ]; then
  echo "FAIL: $gates gates, $required of them require CLAIMGATE_HTTP_TOKEN" >&2
  exit 1
fi
export CLAIMGATE_HTTP_TOKEN=${CLAIMGATE_HTTP_TOKEN:-check-compose}  # for `config -q` below

if command -v docker > /dev/null 2>&1 && docker compose version > /dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose > /dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "SKIP: no docker compose client (docker compose plugin or docker-compose)"
  exit 77
fi

if ! "${compose[@]}" -f "$file" config -q; then
  echo "FAIL: ${compose[*]} -f $file config -q" >&2
  exit 1
fi
# Every file the services mount must exist (config -q does not look).
missing=0
while read -r src; do
  if [ ! -e "$root/deploy/$src" ]; then echo "FAIL: mounted file deploy/$src does not exist" >&2; missing=1; fi
done < <(sed -nE 's/^[[:space:]]*- \.\/([^:]+):.*/\1/p' "$file")
[ "$missing" -eq 0 ] || exit 1
echo "check_compose: $file is valid (${compose[*]})"
