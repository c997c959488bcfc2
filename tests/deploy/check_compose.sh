#!/usr/bin/env bash
# Validates deploy/docker-compose.yml with `docker compose config -q` (the Compose plugin), or with the
# standalone `docker-compose` (Debian package docker-compose) when the plugin is missing. Neither needs a
# running Docker engine. Exit 0 valid, 1 invalid, 77 (SKIP) when no Compose client is installed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
file=$root/deploy/docker-compose.yml

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
