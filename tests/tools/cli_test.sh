#!/usr/bin/env bash
# The command line's contract from outside (issue 15 item 7): --version, a mistyped subcommand, usage
# errors' exit status, and a second stop signal that ends `serve` at once.
# Usage: cli_test.sh CLAIMGATE. Exit 0 when every check passes, 1 otherwise.
set -uo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

# metrics_of PORT: the /metrics text of a claimgate on 127.0.0.1:PORT (fails when it does not answer).
metrics_of() {
  python3 -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(
    'http://127.0.0.1:$1/metrics', timeout=2).read().decode())"
}

# expect STATUS PATTERN ARGS...: the exit status, and PATTERN (grep -E) in stdout+stderr.
expect() {
  local want=$1 pattern=$2
  shift 2
  local out status
  out=$("$bin" "$@" 2>&1)
  status=$?
  [ "$status" -eq "$want" ] || fail "claimgate $*: exit $status, want $want: $out"
  grep -qE "$pattern" <<<"$out" || fail "claimgate $*: no /$pattern/ in: $out"
  echo "ok: claimgate $* -> $status"
}

expect 0 '^claimgate [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}(-dirty)?|unknown\)$' --version
expect 0 '^librdkafka 2\.' --version
expect 0 '^RocksDB [0-9]+\.[0-9]+' --version
expect 2 "^claimgate: unknown subcommand 'serv'; did you mean 'serve'\?" serv --bootstrap-servers x
expect 2 "^claimgate audit: unknown subcommand 'verif'; did you mean 'verify'\?" audit verif
expect 2 "^claimgate: unknown subcommand 'xyzzy'$" xyzzy
expect 2 'not expected: --no-such-flag' check --no-such-flag -
expect 2 'required' serve
expect 2 'cannot read' check "$work/missing.jsonl"

# A first SIGINT during start-up (topic creation, which the mock never answers) stops serve at once
# (the second signal's exit, 128 + N, is StopOnSignalDeathTest's).
"$bin" mock-broker --brokers 1 --topics other:1 > "$work/bootstrap" 2> "$work/broker.err" &
broker=$!
pids+=("$broker")
for _ in $(seq 100); do [ -s "$work/bootstrap" ] && break; sleep 0.1; done
bootstrap=$(head -1 "$work/bootstrap")
"$bin" serve --bootstrap-servers "$bootstrap" --state-dir "$work/state" --http-address "" \
  2> "$work/serve.err" &
serve=$!
pids+=("$serve")
sleep 2
kill -INT "$serve"
started=$(date +%s%N)
wait "$serve"
status=$?
waited_ms=$(( ($(date +%s%N) - started) / 1000000 ))
[ "$status" -eq 0 ] || fail "serve after SIGINT during topic creation: exit $status, want 0"
# Generous: it used to wait for the admin request's 10 s timeout.
[ "$waited_ms" -lt 5000 ] || fail "serve took $waited_ms ms to stop during topic creation"
echo "ok: serve, SIGINT during topic creation -> $status after $waited_ms ms"
kill "$broker"

# A gate that cannot reach its cluster: /metrics says not ready, and its status feed ages from the
# process's start (not from 1970: StatusFeedStale would say "decades old" at once).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --role gate --bootstrap-servers 127.0.0.1:1 --state-dir "$work/unreachable" \
  --http-address "127.0.0.1:$port" 2> "$work/unreachable.err" &
gate=$!
pids+=("$gate")
metrics=""
for _ in $(seq 100); do
  metrics=$(metrics_of "$port" 2>/dev/null) && break
  sleep 0.1
done
grep -q '^claimgate_ready{service="gate"} 0$' <<<"$metrics" || fail "unreachable gate: not ready 0"
confirmed=$(sed -n 's/^claimgate_status_feed_last_success_timestamp_seconds \(.*\)$/\1/p' <<<"$metrics")
python3 -c "import sys,time; sys.exit(0 if abs(time.time() - float('$confirmed')) < 60 else 1)" ||
  fail "unreachable gate: feed last confirmed at '$confirmed', not at its start"
kill -TERM "$gate"
wait "$gate"
echo "ok: a gate without its cluster: ready 0, feed confirmed at its start ($confirmed)"

# demo --linger keeps /metrics up after its report, until Ctrl-C (exit 0).
"$bin" demo --claims 1000 --persons 300 --http-address 127.0.0.1:0 --linger > "$work/demo.out" 2>&1 &
demo=$!
pids+=("$demo")
for _ in $(seq 600); do grep -q 'until Ctrl-C' "$work/demo.out" && break; sleep 0.1; done
demo_port=$(sed -n 's/.*\/readyz on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/demo.out" | head -1)
decided=$(metrics_of "$demo_port" | awk '/^claimgate_decisions_total\{/ { n += $NF } END { print n }')
[ "$decided" = "1000" ] || fail "demo --linger: /metrics after the report: decided '$decided': $(tr '\r' '\n' < "$work/demo.out" | tail -5)"
kill -INT "$demo"
wait "$demo"
status=$?
[ "$status" -eq 0 ] || fail "demo --linger, SIGINT: exit $status, want 0"
echo "ok: demo --linger served /metrics ($decided decisions) until SIGINT -> $status"
exit "$failed"
