// The gate's exactly-once recovery (docs/streaming.md, "Exactly once"), apart from Kafka: where a
// claims partition resumes, which claims from there already have outputs, and where the
// partition's audit chain goes on. It reads the output topics through OutputTail, a small reader
// of partition tails: KafkaOutputTail (kafka_output_tail.h) in the service, a fake in
// tests/gate/service/recovery_test.cc.
//
// Why it works: the outputs of claims partition p go to partition p (mod the topic's partition
// count) of each output topic with the headers `source` (claims/p@offset) and `batch_start`, in
// claim order, and a batch's audit records and dead letters are acknowledged before its decisions
// are produced. So what a killed or aborted batch left on each output partition is a prefix of
// what it meant to write, and the newest output of p names the last batch that left any.
#ifndef CLAIMGATE_GATE_SERVICE_RECOVERY_H_
#define CLAIMGATE_GATE_SERVICE_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gate/audit/audit_chain.h"
#include "ledger/kafka/topics.h"

namespace claimgate::gate {

// One message of an output partition as recovery reads it. The views are valid during the
// callback that receives it.
struct TailRecord {
  absl::string_view source;       // header `source` ("claims/3@42"); empty when absent
  absl::string_view batch_start;  // header `batch_start` (an offset in decimal); empty when absent
  absl::string_view value;
};

// Reads the partitions of the output topics. Used from one thread.
class OutputTail {
 public:
  virtual ~OutputTail() = default;
  // The offsets that hold messages: [low, high).
  struct Range {
    int64_t low = 0;
    int64_t high = 0;
  };
  // The partition's low and high watermarks; an error status (with its cause) when they cannot
  // be read.
  virtual absl::StatusOr<Range> Watermarks(const std::string& topic, int32_t partition) = 0;
  // Calls `fn` for each message of topic/partition in [from, to), in offset order.
  virtual absl::Status Read(const std::string& topic, int32_t partition, int64_t from, int64_t to,
                            const std::function<void(const TailRecord&)>& fn) = 0;
};

// Where the outputs of a claims partition go: its number modulo each output topic's partition
// count (a topic not listed counts as one partition).
class OutputPartitions {
 public:
  OutputPartitions() = default;
  explicit OutputPartitions(std::map<std::string, int> counts) : counts_(std::move(counts)) {}
  int32_t For(const std::string& topic, int32_t source_partition) const;

 private:
  std::map<std::string, int> counts_;  // output topic -> partition count
};

// What an earlier attempt left on the output topics for one claim.
struct Written {
  bool decision = false;
  bool dead_letter = false;
  bool audit = false;
  std::string audit_value;
};

// Where one claims partition resumes, and what the output topics hold from there.
struct PartitionRecovery {
  // The first offset to read; -1: none known (the consumer's reset policy).
  int64_t resume = -1;
  // The highest claim offset with an output when the claims from `resume` must be checked against
  // `written`; -1 when nothing is to be checked (the committed offset covers every output).
  int64_t last = -1;
  std::map<int64_t, Written> written;  // claim offset in [resume, last] -> its outputs
  ChainHead chain;  // the head the partition's audit chain goes on from (docs/audit.md)
};

struct RecoveryOptions {
  std::string claims_topic = "claims";
  std::string audit_topic = "claim-audit";
  std::string decisions_topic = "claim-decisions";
  std::string dlq_topic = "claims-dlq";
  kafka::Format output_format = kafka::Format::kProtobuf;
  // Messages read at a time, stepping back from the end of an output partition.
  int64_t window = 1000;
};

// Reads the output tails of claims partition `partition` backwards, a window at a time, to the
// newest output of the partition on each output topic. The newest of all names the last batch
// that left any output; the partition resumes at that batch's start, or at `committed` (< 0:
// nothing committed) when that is later: committed offsets (a broker with transactions) cover
// everything below them. Errors: those of `tail`; DataLoss when the partition's newest audit
// record does not parse.
absl::StatusOr<PartitionRecovery> RecoverPartition(OutputTail& tail,
                                                   const OutputPartitions& partitions,
                                                   const RecoveryOptions& options,
                                                   int32_t partition, int64_t committed);

// The outputs found per claims partition, consulted as its claims are read again.
class WrittenOutputs {
 public:
  // Replaces what is known of `partition` (nothing when `recovery.last` < 0).
  void Set(int32_t partition, PartitionRecovery recovery);
  void Erase(int32_t partition);
  // The outputs of claim (partition, offset): an empty Written when it has none inside the
  // partition's window; nullptr when none can exist (no window, or beyond it: the window is then
  // dropped, since claims are read in offset order).
  const Written* Find(int32_t partition, int64_t offset);
  // The claims of `partition` with outputs to check.
  size_t Count(int32_t partition) const;

 private:
  struct Window {
    int64_t last = -1;
    std::map<int64_t, Written> written;
  };
  std::map<int32_t, Window> windows_;
};

// The decision an audit record states (claim id, outcome, reasons), in `format`: what the gate
// wrote for the same claim, byte for byte in Protobuf. DataLoss when the record does not parse.
absl::StatusOr<std::string> DecisionFromAudit(const std::string& audit, kafka::Format format,
                                              std::string* claim_id);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_RECOVERY_H_
