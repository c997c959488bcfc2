#!/usr/bin/env bash
# Builds the differential fuzzers (tests/fuzz/CMakeLists.txt, clang + libFuzzer) in BUILD_DIR and
# runs each for SECONDS over its seed corpus (tests/fuzz/corpus/NAME, read only: new inputs go to
# BUILD_DIR/corpus/NAME). Exit 0: no disagreement; 1: a finding (its input is written to
# BUILD_DIR/findings/, the disagreement printed); 77: clang cannot build libFuzzer targets here
# (deploy/install-deps.sh installs clang and libclang-rt-14-dev, so `make test` runs them).
# Usage: run_fuzzers.sh BUILD_DIR [SECONDS] [JOBS]
set -euo pipefail

build=${1:?usage: run_fuzzers.sh BUILD_DIR [SECONDS] [JOBS]}
seconds=${2:-10}
jobs=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
fuzzers=(json_lines_fuzzer claim_wire_fuzzer audit_line_fuzzer)

if ! command -v clang++ >/dev/null; then
  echo "run_fuzzers: clang++ not installed (deploy/install-deps.sh installs it); skipped" >&2
  exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  > "$probe/probe.cc"
if ! clang++ -fsanitize=fuzzer "$probe/probe.cc" -o "$probe/probe" 2>/dev/null; then
  echo "run_fuzzers: clang++ cannot link -fsanitize=fuzzer (libclang-rt-14-dev missing); skipped" >&2
  exit 77
fi

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=None "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "$jobs" >/dev/null

status=0
mkdir -p "$build/findings"
for f in "${fuzzers[@]}"; do
  name=${f%_fuzzer}
  mkdir -p "$build/corpus/$name"
  log="$build/$f.log"
  # -rss_limit_mb: the readers hold one line; -timeout: no input may take a second.
  if "$build/$f" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=4096 \
       -print_final_stats=1 -artifact_prefix="$build/findings/$name-" \
       "$build/corpus/$name" "$here/corpus/$name" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    echo "$f: ${seconds}s, ${runs:-?} executions, no disagreement"
  else
    status=1
    echo "$f: FINDING (log: $log)"
    grep -A3 -E 'DISAGREEMENT|ERROR: (AddressSanitizer|libFuzzer)|runtime error' "$log" | head -20
  fi
done
exit $status
