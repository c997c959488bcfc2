#!/usr/bin/env bash
# Holds the topics deploy/ creates and names to the one topic table (ledger/kafka/topics.h), as
# `claimgate topics` prints it:
#   1. deploy/kafka/create-topics.sh, run against a stand-in for kafka-topics.sh, creates each topic of
#      the table (default name) with its partitions (1, $CLAIMS_PARTITIONS or $STATUS_PARTITIONS) and
#      exactly its topic configs, no other topic, and describes them all;
#   2. the docker-compose `topics` job runs that script, and nothing else in deploy/ creates topics
#      (the Kubernetes steps in docs/operations.md run the script too);
#   3. the topic names written out in deploy/config/*.yaml are the table's default names.
# Usage: check_topics.sh CLAIMGATE_BINARY. Exit 0 when all agree, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
claimgate=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# The table as "NAME PARTITIONS CONFIGS" lines (partitions 1, claims or status; configs sorted, "-"
# for none), sorted; and the config keys with their default names.
"$claimgate" topics > "$work/table.tsv"
awk -F'\t' '!/^#/ {
  p = $3; sub(/_partitions$/, "", p)
  n = split($4, c, ","); s = ""
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
  for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") c[i]
  print $2, p, s
}' "$work/table.tsv" | sort > "$work/expected"
awk -F'\t' '!/^#/ { k = $1; sub(/^topics\./, "", k); print k, $2 }' "$work/table.tsv" |
  sort > "$work/names"
if [ "$(wc -l < "$work/expected")" -ne 11 ]; then
  echo "FAIL: claimgate topics printed $(wc -l < "$work/expected") topics, not the 11 of SPEC §2, §8" \
    >&2
  exit 1
fi

# 1. What create-topics.sh asks of kafka-topics.sh.
cat > "$work/kafka-topics.sh" <<'EOF'
#!/usr/bin/env bash
# Stand-in for Kafka's kafka-topics.sh: records "NAME PARTITIONS CONFIGS" for --create and the
# --topic pattern for --describe.
set -euo pipefail
action='' topic='' partitions='' configs=()
while [ $# -gt 0 ]; do
  case $1 in
    --create | --describe) action=$1 ;;
    --if-not-exists) ;;
    --bootstrap-server | --replication-factor) shift ;;
    --topic) topic=$2; shift ;;
    --partitions) partitions=$2; shift ;;
    --config) configs+=("$2"); shift ;;
    *) echo "kafka-topics.sh stand-in: unexpected argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
if [ "$action" = --create ]; then
  sorted=$(printf '%s\n' "${configs[@]}" | sed '/^$/d' | sort | paste -sd, -)
  echo "$topic $partitions ${sorted:--}" >> "$KAFKA_TOPICS_LOG.create"
else
  echo "$topic" >> "$KAFKA_TOPICS_LOG.describe"
fi
EOF
chmod +x "$work/kafka-topics.sh"
: > "$work/log.create"
: > "$work/log.describe"
if ! BOOTSTRAP=stand-in:9092 CLAIMS_PARTITIONS=claims STATUS_PARTITIONS=status REPLICATION=3 \
     KAFKA_TOPICS="$work/kafka-topics.sh" KAFKA_TOPICS_LOG="$work/log" \
     bash "$root/deploy/kafka/create-topics.sh" > "$work/script.out" 2>&1; then
  echo "FAIL: deploy/kafka/create-topics.sh failed against the stand-in:" >&2
  cat "$work/script.out" >&2
  exit 1
fi
sort "$work/log.create" > "$work/created"
if ! diff "$work/expected" "$work/created" > "$work/created.diff"; then
  echo "FAIL: deploy/kafka/create-topics.sh (>) disagrees with the topic table (<)" \
       "(NAME PARTITIONS CONFIGS):" >&2
  cat "$work/created.diff" >&2
  status=1
fi
tr '|' '\n' < "$work/log.describe" | sed '/^$/d' | sort > "$work/described"
if ! diff <(cut -d' ' -f1 "$work/expected") "$work/described" > /dev/null; then
  echo "FAIL: create-topics.sh describes '$(cat "$work/log.describe")', not the table's topics" >&2
  status=1
fi

# 2. The compose job runs the script; no other file of deploy/ creates topics.
compose=$root/deploy/docker-compose.yml
job=$(awk '/^  topics:/ { on = 1; print; next } /^  [^ #]/ { on = 0 } on' "$compose")
if ! grep -q 'entrypoint: \["bash", "/usr/local/bin/create-topics.sh"\]' <<< "$job" ||
   ! grep -q '\./kafka/create-topics.sh:/usr/local/bin/create-topics.sh' <<< "$job"; then
  echo "FAIL: the topics job of $compose does not run deploy/kafka/create-topics.sh" >&2
  status=1
fi
others=$(grep -rlE 'kafka-topics(\.sh)? .*--create|--create .*--topic' "$root/deploy" |
         grep -v '/deploy/kafka/create-topics.sh$' || true)
if [ -n "$others" ]; then
  echo "FAIL: these files of deploy/ create topics besides create-topics.sh: $others" >&2
  status=1
fi

# 3. Topic names written out in the shipped configuration files.
for config in "$root"/deploy/config/*.yaml; do
  awk '/^topics:/ { on = 1; next } /^[^ #]/ { on = 0 }
       on && /^  [a-z_]+:/ { k = $1; sub(/:$/, "", k); print k, $2 }' "$config" | sort > "$work/config"
  if [ -s "$work/config" ] && ! diff "$work/names" "$work/config" > "$work/config.diff"; then
    echo "FAIL: the topics of $config (>) are not the table's default names (<):" >&2
    cat "$work/config.diff" >&2
    status=1
  fi
done

[ "$status" -eq 0 ] && echo "check_topics: deploy/ agrees with the topic table (8 topics)"
exit "$status"
