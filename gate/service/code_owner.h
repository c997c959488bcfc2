// The owner of traceability codes (SPEC §8.3, docs/duplicate-codes.md): a member of the consumer
// group on `code-checks`. Each partition of `code-checks` has one owner at a time, which holds that
// partition's settled codes and claim records in its CodeStore and answers, in partition order:
//  - CHECK: the claim that holds the code when another claim does (the gate judges expiry); when
//    the asking claim `settles` and no other claim still holds the code at its service time, the
//    code is settled by the asking claim;
//  - RELEASE: the code is forgotten if the named claim holds it;
//  - CLAIM: the claim was decided and settled these codes (what a reversal releases);
//  - REVERSE: the claim's record is taken; the answer lists its codes, and RELEASE requests for
//    them go to their owners in the same transaction.
// Answers go to `code-results` partition `reply_partition` in one transaction with the consumed
// offsets (KIP-447). The store is written after the transaction commits, with the positions it
// reached; an owner assigned a partition first applies what the store lacks up to the group's
// committed offset (read_committed), without answering again. So the store is a function of the
// committed prefix of its partitions, and an answer repeated after a crash is the same answer.
#ifndef CLAIMGATE_GATE_SERVICE_CODE_OWNER_H_
#define CLAIMGATE_GATE_SERVICE_CODE_OWNER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "claimgate/v1/codes.pb.h"
#include "gate/service/gate_metrics.h"
#include "gate/store/code_store.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/stream_loop.h"
#include "ledger/kafka/topics.h"

namespace claimgate::gate {

struct CodeOwnerOptions {
  kafka::ClientConfig kafka;
  kafka::Topics topics;
  CodeStoreOptions store;  // store.path: the owner's state directory
  std::string group_id = "claimgate-codes";
  std::string transactional_id = "claimgate-codes-0";  // unique per instance
  int max_batch = 2000;
  int stall_aborts = 5;
  absl::Duration stall_after = absl::Seconds(60);
  absl::Duration retry_backoff_max = absl::Seconds(5);
  std::ostream* log = nullptr;                 // operational lines; nullptr: none
  CodeOwnerMetrics* metrics = nullptr;         // optional; must outlive the owner
  const std::atomic<bool>* stop = nullptr;     // start-up gives up (Cancelled) once set
};

struct CodeOwnerStats {
  int64_t requests = 0;    // applied and answered
  int64_t found = 0;       // checks answered with another claim's settlement
  int64_t settled = 0;     // codes settled
  int64_t released = 0;    // codes released
  int64_t reversals = 0;   // claim records taken
  int64_t unreadable = 0;  // requests that do not parse or name no valid partition: skipped
  int64_t restored = 0;    // requests applied again from the topic at assignment
  int64_t transactions = 0;
  int64_t aborted = 0;
};

class CodeOwner : private kafka::StreamProcessor {
 public:
  static absl::StatusOr<std::unique_ptr<CodeOwner>> Start(const CodeOwnerOptions& options);
  ~CodeOwner() override;

  // One batch of requests; the number handled (0: none, or an aborted batch retried later).
  // FailedPrecondition: a fatal or fenced producer; the process must exit non-zero.
  absl::StatusOr<int> RunOnce(int timeout_ms);
  absl::Status Run(const std::atomic<bool>& stop);
  // Batches keep aborting without a commit.
  bool stalled() const { return loop_->stalled(); }
  const CodeOwnerStats& stats() const { return stats_; }

 private:
  class Rebalancer : public RdKafka::RebalanceCb {
   public:
    explicit Rebalancer(CodeOwner* owner) : owner_(owner) {}
    void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                      std::vector<RdKafka::TopicPartition*>& partitions) override;

   private:
    CodeOwner* owner_;
  };

  CodeOwner() = default;
  absl::StatusOr<size_t> Consume(int timeout_ms) override;
  absl::Status Process(kafka::TransactionalProducer& producer, kafka::NextOffsets* next) override;
  RdKafka::KafkaConsumer* consumer() override { return consumer_.get(); }
  absl::Status Committed() override;
  void Aborted(const kafka::TransactionalProducer& producer) override;
  absl::Status Rewind() override;

  // The code's holder as the requests applied so far leave it (overlay, else the store).
  absl::StatusOr<const std::optional<SettledCode>*> Holder(const std::string& code);
  // Applies one request; fills `answer` when it has one and `forward` with the releases a
  // reversal sends to other owners.
  absl::Status Apply(const v1::CodeRequest& r, std::optional<v1::CodeAnswer>* answer,
                     std::vector<v1::CodeRequest>* forward);
  // Reads the store's batch for the codes of `requests` at once (filters answer the absent).
  absl::Status Prefetch(const std::vector<v1::CodeRequest>& requests);
  // What the applied requests changed, with `positions`, as one store write; the overlay cleared.
  absl::Status WriteOverlay(const std::map<int32_t, int64_t>& positions);
  void ClearOverlay();
  // Brings the store up to the group's committed offsets of `partitions`.
  absl::Status Restore(const std::vector<RdKafka::TopicPartition*>& partitions);

  CodeOwnerOptions options_;
  std::unique_ptr<CodeStore> store_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<RdKafka::KafkaConsumer> restorer_;  // assign()-only, for Restore
  std::unique_ptr<kafka::StreamLoop> loop_;
  int code_checks_partitions_ = 0;
  int code_results_partitions_ = 0;
  absl::Status rebalance_error_;
  // The batch: its messages, and the first offset of each partition (for a rewind).
  std::vector<std::unique_ptr<RdKafka::Message>> batch_;
  std::map<int32_t, int64_t> batch_start_;
  std::map<int32_t, int64_t> batch_next_;
  // What the store holds for codes and claim records read in this batch (base_), and what the
  // batch's requests changed (dirty_); written once the transaction commits.
  absl::flat_hash_map<std::string, std::optional<SettledCode>> base_codes_, dirty_codes_;
  absl::flat_hash_map<std::string, std::optional<std::vector<std::string>>> dirty_claims_;
  CodeOwnerStats stats_, delta_;
  std::map<std::string, int64_t> kinds_;  // the batch's requests by kind (for the metrics)
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_CODE_OWNER_H_
