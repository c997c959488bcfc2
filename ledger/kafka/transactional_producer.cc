// Transactions and their error classes (librdkafka's "Transactional producer API" documentation).
#include "ledger/kafka/transactional_producer.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace claimgate::kafka {

absl::StatusOr<std::unique_ptr<TransactionalProducer>> TransactionalProducer::Create(
    const ClientConfig& config, const std::string& transactional_id, int timeout_ms,
    const std::atomic<bool>* stop) {
  std::unique_ptr<TransactionalProducer> t(new TransactionalProducer());
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> p =
      MakeProducer(config, transactional_id, &t->deliveries_);
  if (!p.ok()) return p.status();
  t->producer_ = std::move(*p);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(6LL * timeout_ms);
  for (;;) {
    // A timed-out init_transactions may be called again: it resumes where it stopped.
    std::unique_ptr<RdKafka::Error> err(
        t->producer_->init_transactions(std::min(timeout_ms, 5000)));
    if (err == nullptr) return t;
    if (!err->is_retriable() || absl::Now() >= deadline) return ToStatus(*err, "init_transactions");
    if (stop != nullptr && stop->load()) return absl::CancelledError("init_transactions: stopping");
  }
}

TransactionalProducer::~TransactionalProducer() {
  if (producer_ == nullptr) return;
  if (in_transaction_) (void)Abort(5000);
  producer_->flush(5000);
}

absl::Status TransactionalProducer::Handle(std::unique_ptr<RdKafka::Error> error,
                                           absl::string_view what) {
  if (error == nullptr) return absl::OkStatus();
  if (error->is_fatal()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": fatal: ", error->str()));
  }
  if (error->txn_requires_abort()) {
    absl::Status aborted = Abort();
    return absl::AbortedError(
        absl::StrCat(what, ": transaction aborted: ", error->str(),
                     aborted.ok() ? "" : absl::StrCat(" (", aborted.message(), ")")));
  }
  return ToStatus(*error, what);
}

void TransactionalProducer::Deliveries::dr_cb(RdKafka::Message& message) {
  if (message.err() == RdKafka::ERR_NO_ERROR) return;
  // The messages purged when the transaction failed say nothing of why: name the first other one.
  const bool purged = message.err() == RdKafka::ERR__PURGE_QUEUE ||
                      message.err() == RdKafka::ERR__PURGE_INFLIGHT;
  if (failed++ == 0 || (!purged && first_purged)) {
    first_error = absl::StrCat(message.topic_name(), ": ", message.errstr());
    first_purged = purged;
  }
  if (failures.size() < 10000) {
    failures.push_back({static_cast<int64_t>(reinterpret_cast<intptr_t>(message.msg_opaque())),
                        message.topic_name(), message.err(), message.errstr()});
  }
}

absl::Status TransactionalProducer::Begin() {
  deliveries_.failed = 0;
  deliveries_.first_error.clear();
  deliveries_.first_purged = false;
  deliveries_.failures.clear();
  absl::Status s =
      Handle(std::unique_ptr<RdKafka::Error>(producer_->begin_transaction()), "begin_transaction");
  in_transaction_ = s.ok();
  return s;
}

absl::Status TransactionalProducer::Produce(
    const std::string& topic, absl::string_view key, absl::string_view value,
    absl::Span<const Header> headers, int32_t partition, int64_t tag) {
  for (;;) {
    RdKafka::Headers* h = nullptr;
    if (!headers.empty()) {
      h = RdKafka::Headers::create();
      for (const auto& [k, v] : headers) h->add(std::string(k), v.data(), v.size());
    }
    const RdKafka::ErrorCode err = producer_->produce(
        topic, partition == kAnyPartition ? RdKafka::Topic::PARTITION_UA : partition,
        RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(), key.data(),
        key.size(), 0, h, reinterpret_cast<void*>(static_cast<intptr_t>(tag)));
    if (err == RdKafka::ERR_NO_ERROR) return absl::OkStatus();  // the producer owns the headers now
    delete h;
    if (err != RdKafka::ERR__QUEUE_FULL) return ToStatus(err, absl::StrCat("producing to ", topic));
    producer_->poll(50);  // make room
  }
}

absl::Status TransactionalProducer::Flush(int timeout_ms) {
  // In slices: one failed delivery dooms the transaction, and librdkafka may hold the others back
  // until it is aborted (a partition drained for an epoch bump keeps its message queued; on CI a
  // whole-timeout flush then waited 30 s for nothing, attempt after attempt).
  RdKafka::ErrorCode err = RdKafka::ERR__TIMED_OUT;
  for (const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);;) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    err = producer_->flush(static_cast<int>(std::clamp<int64_t>(left, 0, 100)));
    if (err != RdKafka::ERR__TIMED_OUT || deliveries_.failed > 0 || left <= 0) break;
  }
  if (deliveries_.failed > 0) {
    const std::string why = absl::StrCat(
        deliveries_.failed, " message(s) not delivered: ", deliveries_.first_error);
    absl::Status aborted = Abort();
    return absl::AbortedError(
        absl::StrCat("flush: transaction aborted: ", why,
                     aborted.ok() ? "" : absl::StrCat(" (", aborted.message(), ")")));
  }
  return ToStatus(err, "flush");
}

absl::Status TransactionalProducer::Commit(
    const std::vector<RdKafka::TopicPartition*>& next_offsets, RdKafka::KafkaConsumer* consumer,
    int timeout_ms) {
  if (!next_offsets.empty()) {
    std::unique_ptr<RdKafka::ConsumerGroupMetadata> md(consumer->groupMetadata());
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<RdKafka::Error> err(
          producer_->send_offsets_to_transaction(next_offsets, md.get(), timeout_ms));
      if (err == nullptr) break;
      if (err->is_retriable() && attempt < 5) continue;
      return Handle(std::move(err), "send_offsets_to_transaction");
    }
  }
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<RdKafka::Error> err(producer_->commit_transaction(timeout_ms));
    if (err == nullptr) {
      in_transaction_ = false;
      return absl::OkStatus();
    }
    if (err->is_retriable() && attempt < 5) continue;
    return Handle(std::move(err), "commit_transaction");
  }
}

absl::Status TransactionalProducer::Abort(int timeout_ms) {
  in_transaction_ = false;
  std::unique_ptr<RdKafka::Error> err(producer_->abort_transaction(timeout_ms));
  if (err == nullptr) return absl::OkStatus();
  if (err->is_fatal())
    return absl::FailedPreconditionError(absl::StrCat("abort_transaction: ", err->str()));
  return ToStatus(*err, "abort_transaction");
}

}  // namespace claimgate::kafka
