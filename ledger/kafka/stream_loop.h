// The transactional stream loop of the ledger and gate services: consume a batch, begin a
// transaction, let the service produce the batch's outputs, commit them with the consumed offsets.
// What a failed batch costs is the service's to choose:
//  - the ledger ends (it has applied the batch in memory and cannot take it back; its restart
//    rebuilds it), so the first failure is returned;
//  - the gate retries: the transaction is aborted, the service rewinds its input, and the batch is
//    read again after a backoff (50 ms, doubling with each abort in a row, at most
//    `retry_backoff_max`). Aborts in a row without a commit are a stall, logged with their last
//    cause and reported until a batch commits; while it lasts, a new transactional producer takes
//    the transactional id over every `stall_aborts` aborts, in case the old one is stuck in a
//    state of its own (docs/streaming.md, "Poison messages").
// The loop owns the transactional producer; the service produces through producer().
#ifndef CLAIMGATE_LEDGER_KAFKA_STREAM_LOOP_H_
#define CLAIMGATE_LEDGER_KAFKA_STREAM_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/transactional_producer.h"

namespace claimgate::kafka {

// (topic, partition) -> the next offset to consume: what a transaction commits.
using NextOffsets = std::map<std::pair<std::string, int32_t>, int64_t>;

// A service's part of the loop. The loop calls it from the thread that calls RunOnce, one batch at
// a time: Consume, then Process in an open transaction, then Committed or (the batch failed)
// Aborted and, when retrying, Rewind.
class StreamProcessor {
 public:
  virtual ~StreamProcessor() = default;
  // Work between transactions before a batch is consumed (a status feed, gauges). false: not ready
  // to consume yet (the loop returns 0). An error ends the loop.
  virtual absl::StatusOr<bool> BeforeBatch(int /*timeout_ms*/) { return true; }
  // Consumes the next batch, waiting up to `timeout_ms` for its first message; its size, 0 when
  // nothing came. An error ends the loop.
  virtual absl::StatusOr<size_t> Consume(int timeout_ms) = 0;
  // Nothing was consumed.
  virtual void Idle() {}
  // Produces the outputs of the batch with `producer`, in the open transaction, and sets `next`
  // to the offsets to commit with them.
  virtual absl::Status Process(TransactionalProducer& producer, NextOffsets* next) = 0;
  // The consumer whose group commits the offsets.
  virtual RdKafka::KafkaConsumer* consumer() = 0;
  // The transaction committed. An error ends the loop.
  virtual absl::Status Committed() = 0;
  // The transaction was aborted (its failed deliveries are in producer.failed_deliveries()), or,
  // for a service that does not retry, its commit failed.
  virtual void Aborted(const TransactionalProducer& /*producer*/) {}
  // Retrying only: sets the consumer back to where the failed batch is read again.
  virtual absl::Status Rewind() { return absl::OkStatus(); }
  // Retrying only: a stall was detected; a new producer took the transactional id over.
  virtual void Stalled() {}
  virtual void ProducerReplaced() {}
};

struct StreamLoopOptions {
  ClientConfig kafka;
  std::string transactional_id;
  // Set when the process is asked to stop: creating a producer gives up (Cancelled).
  const std::atomic<bool>* stop = nullptr;
  // false: the first failed batch ends the loop (RunOnce returns its error). true: an aborted
  // batch is retried (see the file comment); only a fatal or fenced producer (FailedPrecondition)
  // or a commit whose outcome is unknown ends the loop.
  bool retry = false;
  int stall_aborts = 5;                              // a stall: this many aborts in a row,
  absl::Duration stall_after = absl::Seconds(60);    // or aborts without a commit for this long
  absl::Duration retry_backoff_max = absl::Seconds(5);
  // The time of the backoff and the stall detection; absl::Now when unset.
  std::function<absl::Time()> now;
  // Operational lines, each starting with `log_prefix` ("claimgate gate: "); nullptr: none.
  std::ostream* log = nullptr;
  std::string log_prefix;
  std::string unit = "messages";  // what a batch holds, in the log lines ("claims")
};

class StreamLoop {
 public:
  // Creates the transactional producer (init_transactions fences an older instance with the same
  // id; up to six times `init_timeout_ms`). Cancelled when `stop` is set meanwhile; the errors of
  // TransactionalProducer::Create.
  static absl::StatusOr<std::unique_ptr<StreamLoop>> Start(const StreamLoopOptions& options,
                                                           int init_timeout_ms = 30000);
  StreamLoop(const StreamLoop&) = delete;
  StreamLoop& operator=(const StreamLoop&) = delete;

  // One batch through `processor`. Returns the messages committed: 0 when nothing was consumed,
  // the processor was not ready, the loop is backing off or the batch was aborted (and is
  // retried). FailedPrecondition: a fatal or fenced producer; the process must exit non-zero.
  absl::StatusOr<int> RunOnce(int timeout_ms, StreamProcessor& processor);
  // RunOnce(200) until `stop` is set (Ok) or it fails.
  absl::Status Run(const std::atomic<bool>& stop, StreamProcessor& processor);

  // Batches keep aborting without a commit (retrying only).
  bool stalled() const { return stalled_; }
  // The producer of the moment (a stall may replace it between batches).
  TransactionalProducer& producer() { return *producer_; }

 private:
  explicit StreamLoop(const StreamLoopOptions& options);
  absl::Time Now() const { return options_.now ? options_.now() : absl::Now(); }
  // After an abort: waits (at most `timeout_ms`) while the backoff lasts; true when it still does.
  bool BackingOff(int timeout_ms);
  absl::Status Commit(const NextOffsets& next, RdKafka::KafkaConsumer* consumer);
  // After a failed batch, when retrying: abort, backoff, stall detection, rewind.
  absl::StatusOr<int> Retry(const absl::Status& cause, size_t batch_size,
                            StreamProcessor& processor);
  // A new transactional producer under the same id; the old one stays if none starts.
  void ReplaceProducer(StreamProcessor& processor);

  StreamLoopOptions options_;
  std::unique_ptr<TransactionalProducer> producer_;
  // Progress: aborted batches since the last commit, the first one's time, the next try's.
  int aborts_in_a_row_ = 0;
  absl::Time first_abort_ = absl::InfinitePast();
  absl::Time retry_after_ = absl::InfinitePast();
  bool stalled_ = false;
  absl::Time stall_logged_ = absl::InfinitePast();  // the last "no progress" line
};

}  // namespace claimgate::kafka

#endif  // CLAIMGATE_LEDGER_KAFKA_STREAM_LOOP_H_
