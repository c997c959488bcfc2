// claimgate_consumergroup_lag{consumergroup, topic, partition}: how many messages of each partition
// assigned to a service's consumer it has not finished with, computed when /metrics is scraped (so
// a service whose loop is stuck still shows its lag, and a revoked partition is gone at once).
//
// The service says which partitions it holds and where it stands on each (Source::Set from
// assignment on, Forget on revocation). The lag is the partition's high watermark (the consumer's
// cached one, from its fetches; a query when none is cached yet) minus that position, or minus the
// low watermark while the position is unknown (auto.offset.reset=earliest).
#ifndef CLAIMGATE_LEDGER_SERVICE_CONSUMER_LAG_H_
#define CLAIMGATE_LEDGER_SERVICE_CONSUMER_LAG_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "librdkafka/rdkafkacpp.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace claimgate::ledger {

// Where the lag of one partition is measured from. A read_committed consumer never returns the
// transaction markers at the end of a partition, but the high watermark counts them: once every
// message returned before the partition's end (PARTITION_EOF) is done, the end is where it stands.
class LagPosition {
 public:
  LagPosition() = default;
  explicit LagPosition(int64_t done) : done_(done) {}
  void Returned(int64_t offset) { returned_next_ = std::max(returned_next_, offset + 1); }
  void End(int64_t offset) {
    end_ = std::max(end_, offset);
    PassEnd();
  }
  void Done(int64_t next) {
    done_ = std::max(done_, next);
    PassEnd();
  }
  // The next offset not finished; -1 while unknown.
  int64_t next() const { return done_; }

 private:
  void PassEnd() {
    if (done_ >= 0 && done_ >= returned_next_) done_ = std::max(done_, end_);
  }

  int64_t done_ = -1;
  int64_t returned_next_ = -1;
  int64_t end_ = -1;
};

class ConsumerLag : public prometheus::Collectable {
 public:
  // One consumer's partitions under `group`. Thread-safe; unregisters when destroyed, which must
  // happen before the consumer is.
  class Source {
   public:
    ~Source();
    Source(const Source&) = delete;
    Source& operator=(const Source&) = delete;
    // The partition is assigned; the service stands at `next` (LagPosition::next(); -1: unknown).
    void Set(const std::string& topic, int32_t partition, int64_t next);
    // A partition revoked: forgets where the service stood.
    void Forget(const std::string& topic, int32_t partition);

   private:
    friend class ConsumerLag;
    Source(ConsumerLag* owner, std::string group, RdKafka::KafkaConsumer* consumer)
        : owner_(owner), group_(std::move(group)), consumer_(consumer) {}
    ConsumerLag* owner_;
    const std::string group_;
    RdKafka::KafkaConsumer* const consumer_;
    // The partitions held: (topic, partition) -> next offset; guarded by owner_->mu_.
    std::map<std::pair<std::string, int32_t>, int64_t> next_;
  };

  // Reports the partitions `consumer` holds under `group` until the Source is destroyed.
  std::unique_ptr<Source> Track(const std::string& group, RdKafka::KafkaConsumer* consumer);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable absl::Mutex mu_;
  std::vector<Source*> sources_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_SERVICE_CONSUMER_LAG_H_
