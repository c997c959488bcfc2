#!/usr/bin/env bash
# The shipped alert rules against live processes (issue 15). A real Prometheus scrapes a ledger and
# a gate run as deploy/docker-compose.yml runs them, on a real Apache Kafka
# (deploy/kafka/local-kafka.sh). Checks that no alert fires while they are healthy, then causes
# DeadLettersGrowing, GateNotReady and LedgerStalled one at a time, shows each firing from
# Prometheus's /api/v1/alerts, undoes the cause and waits until the alert is gone.
#
# Usage: tests/tools/alerts_live.sh CLAIMGATE   (3 to 4 minutes; not a ctest)
# ALERTS_LIVE_KEEP=1 keeps the work directory (logs, configs, Prometheus's data) after a pass too;
# it is kept after a failure.
#
# Time is compressed 60-fold: Prometheus loads a copy of deploy/prometheus/alerts.yml whose `for:`
# values and range selectors are divided by 60 (10m -> 10s, 1d -> 24m; expressions, thresholds and
# labels as shipped), and scrapes and evaluates every second. Thresholds are not durations: a
# StatusFeedStale still needs a feed 300 s old.
#
# Exit status: 0 when every step passes; 1 when an alert fired while healthy or an expected alert
# did not fire or clear (the FAIL lines say which); 2 on a usage or start-up error; 77 (skip) when a
# tool is missing. Every process it starts is stopped by its PID, also on failure or interruption.
set -uo pipefail

[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: $0 CLAIMGATE (an executable)" >&2; exit 2; }
claimgate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
helper="$root/tests/tools/alerts_live.py"
local_kafka="$root/deploy/kafka/local-kafka.sh"
for tool in java prometheus promtool python3 curl; do
  command -v "$tool" >/dev/null || { echo "alerts_live: $tool not found" >&2; exit 77; }
done
python3 -c 'import yaml' 2>/dev/null || { echo "alerts_live: python3-yaml not found" >&2; exit 77; }

export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ left in tests/
HEALTHY_SECONDS=75  # > the longest compressed `for:` (30 s) plus its window (15 s)
work=$(mktemp -d /tmp/alerts-live.XXXXXX)
export ALERTS_LIVE_SUMMARY="$work/summary"  # alerts_live.py wait appends what it saw
pids=()             # started here, in order; stopped in reverse
broker_pid=""       # the Kafka node's JVM (local-kafka.sh starts and stops it)
failures=0
t0=$SECONDS

say() { printf '[%4ds] %s\n' $((SECONDS - t0)) "$*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "alerts_live: $*" >&2; exit 2; }

cleanup() {
  local status=$? i
  trap - EXIT INT TERM
  [ -n "$broker_pid" ] && kill -CONT "$broker_pid" 2>/dev/null  # never leave the broker frozen
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  "$local_kafka" stop "$work/kafka" >/dev/null 2>&1
  if ((status == 0 && failures == 0)) && [ -z "${ALERTS_LIVE_KEEP:-}" ]; then
    rm -rf "$work"
  else
    echo "work directory (logs, configs): $work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stop_pid PID: SIGTERM, up to 20 s (serve finishes its open transaction), then SIGKILL.
stop_pid() {
  local deadline=$((SECONDS + 20))
  kill -TERM "$1" 2>/dev/null || return 0
  while kill -0 "$1" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# start NAME [<IN] [>OUT] COMMAND...: COMMAND in the background, standard input IN (/dev/null),
# standard output OUT (default $work/NAME.log, where standard error goes in any case). Its PID goes
# to pids and to NAME_pid (dashes as underscores). The child opens the files, not the script: a FIFO
# blocks until its other end is open.
start() {
  local name=$1 in=/dev/null out=""
  shift
  if [[ $1 == "<"* ]]; then in=${1#<}; shift; fi
  if [[ $1 == ">"* ]]; then out=${1#>}; shift; fi
  if [ -z "$out" ]; then
    "$@" < "$in" > "$work/$name.log" 2>&1 &
  else
    "$@" < "$in" > "$out" 2> "$work/$name.log" &
  fi
  pids+=($!)
  eval "${name//-/_}_pid=$!"
}

stop() { local var="${1//-/_}_pid"; stop_pid "${!var}"; }  # stop NAME: what `start NAME` started

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# await_http URL TIMEOUT: until URL answers 200.
await_http() {
  local deadline=$((SECONDS + $2))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "$1")" = 200 ]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# serve NAME SERVICE BOOTSTRAP PORT: the compose service SERVICE as compose runs it (only the
# bootstrap servers, the state directory and the HTTP address replaced); prints the command.
serve() {
  local name=$1 service=$2 cmd
  mapfile -t cmd < <(python3 "$helper" serve-args "$root" "$service" "$claimgate" "$3" \
                       "$work/$name-state" "$4")
  ((${#cmd[@]} > 2)) || die "no compose service $service in deploy/docker-compose.yml"
  say "$name (compose service $service): ${cmd[*]}"
  start "$name" env "${cmd[@]}"
}

kafka_tools="$HOME/.cache/claimgate/kafka-4.1.1/lib/*"
# producer NAME TOPIC GENERATOR...: Kafka's console producer fed by `alerts_live.py GENERATOR`
# through a FIFO (two processes, each stopped by its PID); prints the command. --timeout 5 is
# linger.ms=5, the Java client's default: the console producer's own 1000 ms would add up to a
# second to each claim's claim-to-decision latency.
producer() {
  local name=$1 topic=$2
  shift 2
  mkfifo "$work/$name.fifo"
  local java_cmd=(java -cp "$kafka_tools" org.apache.kafka.tools.ConsoleProducer
                  --bootstrap-server "$bootstrap" --topic "$topic" --timeout 5)
  start "$name-java" "<$work/$name.fifo" "${java_cmd[@]}"
  start "$name" ">$work/$name.fifo" python3 "$helper" "$@"
  say "$name: python3 tests/tools/alerts_live.py $* | ${java_cmd[*]}"
}

# metric PORT PATTERN: the lines of a process's /metrics matching PATTERN (grep -E).
metric() { curl -s -m 5 "http://127.0.0.1:$1/metrics" | grep -E "$2"; }
oneline() { tr '\n' ' '; }

# ledger_lag [quiet]: sets `lag` to the ledger's claimgate_consumergroup_lag on ledger-events (from
# its /metrics), and prints the line unless quiet.
ledger_lag() {
  local line
  line=$(metric "$ledger_port" '^claimgate_consumergroup_lag\{.*topic="ledger-events"')
  [ -n "${1:-}" ] || say "ledger /metrics: ${line:-(no lag series)}"
  lag=${line##* }
  lag=${lag%.*}
  [[ $lag =~ ^[0-9]+$ ]] || lag=0
}

# prom_config NAME=HOST:PORT...: Prometheus's configuration: the shipped one, these targets.
prom_config() {
  python3 "$helper" prom-config "$root" "$work/alerts.yml" "$work/prometheus.yml" \
    "prometheus=127.0.0.1:$prom_port" "$@" || die "cannot write prometheus.yml"
}
reload() { curl -s -f -m 10 -X POST "$prom/-/reload" >/dev/null || fail "POST $prom/-/reload"; }
alerts() { say "active alerts (GET /api/v1/alerts):"; python3 "$helper" alerts "$prom"; }
query() { python3 "$helper" query "$prom" "$1"; }
# expect_alert NAME STATE TIMEOUT [LABEL=VALUE...]: waits; a failure if it does not happen in time.
# Its times count from the last `mark` (the cause, or its undoing).
expect_alert() { python3 "$helper" wait "$prom" "$@" || failures=$((failures + 1)); }
mark() { ALERTS_LIVE_SINCE=$(date +%s.%N); export ALERTS_LIVE_SINCE; }

echo "== alerts_live: $("$claimgate" --version 2>/dev/null | head -1) ($claimgate)"
echo "   work directory $work"

# --- Kafka, topics, ledger, gate-1, Prometheus ------------------------------------------------
say "deploy/kafka/local-kafka.sh start $work/kafka   # Apache Kafka, 1 node"
bootstrap=$("$local_kafka" start "$work/kafka" 2>"$work/local-kafka.log" | head -1)
[ -n "$bootstrap" ] || die "local-kafka.sh did not start: $(tail -3 "$work/local-kafka.log")"
broker_pid=$(cat "$work/kafka/node1/pid")
grep -qF "$work/kafka/node1/server.properties" "/proc/$broker_pid/cmdline" ||
  die "PID $broker_pid is not the Kafka node"
say "Kafka on $bootstrap (the broker's JVM: PID $broker_pid)"

# deploy/kafka/create-topics.sh as the compose `topics` job runs it, with Kafka's own TopicCommand.
printf '#!/bin/sh\nexec java -cp "%s" org.apache.kafka.tools.TopicCommand "$@"\n' "$kafka_tools" \
  > "$work/kafka-topics.sh"
chmod +x "$work/kafka-topics.sh"
say "BOOTSTRAP=$bootstrap KAFKA_TOPICS=(TopicCommand) deploy/kafka/create-topics.sh"
BOOTSTRAP=$bootstrap CLAIMS_PARTITIONS=6 STATUS_PARTITIONS=3 REPLICATION=1 \
  KAFKA_TOPICS="$work/kafka-topics.sh" timeout 300 bash "$root/deploy/kafka/create-topics.sh" \
  > "$work/create-topics.log" 2>&1 || die "create-topics.sh: $(tail -3 "$work/create-topics.log")"

ledger_port=$(free_port) gate1_port=$(free_port) gate2_port=$(free_port) prom_port=$(free_port)
prom="http://127.0.0.1:$prom_port"
serve ledger ledger "$bootstrap" "$ledger_port"
serve gate-1 gate-1 "$bootstrap" "$gate1_port"
for port in "$ledger_port" "$gate1_port"; do
  await_http "http://127.0.0.1:$port/readyz" 90 || die "127.0.0.1:$port not ready after 90 s"
done
say "ledger (127.0.0.1:$ledger_port) and gate-1 (127.0.0.1:$gate1_port): /readyz 200"

changes=$(python3 "$helper" compress-rules "$root/deploy/prometheus/alerts.yml" \
            "$work/alerts.yml") || die "cannot compress alerts.yml"
say "time compressed 60-fold in a copy of deploy/prometheus/alerts.yml: $changes"
promtool check rules "$work/alerts.yml" > "$work/promtool.log" 2>&1 ||
  die "promtool check rules: $(cat "$work/promtool.log")"
prom_config "ledger=127.0.0.1:$ledger_port" "gate-1=127.0.0.1:$gate1_port"
prom_started=$(date +%s.%N)
start prometheus prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" --web.enable-lifecycle
await_http "$prom/-/ready" 60 || die "Prometheus not ready: $(tail -3 "$work/prometheus.log")"
say "Prometheus $prom: deploy/prometheus/prometheus.yml, scrape and evaluation every 1 s, targets"
say "  gate-1:9464 -> 127.0.0.1:$gate1_port, ledger:9464 -> 127.0.0.1:$ledger_port (gate-2: step 3)"
# Prometheus evaluates its rules from its start, but applies its scrape targets on a 5-second tick:
# until the first scrape absent(claimgate_ready...) holds, and ClaimgateAbsent's compressed
# `for: 5s` can run out (the shipped 5m cannot). The healthy window counts from the first scrape.
python3 "$helper" await "$prom" 'count(claimgate_ready) == 2' 30 || die "no scrape of the targets"
prom_scraped=$(date +%s.%N)
say "first scrape of the ledger and gate-1: $(python3 -c \
    "print('%.1f' % ($prom_scraped - $prom_started))") s after Prometheus started"

# --- Step 1: healthy ---------------------------------------------------------------------------
echo
echo "== Step 1: healthy. Ledger events and claims flow; no alert may fire ($HEALTHY_SECONDS s)"
say "the ledger events of tests/golden/spec_example.jsonl, then a steady flow of both:"
grep -v '"claim"' "$root/tests/golden/spec_example.jsonl" |
  timeout 60 java -cp "$kafka_tools" org.apache.kafka.tools.ConsoleProducer \
    --bootstrap-server "$bootstrap" --topic ledger-events > "$work/spec-events.log" 2>&1 ||
  fail "producing the ledger events of spec_example.jsonl"
producer ledger-flow ledger-events ledger-events 1 LH
producer claims-flow claims claims 2
sleep "$HEALTHY_SECONDS"
say "after $HEALTHY_SECONDS s, from Prometheus (GET /api/v1/query):"
query 'up'
query 'claimgate_ready'
query 'sum by (outcome) (increase(claimgate_decisions_total[1m]))'
query 'sum by (service, result) (increase(claimgate_transactions_total[1m]))'
query 'sum(increase(claimgate_ledger_events_applied_total[1m]))'
flowing=$(python3 "$helper" query "$prom" 'sum(increase(claimgate_decisions_total[1m])) > 0
  and sum(increase(claimgate_ledger_events_applied_total[1m])) > 0' | grep -c ' = ')
((flowing == 1)) || fail "healthy: no claim decided or no ledger event applied in the last minute"
alerts
python3 "$helper" history "$prom" "$prom_started" "$prom_scraped" ||
  fail "an alert fired while healthy, after the first scrape (ALERTS above)"

# --- Step 2: DeadLettersGrowing ----------------------------------------------------------------
echo
echo "== Step 2: DeadLettersGrowing. A malformed claim every 2 s on claims"
mark
producer malformed claims malformed 2
expect_alert DeadLettersGrowing firing 120 reason=MALFORMED
say "gate-1 /metrics: $(metric "$gate1_port" '^claimgate_dead_letters_total\{reason="MALFORMED"')"
alerts
mark
stop malformed
stop malformed-java
say "stopped the malformed claims"
expect_alert DeadLettersGrowing gone 60

# --- Step 3: GateNotReady ----------------------------------------------------------------------
echo
echo "== Step 3: GateNotReady. gate-2 as compose runs it, but its broker is unreachable"
serve gate-2 gate-2 127.0.0.1:1 "$gate2_port"
await_http "http://127.0.0.1:$gate2_port/livez" 30 || fail "gate-2: no HTTP endpoint after 30 s"
prom_config "ledger=127.0.0.1:$ledger_port" "gate-1=127.0.0.1:$gate1_port" \
  "gate-2=127.0.0.1:$gate2_port"
mark
reload
say "gate-2 (127.0.0.1:$gate2_port) added to the job claimgate-gate: POST $prom/-/reload"
say "gate-2 /metrics: $(metric "$gate2_port" '^claimgate_(ready|status_feed)' | oneline)"
feed=$(metric "$gate2_port" '^claimgate_status_feed_last_success_timestamp_seconds' |
  awk '{print $NF}')
if awk -v t="${feed:-0}" 'BEGIN { exit !(t + 0 < 1e9) }'; then
  say "NOTE: gate-2's claimgate_status_feed_last_success_timestamp_seconds is ${feed:-absent}, not"
  say "  its start as documented (docs/operations.md, Metrics): StatusFeedStale fires for it at"
  say "  once (time() minus it is decades)"
fi
expect_alert GateNotReady firing 60 instance="127.0.0.1:$gate2_port"
alerts
mark
stop gate-2
prom_config "ledger=127.0.0.1:$ledger_port" "gate-1=127.0.0.1:$gate1_port"
reload
say "stopped gate-2 and took it out of the job: POST $prom/-/reload"
expect_alert GateNotReady gone 60

# --- Step 4: LedgerStalled ---------------------------------------------------------------------
echo
echo "== Step 4: LedgerStalled. Ledger events wait while the broker is frozen (SIGSTOP)"
# 2000 events a second, more than this ledger applies, so that events wait when the broker freezes.
# At 200 a second it keeps up: frozen between two of its batches, it has seen no event it has not
# committed, and the lag it reports stays 0.
producer ledger-burst ledger-events ledger-events 2000 LS
lag=0
for attempt in 1 2 3; do
  deadline=$((SECONDS + 30))
  until ledger_lag quiet; ((lag > 0 || SECONDS > deadline)); do sleep 0.2; done
  say "kill -STOP $broker_pid   # the broker's JVM, once the ledger reports events waiting"
  mark
  kill -STOP "$broker_pid"
  sleep 2
  ledger_lag
  ((lag > 0)) && break
  say "no lag at the freeze (the ledger had caught up): kill -CONT $broker_pid, and again"
  kill -CONT "$broker_pid"
  sleep 3
done
if ((lag > 0)); then
  expect_alert LedgerStalled firing 90
  say "ledger /metrics: $(metric "$ledger_port" \
    '^claimgate_(consumergroup_lag\{.*ledger-events|transactions_total\{result="committed")' |
    oneline)"
  say "gate-1 /metrics: claimgate_consumergroup_lag{topic=\"claims\"} $(metric "$gate1_port" \
    '^claimgate_consumergroup_lag\{.*topic="claims"' | awk '{s += $NF} END {print s}')" \
    "(the sum over its partitions)"
  alerts
else
  fail "the ledger reported no lag on ledger-events with the broker frozen (3 attempts)"
fi
say "kill -CONT $broker_pid"
mark
kill -CONT "$broker_pid"
stop ledger-burst
stop ledger-burst-java
expect_alert LedgerStalled gone 90
say "ledger /metrics: $(metric "$ledger_port" \
  '^claimgate_(consumergroup_lag\{.*ledger-events|transactions_total\{result="committed"|ready)' |
  oneline)"
say "at the end:"
alerts

echo
echo "== Summary"
cat "$ALERTS_LIVE_SUMMARY"
if ((failures)); then
  echo "== alerts_live: FAIL ($failures FAIL lines above; $((SECONDS - t0)) s)"
  exit 1
fi
echo "== alerts_live: PASS ($((SECONDS - t0)) s)"
