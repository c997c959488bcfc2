// Reading recorded audit records back from the `claim-audit` topic for auditors (`claimgate audit
// verify`, `claimgate replay`): an assign()-only, read_committed consumer that never joins a
// consumer group and never commits, over a time range resolved with offsetsForTimes.
#ifndef CLAIMGATE_GATE_SERVICE_AUDIT_TOPIC_H_
#define CLAIMGATE_GATE_SERVICE_AUDIT_TOPIC_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claimgate/v1/decision.pb.h"
#include "gate/audit/audit_chain.h"
#include "ledger/kafka/kafka.h"

namespace claimgate::gate {

struct AuditTopicOptions {
  kafka::ClientConfig kafka;
  std::string topic = "claim-audit";
  std::optional<absl::Time> from;  // first record written at or after (message timestamp)
  std::optional<absl::Time> to;    // records written before
  int partition = -1;              // all partitions when negative
};

// One partition's offsets to read, [from, to).
struct OffsetRange {
  int32_t partition = 0;
  int64_t from = 0;
  int64_t to = 0;
  bool from_start = true;  // `from` is the partition's low watermark (the chains start there)
};

// The offsets of the time range, per partition: offsetsForTimes for `from`/`to`, the watermarks
// otherwise.
absl::StatusOr<std::vector<OffsetRange>> ResolveOffsets(RdKafka::KafkaConsumer* consumer,
                                                        const std::string& topic,
                                                        const AuditTopicOptions& options);

// An audit record value as written by the gate: JSON when it starts with '{' (read strictly:
// ledger/strict_json.h), else Protobuf.
bool ParseAuditValue(absl::string_view value, v1::AuditRecord* record);

// Reads the audit records of the range in offset order, partition by partition, and calls
// `fn(partition, offset, record)`; an unreadable value calls `fn` with a null record. `fn` may
// stop the read by returning an error.
absl::Status ReadAuditTopic(
    const AuditTopicOptions& options,
    const std::function<absl::Status(int32_t, int64_t, const v1::AuditRecord*)>& fn,
    std::vector<OffsetRange>* ranges = nullptr);

// `claimgate audit verify --bootstrap-servers`: every chain of the range. Partial chains (a range
// that starts after a partition's first record) are accepted from their first record read.
absl::Status VerifyAuditTopic(const AuditTopicOptions& options, ChainVerifier* verifier);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_AUDIT_TOPIC_H_
