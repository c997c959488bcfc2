// The ledger service: consumes `ledger-events` (one partition), applies each event to the ledger,
// and publishes the changed status records (`person-status`, `institution-status`, keyed by id,
// full timelines) and the notices and refusals (`ledger-notices`), in one Kafka transaction with
// the consumed offset.
//
// State: the ledger is rebuilt at start by replaying `ledger-events` up to the committed offset
// without publishing (event sourcing: the topic is the source of truth; publishing resumes exactly
// after it). A failed transaction is not recoverable in place (the in-memory ledger applied it):
// Run() returns the error and the process exits for its supervisor to restart it.
#ifndef CLAIMGATE_LEDGER_SERVICE_LEDGER_SERVICE_H_
#define CLAIMGATE_LEDGER_SERVICE_LEDGER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/stream_loop.h"
#include "ledger/kafka/topics.h"
#include "ledger/kafka/transactional_producer.h"
#include "ledger/ledger.h"
#include "ledger/service/consumer_lag.h"
#include "ledger/service/ledger_metrics.h"
#include "ledger/service/ledger_store.h"

namespace claimgate::ledger {

struct LedgerServiceOptions {
  kafka::ClientConfig kafka;
  kafka::Topics topics;
  kafka::Format input_format = kafka::Format::kProtobuf;
  kafka::Format output_format = kafka::Format::kProtobuf;
  std::string default_profile = "national";
  std::string group_id = "claimgate-ledger";
  std::string transactional_id = "claimgate-ledger";
  int max_batch = 1000;
  // The ledger's own RocksDB (ledger_store.h). Empty: none; the state is rebuilt from ledger-events
  // at every start (tests, and the recovery path when the store is lost).
  std::string state_path;
  // Set when the process is asked to stop: start-up gives up (Cancelled) instead of waiting.
  const std::atomic<bool>* stop = nullptr;
  // Prometheus metrics (optional; must outlive the service).
  LedgerMetrics* metrics = nullptr;
  // The consumer lag it reports (optional; must outlive the service).
  ConsumerLag* lag = nullptr;
};

struct LedgerServiceStats {
  int64_t replayed = 0;        // events re-applied at start (from the store and from Kafka)
  int64_t replayed_local = 0;  // of which from the ledger's own store
  int64_t applied = 0;         // events applied and published since start
  int64_t refused = 0;
  int64_t malformed = 0;
  int64_t transactions = 0;
  int64_t next_offset = 0;  // next ledger-events offset to read
};

// The largest ledger-events record the ledger applies. Real events are a few hundred bytes; a
// larger one (ids of a megabyte) would make status records too big to publish, and the ledger,
// which cannot take back an applied event, would fail on it at every restart (docs/streaming.md).
inline constexpr size_t kMaxLedgerEventBytes = 64 << 10;

// The ledger's rule for one ledger-events record: it is applied (and counts towards the ledger
// position) when it is at most kMaxLedgerEventBytes, decodes in `format` and is a ledger event;
// else false with the reason in `error` (EVENT_TOO_LARGE: ... for a record over the limit). Replay
// reads the topic by the same rule.
bool DecodeLedgerEvent(absl::string_view bytes, kafka::Format format, v1::Event* event,
                       std::string* error);

class LedgerService : private kafka::StreamProcessor {
 public:
  // Connects and rebuilds the ledger: the events in its own store, then ledger-events from there to
  // the committed offset, without publishing. `profiles` must outlive the service.
  static absl::StatusOr<std::unique_ptr<LedgerService>> Start(const LedgerServiceOptions& options,
                                                              const ProfileSet* profiles);
  ~LedgerService() override;

  // Consumes and publishes one batch (waits up to `timeout_ms` for the first event). Returns the
  // number of events handled; an error ends the service (see the file comment).
  absl::StatusOr<int> RunOnce(int timeout_ms);
  // Loops until `stop` is set or an error occurs.
  absl::Status Run(const std::atomic<bool>& stop);

  const Ledger& ledger() const { return *ledger_; }
  // Publishes the population gauges now (a caller that stops calling RunOnce).
  void PublishPopulationNow() { PublishPopulation(true); }
  const LedgerServiceStats& stats() const { return stats_; }

 private:
  // One transaction's work, and what to count and store once it commits.
  struct Batch {
    std::vector<std::unique_ptr<RdKafka::Message>> events;
    std::vector<std::pair<int64_t, std::string>> applied;  // for the store
    std::map<std::string, int> types, refusals;            // for the metrics
  };

  LedgerService() = default;
  // The ledger's part of the stream loop (kafka::StreamProcessor), which does not retry: the
  // first failure ends the service.
  absl::StatusOr<size_t> Consume(int timeout_ms) override;
  // Publishes the population gauges changed by the last batches, once the interval has passed.
  void Idle() override { PublishPopulation(false); }
  absl::Status Process(kafka::TransactionalProducer& producer, kafka::NextOffsets* next) override;
  RdKafka::KafkaConsumer* consumer() override { return consumer_.get(); }
  // Metrics, then the batch's events and next offset into the store.
  absl::Status Committed() override;
  // The commit failed (the service ends): counted.
  void Aborted(const kafka::TransactionalProducer& producer) override;
  // Applies one event and produces what it changed; a malformed one becomes a refusal notice.
  absl::Status Publish(const RdKafka::Message& m, kafka::TransactionalProducer& producer);
  // Opens the ledger's own store (when there is a state path) and applies its events; the
  // ledger-events offset they reach (0 without a store). FailedPrecondition when the topic ends
  // before it (the store was built from another topic or cluster).
  absl::StatusOr<int64_t> ReplayStore();
  // Applies ledger-events [from, until) without publishing (they were published before), storing
  // them; leaves the consumer at `until`.
  absl::Status Replay(int64_t from, int64_t until);
  // Applies one event, keeping the newest event time (the "as of" of the population gauges).
  ApplyResult ApplyEvent(const v1::Event& e);
  // The population gauges (persons by state, restricted staff by institution kind) as of the
  // newest event time, when events were applied since the last time. It walks every person, so it
  // runs at most once a second and spends at most a tenth of the time on it.
  void PublishPopulation(bool force);
  // Decodes one message; false when it is not a well-formed ledger event (the reason in `error`).
  bool Decode(const RdKafka::Message& m, v1::Event* event, std::string* error) const;
  // Tells the lag where the service stands on ledger-events.
  void ReportPosition();

  LedgerServiceOptions options_;
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<LedgerStore> store_;  // null without a state path
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<kafka::StreamLoop> loop_;  // owns the transactional producer
  std::unique_ptr<ConsumerLag::Source> lag_;  // null without options_.lag; before consumer_ goes
  LagPosition position_;                      // on ledger-events, for the lag
  Batch batch_;
  LedgerServiceStats stats_;
  absl::Time newest_event_ = absl::InfinitePast();
  absl::Time population_published_ = absl::InfinitePast();
  absl::Duration population_interval_ = absl::Seconds(1);
  bool population_dirty_ = true;
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_SERVICE_LEDGER_SERVICE_H_
