#!/usr/bin/env bash
# Writes what the binaries in BIN_DIR print on fixed inputs into OUT_DIR, so that a restructuring
# can be shown to change no behaviour: run it with the binaries before and after, then `diff -r`.
# Usage: tests/tools/snapshot-outputs.sh BIN_DIR OUT_DIR [LINES]   (LINES of generated stream, 100000)
set -euo pipefail
# Paths and timings appear in the outputs: the binaries run through one fixed path, the generated
# stream is written to one fixed file, and "seconds" figures are blanked.
out=$(realpath -m "$2") lines=${3:-100000}
root="$(cd "$(dirname "$0")/../.." && pwd)"
at=2026-01-01T00:00:00Z
work=/tmp/claimgate-snapshot
rm -rf "$work" && mkdir -p "$work" "$out"
ln -s "$(realpath "$1")" "$work/bin"
bin=$work/bin
"$bin/claimgate-bench" gen --lines "$lines" --seed 7 --out "$work/stream.jsonl" > "$out/gen.stdout"
run() {  # NAME then the command; records stdout, stderr and the exit code
  local name=$1; shift
  set +e
  "$@" > "$out/$name.out" 2> "$out/$name.err"
  echo $? > "$out/$name.rc"
  set -e
}
for input in "$root"/tests/golden/*.jsonl "$root/docs/examples/demo-2025.jsonl" "$work/stream.jsonl"; do
  name=$(basename "$input" .jsonl)
  for mode in enforce shadow; do
    run "check.$name.$mode" "$bin/claimgate" check --mode "$mode" --processing-time "$at" \
      --notices "$out/check.$name.$mode.notices" "$input"
  done
  run "verify.$name" "$bin/claimgate" audit verify "$out/check.$name.enforce.out"
  for against in recorded current; do
    for format in json csv; do
      run "replay.$name.$against.$format" "$bin/claimgate" replay --against "$against" \
        --format "$format" --progress-seconds 1000 --events "$input" \
        --decisions "$out/check.$name.enforce.out"
    done
  done
done
run check.hebei "$bin/claimgate" check --profile hebei --processing-time "$at" \
  "$root/docs/examples/demo-2025.jsonl"
run help "$bin/claimgate" --help
for sub in check demo serve mock-broker audit replay; do run "help.$sub" "$bin/claimgate" "$sub" --help; done
run bad-flag "$bin/claimgate" check --mode nonsense x
run missing "$bin/claimgate" check /nonexistent/file.jsonl
sed -i -E 's/"seconds":[0-9.]+/"seconds":_/g' "$out"/*.out "$out"/*.err
rm -rf "$work"
