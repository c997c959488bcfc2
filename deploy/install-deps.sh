#!/usr/bin/env bash
# Installs the Debian bookworm packages claimgate builds and tests with. Idempotent: runs apt-get (with
# `apt-get update` first) only when a package is missing. Called by `make demo` and `make test`.
# --test adds what the tests alone need: a JRE and Maven, which fetch and run Apache Kafka on loopback
# (deploy/kafka/local-kafka.sh; test infrastructure, never product code). `make demo` needs no JVM.
# clang and libclang-rt-14-dev build the differential fuzzers (tests/fuzz/, libFuzzer); the product
# itself builds with g++.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler
  librdkafka-dev librocksdb-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libssl-dev libyaml-cpp-dev libcpp-httplib-dev libsimdjson-dev
  libspdlog-dev nlohmann-json3-dev
  prometheus
  clang libclang-rt-14-dev
)

if [ "${1:-}" = "--test" ]; then
  PACKAGES+=(openjdk-17-jre-headless maven python3 python3-yaml)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
