#!/usr/bin/env bash
# deploy/ pins the Apache Kafka version the tests run (deploy/kafka/local/pom.xml): the compose images
# and the version the Kubernetes configuration names.
set -euo pipefail
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' deploy/kafka/local/pom.xml)
[ -n "$version" ] || { echo "no kafka.version in deploy/kafka/local/pom.xml" >&2; exit 1; }
status=0
while read -r image; do
  if [ "$image" != "apache/kafka:$version" ]; then
    echo "deploy/docker-compose.yml runs $image; the tests run Apache Kafka $version" >&2
    status=1
  fi
done < <(sed -n 's/^ *image: *\(apache\/kafka[^ ]*\).*/\1/p' deploy/docker-compose.yml)
grep -q "image: apache/kafka:" deploy/docker-compose.yml || { echo "compose runs no apache/kafka" >&2; status=1; }
grep -q "Apache Kafka $version" deploy/k8s/configmap.yaml ||
  { echo "deploy/k8s/configmap.yaml does not name Apache Kafka $version" >&2; status=1; }
exit $status
