// The gate service: a consumer group on `claims`; every instance also reads all partitions of the
// status topics into its status store (a global table) and reports ready once caught up to the high
// watermarks it saw at start. Decisions go to `claim-decisions`, audit records to `claim-audit`,
// malformed input to `claims-dlq` (original bytes, error in headers), all in one transaction with
// the consumed offsets.
//
// One message never stops a partition (docs/streaming.md, "Poison messages"): a claim over
// `max_claim_bytes`, or one whose decision, audit record or dead letter cannot be produced because
// of what it is (too large for the client or refused by the broker), is dead-lettered (an excerpt
// with its digest when the claim itself is too large for `claims-dlq`); the other claims of its
// batch commit as usual. A retry loop that makes no progress is detected, logged with its cause,
// counted (claimgate_stalls_total) and makes the gate unready until a batch commits again.
//
// Idempotent on its own as well (docs/streaming.md, "Exactly once"): the outputs of claims
// partition p go to partition p (mod the output's partition count) with the headers `source`
// (claims/p@offset) and `batch_start`; audit records and dead letters are acknowledged before the
// batch's decisions are produced. When it is assigned a partition, or after an aborted batch, the
// gate reads the tails of its output partitions and resumes at the start of the last batch that
// left any output, producing only what that batch left missing. So a gate killed at any point, on a
// broker without transaction markers (librdkafka 2.0.2's mock) too, leaves each claim decided once.
#ifndef CLAIMGATE_GATE_SERVICE_GATE_SERVICE_H_
#define CLAIMGATE_GATE_SERVICE_GATE_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "claimgate/v1/codes.pb.h"
#include "gate/audit/audit_chain.h"
#include "gate/binary_decider.h"
#include "gate/clock.h"
#include "gate/service/gate_metrics.h"
#include "ledger/service/consumer_lag.h"
#include "gate/service/recovery.h"
#include "gate/store/status_store.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/stream_loop.h"
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
  // After the first claim of a batch, keep reading claims until this long after the batch began
  // (or max_batch). On Apache Kafka a transaction begun within a few milliseconds of the last
  // commit finds its markers still being written: AddPartitionsToTxn is refused with
  // CONCURRENT_TRANSACTIONS and librdkafka 2.0.2 retries it 20 ms later (docs/streaming.md,
  // "Where a transaction's time goes on Apache Kafka"). Config gate.batch_linger_ms; 0: off.
  absl::Duration batch_linger = absl::Milliseconds(5);
  // Claims larger than this are dead-lettered unparsed (CLAIM_TOO_LARGE); config
  // gate.max_claim_bytes.
  int64_t max_claim_bytes = 1 << 20;
  // A stall: this many batches aborted in a row, or aborts without a commit for `stall_after`.
  int stall_aborts = 5;
  absl::Duration stall_after = absl::Seconds(60);
  // Wait before retrying an aborted batch: 50 ms, doubling with each abort in a row, at most this.
  absl::Duration retry_backoff_max = absl::Seconds(5);
  // Duplicate traceability codes (SPEC §8.3, docs/duplicate-codes.md): a batch with SETTLEMENT
  // claims presenting codes, or with claim_reversed events, first asks the code owners (a
  // transaction of requests on `code-checks`), waits for their answers on `code-results`, then
  // decides. false: claims are decided without the check and claim_reversed is dead-lettered.
  bool duplicate_codes = false;
  // How long a batch waits for the owners' answers before it is given back and retried.
  absl::Duration owner_timeout = absl::Seconds(30);
  // Benchmarks: record, for each decided claim, claim produced (message timestamp) -> transaction
  // committed, in stats().latencies_ms.
  bool record_latency = false;
  // Operational messages (assignments, recoveries); nullptr: none.
  std::ostream* log = nullptr;
  // Prometheus metrics (optional; must outlive the service).
  GateMetrics* metrics = nullptr;
  // The consumer lag it reports, of claims and the status topics (optional; must outlive the
  // service).
  ledger::ConsumerLag* lag = nullptr;
  // How often the audit chains' heads are logged (also when a partition is revoked and when Run
  // stops): lines "audit chain claims/0 head claims/0=SEQ:HASH" that operators ship elsewhere, to
  // pass to `claimgate audit verify --expect-head` (docs/audit.md).
  absl::Duration chain_head_interval = absl::Minutes(10);
  // Set when the process is asked to stop: start-up gives up (Cancelled) instead of waiting.
  const std::atomic<bool>* stop = nullptr;
};

struct GateServiceStats {
  int64_t decided = 0;
  int64_t dead_lettered = 0;
  int64_t status_records = 0;
  int64_t status_unreadable = 0;
  int64_t transactions = 0;
  int64_t aborted = 0;
  int64_t stalls = 0;  // episodes of no progress detected
  int64_t producers_replaced = 0;  // transactional producers replaced during a stall
  int64_t skipped = 0;   // claims re-read after a restart or an abort whose outputs were all there
  int64_t repaired = 0;  // decisions rebuilt from an audit record an earlier attempt left alone
  int64_t owner_requests = 0;  // requests to the code owners (checks, claim records, reversals)
  int64_t owner_rounds = 0;    // batches that waited for the owners' answers
  std::map<std::string, int64_t> outcomes;
  std::map<std::string, int64_t> dead_letters;  // error (MALFORMED, CLAIM_TOO_LARGE, ...) -> claims
  std::map<std::string, int64_t> reasons;  // reason code -> claims citing it
  std::vector<double> latencies_ms;        // only with record_latency
};

class GateService : private kafka::StreamProcessor {
 public:
  // `profiles` and `clock` must outlive the service. `clock` is the service's time: processing
  // times, staleness, the retry backoff and stall detection, the chain-head interval and the pace
  // of the gauges. Only the claim-to-decision latency (against the claims' message timestamps) and
  // the decision duration are measured on the wall and steady clocks. A clock that never advances
  // never ends a backoff: a ManualClock is advanced by its test.
  static absl::StatusOr<std::unique_ptr<GateService>> Start(const GateServiceOptions& options,
                                                            const ledger::ProfileSet* profiles,
                                                            Clock* clock);
  ~GateService() override;

  // Reads the status feed, then (once ready) decides one batch of claims. Returns claims handled
  // (0 after an aborted batch, which is retried after a backoff). FailedPrecondition: fatal or
  // fenced producer, the process must exit non-zero.
  absl::StatusOr<int> RunOnce(int timeout_ms);
  absl::Status Run(const std::atomic<bool>& stop);

  // Caught up with the status feed, and not stalled (/readyz).
  bool ready() const { return ready_ && !loop_->stalled(); }
  // Batches keep aborting without a commit (see GateServiceOptions::stall_aborts).
  bool stalled() const { return loop_->stalled(); }
  // Claims partitions this instance holds (its consumer group's assignment).
  int assigned_partitions() const { return static_cast<int>(chains_.size()); }
  // Logs the head of every audit chain this gate writes (between transactions only).
  void LogChainHeads(absl::string_view why);
  // The last time the status feed was confirmed current (staleness = now - this).
  absl::Time status_current_as_of() const { return last_caught_up_; }
  const GateServiceStats& stats() const { return stats_; }
  const StatusStore& store() const { return *store_; }

 private:
  class Rebalancer : public RdKafka::RebalanceCb {
   public:
    explicit Rebalancer(GateService* gate) : gate_(gate) {}
    void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                      std::vector<RdKafka::TopicPartition*>& partitions) override;

   private:
    GateService* gate_;
  };

  // What is known of one claim whose outputs failed (its source partition and offset), kept
  // across the abort and rewind so that the retry isolates it.
  struct Isolation {
    bool alone = false;         // the broker refused a batch it was in: retry it in one of its own
    std::string output_error;   // its decision or audit record cannot be produced: dead-letter it
    int dead_letter_level = 0;  // 0: the claim whole, 1: an excerpt, 2: headers only
  };
  struct Batch;  // one transaction's work (gate_service.cc)
  class Answers;  // the owners' answers for one claim, as a CodeLookup (gate_service.cc)

  GateService() = default;
  static kafka::StreamLoopOptions LoopOptions(const GateServiceOptions& options, Clock* clock);
  // The gate's part of the stream loop (kafka::StreamProcessor). Before a batch: the status feed,
  // the gauges, the chain heads; ready once the feed has caught up.
  absl::StatusOr<bool> BeforeBatch(int timeout_ms) override;
  absl::StatusOr<size_t> Consume(int timeout_ms) override;
  absl::Status Process(kafka::TransactionalProducer& producer, kafka::NextOffsets* next) override;
  RdKafka::KafkaConsumer* consumer() override { return claims_consumer_.get(); }
  absl::Status Committed() override;
  // What the failed deliveries say about single claims (isolation_), and the counts.
  void Aborted(const kafka::TransactionalProducer& producer) override;
  // Back to where each partition resumes (PlanResume); a held claim is read again.
  absl::Status Rewind() override;
  void Stalled() override;
  void ProducerReplaced() override;

  // Consumes up to max_batch claims; a claim to isolate comes alone.
  absl::Status ConsumeBatch(int timeout_ms, std::vector<std::unique_ptr<RdKafka::Message>>* batch);
  // Produces the outputs of claim `index` of the batch (decisions are only queued in `b`).
  absl::Status HandleClaim(size_t index, Batch* b);
  // Decides a claim and produces its audit record; dead-letters it when that cannot be produced.
  absl::Status DecideClaim(size_t index, Batch* b);
  // Produces the dead letter of claim `index`: whole, or an excerpt when too large for the topic.
  absl::Status DeadLetter(size_t index, absl::string_view error, absl::string_view message,
                          Batch* b);
  // Produces the batch's outputs (in the open transaction).
  absl::Status Transact(Batch* b);
  // The Protobuf bytes of claim `index` (JSON input converted once a batch, kept in b->converted);
  // InvalidArgument when they do not parse; OutOfRange when the claim is over max_claim_bytes.
  absl::StatusOr<absl::string_view> ClaimBytes(size_t index, Batch* b);
  // Duplicate codes, before the batch is decided: the requests to the code owners, committed in a
  // transaction of their own, then their answers (b->answers).
  absl::Status AskOwners(Batch* b);
  // The requests of claim `index` into b->requests.
  absl::Status PlanRequests(size_t index, Batch* b);
  absl::Status AwaitAnswers(Batch* b);
  // The answers for claim `index` into answers_ (its CodeLookup).
  void SetAnswers(size_t index, const Batch& b);
  // Produces the audit record in b->audit of claim `index` and queues the decision in
  // b->decision; false when they could not be produced and the claim was dead-lettered instead.
  absl::StatusOr<bool> EmitDecision(size_t index, absl::string_view claim_id, Batch* b);
  // After claim `index` was decided: its claim record for reversals, and releases of what the
  // owners settled for a claim the check turned into REJECT.
  absl::Status RecordClaim(size_t index, Batch* b);
  // A claim_reversed event: REVERSED with the codes released, or dead-lettered UNKNOWN_CLAIM.
  absl::Status ReverseClaim(size_t index, const v1::Event& event, Batch* b);
  // Queues one request to the code owners in the open transaction.
  absl::Status Request(v1::CodeRequest& r, Batch* b);
  const Isolation* FindIsolation(int32_t partition, int64_t offset) const;
  // The status consumer from the store's positions, the start watermarks, the feed watch.
  absl::Status StartStatusFeed();
  absl::Status PollStatusFeed(int timeout_ms);
  // The feed watch thread: reads the status partitions' high watermarks once a second.
  void WatchFeed();
  // The output partitions, the recovery's settings and its reader of the output tails.
  absl::Status StartRecovery();
  // Sets each partition's offset to where deciding resumes (committed offsets and output tails,
  // recovery.h); fills written_ and the audit chains' heads.
  absl::Status PlanResume(std::vector<RdKafka::TopicPartition*>& partitions);
  // A consumer error event: Ok (logged) when librdkafka recovers by itself, else the error.
  absl::Status ConsumerError(const RdKafka::Message& m, absl::string_view what);
  // Gauges and store counters for the metrics, at most once a second.
  void PublishGauges();
  // Tells the lag where the gate stands on claims partition `p` / on every status partition.
  void ReportClaimsPosition(int32_t p);
  void ReportStatusPositions();

  GateServiceOptions options_;
  Clock* clock_ = nullptr;
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<BinaryDecider> decider_;
  std::unique_ptr<Answers> answers_;                  // duplicate codes: one claim's answers
  ClaimView plan_view_;                               // AskOwners' scratch
  DecisionResult plan_result_;
  std::unique_ptr<RdKafka::KafkaConsumer> results_consumer_;  // code-results, assign()-only
  int code_checks_partitions_ = 0;
  std::string attempt_prefix_;  // transactional id and start time: unique to this process
  int64_t attempts_ = 0;
  std::unique_ptr<RdKafka::KafkaConsumer> status_consumer_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> claims_consumer_;
  std::unique_ptr<OutputTail> tail_;  // reads the output tails in PlanResume
  // The transactional producer and what a failed batch costs (backoff, stalls).
  std::unique_ptr<kafka::StreamLoop> loop_;
  std::unique_ptr<Batch> batch_;  // the batch in the loop: claims, outputs, counts
  std::map<std::string, int64_t> start_watermarks_;  // "topic/partition" -> high watermark at start
  std::map<std::string, int64_t> positions_;         // "topic/partition" -> next offset applied
  OutputPartitions outputs_;                         // where each claim's outputs go
  RecoveryOptions recovery_;
  WrittenOutputs written_;                           // claims partition -> outputs found
  std::map<int32_t, ChainHead> chains_;              // claims partition -> its audit chain's head
  absl::Status rebalance_error_;                     // a failed recovery, reported by RunOnce
  // (claims partition, offset) -> what a failed attempt found out about that claim.
  std::map<std::pair<int32_t, int64_t>, Isolation> isolation_;
  // claims partition -> where the gate stands, for the lag
  std::map<int32_t, ledger::LagPosition> claims_position_;
  // The lag of claims and of the status topics; before the consumers go.
  std::unique_ptr<ledger::ConsumerLag::Source> claims_lag_, status_lag_;
  // A claim to isolate that ended the last batch; the next batch is it alone.
  std::unique_ptr<RdKafka::Message> held_;
  int held_generation_ = 0;
  int generation_ = 0;                               // bumped by every rebalance
  RdKafka::ErrorCode last_consumer_error_ = RdKafka::ERR_NO_ERROR;
  bool ready_ = false;
  int64_t ledger_position_ = 0;  // highest ledger position among the status records applied
  absl::Time last_caught_up_ = absl::InfinitePast();
  // Written by the feed watch, read by PollStatusFeed.
  absl::Mutex watch_mu_;
  bool watch_stop_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::map<std::string, int64_t> watched_highs_ ABSL_GUARDED_BY(watch_mu_);
  absl::Time watched_at_ ABSL_GUARDED_BY(watch_mu_);  // clock time the watch started reading
  std::thread watch_;
  GateServiceStats stats_;
  absl::Time gauges_published_ = absl::InfinitePast();
  absl::Time heads_logged_ = absl::InfinitePast();
  absl::Time started_ = absl::InfinitePast();
  uint64_t hot_hits_seen_ = 0, hot_misses_seen_ = 0;  // store counters already in the metrics
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_GATE_SERVICE_H_
