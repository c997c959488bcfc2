// OutputTail (recovery.h) on librdkafka: an assign()-only read_committed consumer reads the
// output partitions, and the watermarks come from a client handle of the caller's.
#ifndef CLAIMGATE_GATE_SERVICE_KAFKA_OUTPUT_TAIL_H_
#define CLAIMGATE_GATE_SERVICE_KAFKA_OUTPUT_TAIL_H_

#include <functional>
#include <memory>
#include <string>

#include "gate/service/recovery.h"
#include "ledger/kafka/kafka.h"

namespace claimgate::gate {

class KafkaOutputTail final : public OutputTail {
 public:
  // `watermarks` names the handle that answers watermark queries at the time of the call (the
  // gate's transactional producer, which may be replaced); it must stay valid while this lives.
  static absl::StatusOr<std::unique_ptr<KafkaOutputTail>> Create(
      const kafka::ClientConfig& config, std::function<RdKafka::Handle*()> watermarks);
  ~KafkaOutputTail() override;
  KafkaOutputTail(const KafkaOutputTail&) = delete;
  KafkaOutputTail& operator=(const KafkaOutputTail&) = delete;

  // The error of query_watermark_offsets (10 s), as "watermarks of TOPIC: ...".
  absl::StatusOr<Range> Watermarks(const std::string& topic, int32_t partition) override;
  // kafka::ReadPartition: Unavailable when nothing arrives for 10 s.
  absl::Status Read(const std::string& topic, int32_t partition, int64_t from, int64_t to,
                    const std::function<void(const TailRecord&)>& fn) override;

 private:
  KafkaOutputTail() = default;

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::function<RdKafka::Handle*()> watermarks_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_KAFKA_OUTPUT_TAIL_H_
