#include "ledger/service/consumer_lag.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace claimgate::ledger {

ConsumerLag::Source::~Source() {
  absl::MutexLock lock(&owner_->mu_);
  std::erase(owner_->sources_, this);
}

void ConsumerLag::Source::Set(const std::string& topic, int32_t partition, int64_t next) {
  absl::MutexLock lock(&owner_->mu_);
  next_[{topic, partition}] = next;
}

void ConsumerLag::Source::Forget(const std::string& topic, int32_t partition) {
  absl::MutexLock lock(&owner_->mu_);
  next_.erase({topic, partition});
}

std::unique_ptr<ConsumerLag::Source> ConsumerLag::Track(const std::string& group,
                                                        RdKafka::KafkaConsumer* consumer) {
  std::unique_ptr<Source> s(new Source(this, group, consumer));
  absl::MutexLock lock(&mu_);
  sources_.push_back(s.get());
  return s;
}

std::vector<prometheus::MetricFamily> ConsumerLag::Collect() const {
  prometheus::MetricFamily family;
  family.name = "claimgate_consumergroup_lag";
  family.help =
      "Messages of an assigned partition not yet finished (committed, applied) by the service";
  family.type = prometheus::MetricType::Gauge;
  // A partition whose high watermark is not cached yet is queried, within one second in all: a
  // scrape must not wait long for brokers that do not answer (the partition is left out then).
  const absl::Time deadline = absl::Now() + absl::Seconds(1);
  absl::MutexLock lock(&mu_);
  for (const Source* s : sources_) {
    for (const auto& [tp, next] : s->next_) {
      const auto& [topic, partition] = tp;
      int64_t low = -1, high = -1;
      RdKafka::ErrorCode err = s->consumer_->get_watermark_offsets(topic, partition, &low, &high);
      const bool needs_low = next < 0 && low < 0;
      if (err != RdKafka::ERR_NO_ERROR || high < 0 || needs_low) {
        const int budget_ms = static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()));
        if (budget_ms <= 0) continue;
        err = s->consumer_->query_watermark_offsets(topic, partition, &low, &high,
                                                    std::min(budget_ms, 500));
        if (err != RdKafka::ERR_NO_ERROR || high < 0) continue;
      }
      const int64_t from = next >= 0 ? next : std::max<int64_t>(0, low);
      prometheus::ClientMetric m;
      m.label = {{"consumergroup", s->group_},
                 {"partition", absl::StrCat(partition)},
                 {"topic", topic}};
      m.gauge.value = static_cast<double>(std::max<int64_t>(0, high - from));
      family.metric.push_back(std::move(m));
    }
  }
  if (family.metric.empty()) return {};
  return {std::move(family)};
}

}  // namespace claimgate::ledger
