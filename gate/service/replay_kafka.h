// `claimgate replay --bootstrap-servers`: the Kafka source of replay. The audit records written in
// a time range (claim-audit, resolved with offsetsForTimes) name their claims by topic, partition
// and offset; the claims are fetched there, and the ledger is rebuilt from ledger-events by the
// ledger's own decoding rule. An assign()-only read_committed consumer: no consumer group is
// joined and nothing is committed, so replay never disturbs the live gates.
#ifndef CLAIMGATE_GATE_SERVICE_REPLAY_KAFKA_H_
#define CLAIMGATE_GATE_SERVICE_REPLAY_KAFKA_H_

#include <optional>
#include <ostream>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gate/replay/replay.h"
#include "gate/replay/replay_files.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/topics.h"
#include "ledger/profile.h"

namespace claimgate::gate {

struct KafkaReplayOptions {
  kafka::ClientConfig kafka;
  kafka::Topics topics;
  kafka::Format input_format = kafka::Format::kProtobuf;  // ledger events and claims, as served
  std::optional<absl::Time> from, to;                     // audit records written in [from, to)
  ReplayOptions replay;                                   // against, csv, default profile, progress
  // Audit records re-decided at a time: what replay holds in memory (records and their claims).
  int64_t window = 100000;
};

// Replays the audit records of the range, in partition and offset order, a window at a time,
// writing one line per differing claim to `out`. Unavailable when the cluster does not answer;
// FailedPrecondition when ledger-events no longer starts at offset 0 (the ledger's history must be
// kept whole).
absl::StatusOr<ReplayTally> ReplayKafka(const KafkaReplayOptions& options,
                                        const ledger::ProfileSet& profiles, std::ostream& out);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_REPLAY_KAFKA_H_
