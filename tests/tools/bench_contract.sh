#!/usr/bin/env bash
# The release 2 benchmarks' contract (issue 16): scripts read their last line, one JSON object with
# named fields. Runs each at a tiny size (figures here mean nothing; `codes` itself fails when a
# settled code is not found) and checks the fields. Usage: bench_contract.sh CLAIMGATE_BENCH.
set -euo pipefail
bench=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

last_json() { tail -n 1 "$1"; }
require() {  # FILE FIELD...
  local file=$1
  shift
  python3 - "$file" "$@" <<'PY'
import json, sys
line = open(sys.argv[1]).read().splitlines()[-1]
obj = json.loads(line)
missing = [f for f in sys.argv[2:] if f not in obj]
if missing:
    sys.exit(f"FAIL: {sys.argv[1]}: last line lacks {missing}: {line}")
PY
}

"$bench" codes --codes 200000 --checks 30000 --dir "$work/codes" > "$work/codes.out"
require "$work/codes.out" codes load_seconds disk_bytes_per_code rss_bytes checks_per_sec \
  repeats repeats_found
python3 - "$work/codes.out" <<'PY'
import json, sys
obj = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert obj["codes"] == 200000, obj
assert obj["repeats"] > 0 and obj["repeats_found"] == obj["repeats"], obj
PY
if [ -e "$work/codes" ]; then
  echo "FAIL: codes left its directory behind without --keep" >&2
  exit 1
fi

"$bench" insured --insured 1000000 --suspended 2000 --persons 2000 --claims 20000 --rounds 1 \
  --dir "$work/insured" > "$work/insured.out"
require "$work/insured.out" insured suspended claims_per_sec_check_on claims_per_sec_check_off \
  ratio insured_store_reads
# Issue 17: the file path both ways must write the same bytes (the bench exits 1 otherwise).
"$bench" check --lines 3000 --persons 500 --institutions 50 --compare-protobuf > "$work/check.out"
require "$work/check.out" lines claims seconds lines_per_sec protobuf_seconds same_bytes
python3 - "$work/check.out" <<'PY'
import json, sys
obj = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert obj["same_bytes"] is True and obj["claims"] > 2000, obj
PY

# Issue 17 goal 4: two gate instances sharing the claims partitions on the mock.
"$bench" e2e --claims 8000 --persons 2000 --max-batch 500 --gates 2 --claims-partitions 4 \
  > "$work/e2e.out"
require "$work/e2e.out" claims gates claims_partitions gate_claims_per_sec \
  passthrough_claims_per_sec ratio p50_ms p99_ms
python3 - "$work/e2e.out" <<'PY'
import json, sys
obj = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert obj["gates"] == 2 and obj["claims_partitions"] == 4 and obj["gate_claims_per_sec"] > 0, obj
PY
if ! grep -q "^gate 1: [1-9]" "$work/e2e.out"; then
  echo "FAIL: the second gate decided nothing" >&2
  cat "$work/e2e.out" >&2
  exit 1
fi
echo "bench contract: codes, insured, check and e2e print their JSON fields"
