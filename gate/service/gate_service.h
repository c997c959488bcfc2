// The gate service: a consumer group on `claims`; every instance also reads all partitions of the
// status topics into its status store (a global table) and reports ready once caught up to the high
// watermarks it saw at start. Decisions go to `claim-decisions`, audit records to `claim-audit`,
// malformed input to `claims-dlq` (original bytes, error in headers), all in one transaction with
// the consumed offsets.
#ifndef CLAIMGATE_GATE_SERVICE_GATE_SERVICE_H_
#define CLAIMGATE_GATE_SERVICE_GATE_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gate/binary_decider.h"
#include "gate/clock.h"
#include "gate/status_store.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/topics.h"
#include "ledger/kafka/transactional_producer.h"

namespace claimgate::gate {

struct GateServiceOptions {
  kafka::ClientConfig kafka;
  kafka::Topics topics;
  kafka::Format input_format = kafka::Format::kProtobuf;   // claims
  kafka::Format output_format = kafka::Format::kProtobuf;  // decisions, audit records
  kafka::Format status_format = kafka::Format::kProtobuf;  // the ledger's output format
  std::string default_profile = "national";
  bool shadow = false;
  StatusStoreOptions store;  // store.path: the gate's state directory
  std::string group_id = "claimgate-gate";
  std::string transactional_id = "claimgate-gate-0";  // unique per instance
  absl::Duration staleness_bound = absl::Minutes(5);  // STATUS_STALE beyond this
  int max_batch = 2000;
  // Benchmarks: record, for each decided claim, claim produced (message timestamp) -> transaction
  // committed, in stats().latencies_ms.
  bool record_latency = false;
};

struct GateServiceStats {
  int64_t decided = 0;
  int64_t dead_lettered = 0;
  int64_t status_records = 0;
  int64_t status_unreadable = 0;
  int64_t transactions = 0;
  int64_t aborted = 0;
  std::map<std::string, int64_t> outcomes;
  std::map<std::string, int64_t> reasons;  // reason code -> claims citing it
  std::vector<double> latencies_ms;        // only with record_latency
};

class GateService {
 public:
  // `profiles` and `clock` must outlive the service.
  static absl::StatusOr<std::unique_ptr<GateService>> Start(const GateServiceOptions& options,
                                                            const ledger::ProfileSet* profiles,
                                                            Clock* clock);
  ~GateService();

  // Reads the status feed, then (once ready) decides one batch of claims. Returns claims handled.
  // FailedPrecondition: fatal or fenced producer, the process must exit non-zero.
  absl::StatusOr<int> RunOnce(int timeout_ms);
  absl::Status Run(const std::atomic<bool>& stop);

  bool ready() const { return ready_; }
  const GateServiceStats& stats() const { return stats_; }
  const StatusStore& store() const { return *store_; }

 private:
  GateService() = default;
  absl::Status PollStatusFeed(int timeout_ms);
  absl::Status RewindClaims();

  GateServiceOptions options_;
  Clock* clock_ = nullptr;
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<BinaryDecider> decider_;
  std::unique_ptr<RdKafka::KafkaConsumer> status_consumer_;
  std::unique_ptr<RdKafka::KafkaConsumer> claims_consumer_;
  std::unique_ptr<kafka::TransactionalProducer> producer_;
  std::map<std::string, int64_t> start_watermarks_;  // "topic/partition" -> high watermark at start
  std::map<std::string, int64_t> positions_;         // "topic/partition" -> next offset applied
  std::map<std::string, bool> at_end_;  // "topic/partition" -> reached its end, nothing newer
  bool ready_ = false;
  int64_t ledger_position_ = 0;  // highest ledger position among the status records applied
  absl::Time last_caught_up_ = absl::InfinitePast();
  GateServiceStats stats_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_GATE_SERVICE_H_
