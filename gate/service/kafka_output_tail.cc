// Reading the output tails with librdkafka (kafka_output_tail.h).
#include "gate/service/kafka_output_tail.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace claimgate::gate {
namespace {

std::string Header(RdKafka::Message& m, const std::string& key) {
  if (m.headers() == nullptr) return "";
  const RdKafka::Headers::Header h = m.headers()->get_last(key);
  if (h.err() != RdKafka::ERR_NO_ERROR || h.value() == nullptr) return "";
  return std::string(static_cast<const char*>(h.value()), h.value_size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<KafkaOutputTail>> KafkaOutputTail::Create(
    const kafka::ClientConfig& config, std::function<RdKafka::Handle*()> watermarks) {
  std::unique_ptr<KafkaOutputTail> tail(new KafkaOutputTail());
  auto consumer = kafka::MakeConsumer(config, "");
  if (!consumer.ok()) return consumer.status();
  tail->consumer_ = std::move(*consumer);
  tail->watermarks_ = std::move(watermarks);
  return tail;
}

KafkaOutputTail::~KafkaOutputTail() {
  if (consumer_ != nullptr) consumer_->close();
}

absl::StatusOr<OutputTail::Range> KafkaOutputTail::Watermarks(const std::string& topic,
                                                              int32_t partition) {
  Range r;
  const RdKafka::ErrorCode err =
      watermarks_()->query_watermark_offsets(topic, partition, &r.low, &r.high, 10000);
  if (err != RdKafka::ERR_NO_ERROR)
    return kafka::ToStatus(err, absl::StrCat("watermarks of ", topic));
  return r;
}

absl::Status KafkaOutputTail::Read(const std::string& topic, int32_t partition, int64_t from,
                                   int64_t to, const std::function<void(const TailRecord&)>& fn) {
  auto each = [&](RdKafka::Message& m) {
    const std::string source = Header(m, "source"), batch_start = Header(m, "batch_start");
    fn(TailRecord{source, batch_start,
                  absl::string_view(static_cast<const char*>(m.payload()), m.len())});
  };
  return kafka::ReadPartition(consumer_.get(), topic, partition, from, to, each);
}

}  // namespace claimgate::gate
