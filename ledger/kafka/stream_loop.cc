// Consume -> process -> produce -> commit, and what a failed batch costs (stream_loop.h).
#include "ledger/kafka/stream_loop.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace claimgate::kafka {

StreamLoop::StreamLoop(const StreamLoopOptions& options) : options_(options) {}

absl::StatusOr<std::unique_ptr<StreamLoop>> StreamLoop::Start(const StreamLoopOptions& options,
                                                              int init_timeout_ms) {
  std::unique_ptr<StreamLoop> loop(new StreamLoop(options));
  auto producer = TransactionalProducer::Create(options.kafka, options.transactional_id,
                                                init_timeout_ms, options.stop);
  if (!producer.ok()) return producer.status();
  loop->producer_ = std::move(*producer);
  return loop;
}

bool StreamLoop::BackingOff(int timeout_ms) {
  if (retry_after_ == absl::InfinitePast()) return false;  // nothing aborted yet
  const absl::Time now = Now();
  if (now >= retry_after_) return false;
  // The wait itself is real time, at most one call's timeout: a clock set by hand moves on
  // between calls.
  absl::SleepFor(std::min(retry_after_ - now, absl::Milliseconds(timeout_ms)));
  return true;
}

absl::Status StreamLoop::Commit(const NextOffsets& next, RdKafka::KafkaConsumer* consumer) {
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [tp, offset] : next)
    offsets.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, offset));
  absl::Status s = producer_->Commit(offsets, consumer);
  RdKafka::TopicPartition::destroy(offsets);
  return s;
}

absl::StatusOr<int> StreamLoop::RunOnce(int timeout_ms, StreamProcessor& processor) {
  absl::StatusOr<bool> ready = processor.BeforeBatch(timeout_ms);
  if (!ready.ok()) return ready.status();
  if (!*ready || BackingOff(timeout_ms)) return 0;
  absl::StatusOr<size_t> n = processor.Consume(timeout_ms);
  if (!n.ok()) return n.status();
  if (*n == 0) {
    processor.Idle();
    return 0;
  }
  if (absl::Status s = producer_->Begin(); !s.ok()) return s;
  NextOffsets next;
  absl::Status s = processor.Process(*producer_, &next);
  if (!s.ok() && !options_.retry) return s;  // the service ends as it is
  if (s.ok()) {
    s = Commit(next, processor.consumer());
    if (!s.ok() && !options_.retry) {
      processor.Aborted(*producer_);
      return s;
    }
    // A commit that failed without aborting (its outcome unknown) ends the process; the next one
    // resumes from what the topics hold.
    if (!s.ok() && !absl::IsAborted(s)) return s;
  }
  if (absl::IsFailedPrecondition(s)) return s;  // fatal or fenced: the process ends
  if (!s.ok()) return Retry(s, *n, processor);
  if (aborts_in_a_row_ > 0 && options_.log != nullptr) {
    *options_.log << options_.log_prefix << "progress resumed after " << aborts_in_a_row_
                  << " aborted batches\n";
  }
  aborts_in_a_row_ = 0;
  stalled_ = false;
  if (absl::Status c = processor.Committed(); !c.ok()) return c;
  return static_cast<int>(*n);
}

absl::StatusOr<int> StreamLoop::Retry(const absl::Status& cause, size_t batch_size,
                                      StreamProcessor& processor) {
  if (producer_->in_transaction()) (void)producer_->Abort();
  processor.Aborted(*producer_);
  const absl::Time now = Now();
  if (aborts_in_a_row_++ == 0) {
    first_abort_ = now;
    if (options_.log != nullptr) {
      *options_.log << options_.log_prefix << "warning: a batch of " << batch_size << " "
                    << options_.unit << " aborted; retrying from the last commit: " << cause
                    << "\n";
    }
  }
  retry_after_ = now + std::min(options_.retry_backoff_max,
                                absl::Milliseconds(50) * (1 << std::min(aborts_in_a_row_ - 1, 16)));
  if (!stalled_ && (aborts_in_a_row_ >= options_.stall_aborts ||
                    now - first_abort_ >= options_.stall_after)) {
    stalled_ = true;
    processor.Stalled();
    stall_logged_ = absl::InfinitePast();
  }
  // Said when the stall is detected, then every 10 s while it lasts: the cause may change.
  if (stalled_ && now - stall_logged_ >= absl::Seconds(10) && options_.log != nullptr) {
    stall_logged_ = now;
    *options_.log << options_.log_prefix << "error: no progress: " << aborts_in_a_row_
                  << " batches aborted in a row over "
                  << absl::FormatDuration(absl::Trunc(now - first_abort_, absl::Milliseconds(1)))
                  << "; not ready until a batch commits. Last cause: " << cause << "\n";
  }
  // A producer whose transactions keep failing may be stuck in a state of its own (an epoch bump
  // left half done, say): every `stall_aborts` aborts while stalled, a new producer takes the
  // transactional id over. Its init_transactions fences the old one; nothing committed is lost.
  if (stalled_ && aborts_in_a_row_ % std::max(1, options_.stall_aborts) == 0) {
    ReplaceProducer(processor);
  }
  if (absl::Status s = processor.Rewind(); !s.ok()) return s;
  return 0;
}

void StreamLoop::ReplaceProducer(StreamProcessor& processor) {
  auto fresh = TransactionalProducer::Create(options_.kafka, options_.transactional_id, 5000,
                                             options_.stop);
  if (!fresh.ok()) {
    if (options_.log != nullptr) {
      *options_.log << options_.log_prefix
                    << "warning: no new transactional producer; keeping the old one: "
                    << fresh.status() << "\n";
    }
    return;
  }
  producer_ = std::move(*fresh);
  processor.ProducerReplaced();
  if (options_.log != nullptr) {
    *options_.log << options_.log_prefix
                  << "warning: a new transactional producer took over after " << aborts_in_a_row_
                  << " aborted batches\n";
  }
}

absl::Status StreamLoop::Run(const std::atomic<bool>& stop, StreamProcessor& processor) {
  while (!stop.load()) {
    absl::StatusOr<int> n = RunOnce(200, processor);
    if (!n.ok()) return n.status();
  }
  return absl::OkStatus();
}

}  // namespace claimgate::kafka
