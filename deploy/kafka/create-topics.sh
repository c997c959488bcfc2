#!/usr/bin/env bash
# Creates the SPEC §2 topics on an Apache Kafka cluster with the Kafka distribution's kafka-topics.sh.
# Safe to run again: existing topics are left as they are (--if-not-exists), partitions are never changed.
# The docker-compose `topics` job runs it; on another cluster run it by hand with BOOTSTRAP and REPLICATION set.
# The topics, partitions and configs are those of the topic table, ledger/kafka/topics.h (`claimgate topics`
# prints it; `serve` creates from it): tests/deploy/check_topics.sh fails when this script disagrees.
set -euo pipefail

BOOTSTRAP=${BOOTSTRAP:-kafka:9092}
CLAIMS_PARTITIONS=${CLAIMS_PARTITIONS:-6}   # upper bound on the number of gate instances
STATUS_PARTITIONS=${STATUS_PARTITIONS:-3}   # every gate reads all of them
REPLICATION=${REPLICATION:-1}               # 3 on a production cluster
KAFKA_TOPICS=${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}

create() {
  local name=$1 partitions=$2
  shift 2
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$REPLICATION" "$@"
}

# One partition: its order is the ledger's total order. The ledger replays it from offset 0 at every start,
# so it must never expire.
create ledger-events 1 --config retention.ms=-1 --config retention.bytes=-1
create ledger-notices 1
create claims "$CLAIMS_PARTITIONS"
create claim-decisions "$CLAIMS_PARTITIONS"
create claim-audit "$CLAIMS_PARTITIONS"
create claims-dlq "$CLAIMS_PARTITIONS"
# Keyed by person / institution / insured id; compaction keeps the newest record of each key.
create person-status "$STATUS_PARTITIONS" --config cleanup.policy=compact
create institution-status "$STATUS_PARTITIONS" --config cleanup.policy=compact
create insured-status "$STATUS_PARTITIONS" --config cleanup.policy=compact
# Duplicate traceability codes (docs/duplicate-codes.md): the owners' stores are rebuilt from code-checks, so
# it is kept; answers on code-results are read within the round trip that asked.
create code-checks "$CLAIMS_PARTITIONS" --config retention.ms=-1 --config retention.bytes=-1
create code-results "$CLAIMS_PARTITIONS" --config retention.ms=86400000

"$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --describe \
  --topic 'ledger-events|ledger-notices|claims|claim-decisions|claim-audit|claims-dlq|person-status|'\
'institution-status|insured-status|code-checks|code-results'
