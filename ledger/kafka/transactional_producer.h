// A transactional producer with librdkafka's documented error handling: retriable errors are
// retried, abortable ones abort the transaction and are reported as kAborted (the caller rewinds
// its input to the committed offsets), fatal or fenced ones are reported as kFailedPrecondition
// (the process must exit and let its supervisor restart it).
#ifndef CLAIMGATE_LEDGER_KAFKA_TRANSACTIONAL_PRODUCER_H_
#define CLAIMGATE_LEDGER_KAFKA_TRANSACTIONAL_PRODUCER_H_

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ledger/kafka/kafka.h"

namespace claimgate::kafka {

class TransactionalProducer {
 public:
  // Creates the producer and runs init_transactions (fencing any older instance with the same id),
  // retrying retriable errors for up to six times `timeout_ms`, in attempts of at most 5 s between
  // which `stop` (optional) is checked: Cancelled once it is set.
  static absl::StatusOr<std::unique_ptr<TransactionalProducer>> Create(
      const ClientConfig& config, const std::string& transactional_id, int timeout_ms = 30000,
      const std::atomic<bool>* stop = nullptr);
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // A message whose delivery failed in the current (or last) transaction.
  struct FailedDelivery {
    int64_t tag;  // as given to Produce
    std::string topic;
    RdKafka::ErrorCode code;
    std::string error;
  };

  absl::Status Begin();
  // Queues one message (copied) for `partition` (kAnyPartition: the partitioner's choice by key).
  // Waits for queue space when the local queue is full. `tag` is the caller's name for the message,
  // reported back in failed_deliveries(). ResourceExhausted: this message can never be produced
  // (larger than message.max.bytes); nothing was queued and the transaction goes on.
  static constexpr int32_t kAnyPartition = -1;
  static constexpr int64_t kNoTag = -1;
  // `headers` are copied (name, value).
  using Header = std::pair<absl::string_view, absl::string_view>;
  absl::Status Produce(const std::string& topic, absl::string_view key, absl::string_view value,
                       absl::Span<const Header> headers = {}, int32_t partition = kAnyPartition,
                       int64_t tag = kNoTag);
  // Waits until every message produced so far in the transaction is acknowledged. kAborted (the
  // transaction is aborted) as soon as one of them failed, without waiting for the others;
  // Unavailable when the wait timed out.
  absl::Status Flush(int timeout_ms = 30000);
  // The deliveries that failed since Begin (also those seen while committing or aborting; the
  // first 10,000), so that a caller can tell a message the broker refuses (kafka::RefusesMessage)
  // from a transaction that failed as a whole.
  const std::vector<FailedDelivery>& failed_deliveries() const { return deliveries_.failures; }
  // Sends the consumer's next offsets and commits the transaction.
  absl::Status Commit(const std::vector<RdKafka::TopicPartition*>& next_offsets,
                      RdKafka::KafkaConsumer* consumer, int timeout_ms = 30000);
  // Aborts the open transaction (shutdown, or a batch the caller gives up).
  absl::Status Abort(int timeout_ms = 30000);
  bool in_transaction() const { return in_transaction_; }
  RdKafka::Producer* raw() { return producer_.get(); }

 private:
  TransactionalProducer() = default;
  // Classifies an error of a transactional call; aborts when the transaction requires it.
  absl::Status Handle(std::unique_ptr<RdKafka::Error> error, absl::string_view what);

  // Records failed deliveries (reports are served on the caller's thread, in poll/flush).
  struct Deliveries : RdKafka::DeliveryReportCb {
    void dr_cb(RdKafka::Message& message) override;
    int64_t failed = 0;
    std::string first_error;  // the first that was not purged, if any
    bool first_purged = false;
    std::vector<FailedDelivery> failures;
  };

  Deliveries deliveries_;
  std::unique_ptr<RdKafka::Producer> producer_;
  bool in_transaction_ = false;
};

}  // namespace claimgate::kafka

#endif  // CLAIMGATE_LEDGER_KAFKA_TRANSACTIONAL_PRODUCER_H_
