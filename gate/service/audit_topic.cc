#include "gate/service/audit_topic.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "ledger/strict_json.h"

namespace claimgate::gate {

absl::StatusOr<std::vector<OffsetRange>> ResolveOffsets(RdKafka::KafkaConsumer* handle,
                                                        const std::string& topic,
                                                        const AuditTopicOptions& options) {
  absl::StatusOr<int> count = kafka::PartitionCount(handle, topic);
  if (!count.ok()) return count.status();
  std::vector<OffsetRange> ranges;
  for (int32_t p = 0; p < *count; ++p) {
    if (options.partition >= 0 && p != options.partition) continue;
    int64_t low = 0, high = 0;
    const RdKafka::ErrorCode err = handle->query_watermark_offsets(topic, p, &low, &high, 10000);
    if (err != RdKafka::ERR_NO_ERROR)
      return kafka::ToStatus(err, absl::StrCat("watermarks of ", topic, "/", p));
    OffsetRange r{p, low, high, true};
    if (options.from.has_value()) {
      absl::StatusOr<int64_t> o = kafka::OffsetForTime(handle, topic, p, *options.from);
      if (!o.ok()) return o.status();
      r.from = std::max(low, *o);
      r.from_start = r.from == low;
    }
    if (options.to.has_value()) {
      absl::StatusOr<int64_t> o = kafka::OffsetForTime(handle, topic, p, *options.to);
      if (!o.ok()) return o.status();
      r.to = std::min(high, *o);
    }
    if (r.to < r.from) r.to = r.from;
    ranges.push_back(r);
  }
  if (options.partition >= 0 && ranges.empty()) {
    return absl::NotFoundError(
        absl::StrCat(topic, " has no partition ", options.partition, " (", *count, " in all)"));
  }
  return ranges;
}

bool ParseAuditValue(absl::string_view value, v1::AuditRecord* record) {
  record->Clear();
  if (!value.empty() && value.front() == '{') {
    return ledger::ParseStrictJson(value, record, /*ignore_unknown_fields=*/false).ok();
  }
  return record->ParseFromArray(value.data(), static_cast<int>(value.size()));
}

absl::Status ReadAuditTopic(
    const AuditTopicOptions& options,
    const std::function<absl::Status(int32_t, int64_t, const v1::AuditRecord*)>& fn,
    std::vector<OffsetRange>* ranges_out) {
  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> consumer =
      kafka::MakeConsumer(options.kafka, "");  // no group: nothing joined, nothing committed
  if (!consumer.ok()) return consumer.status();
  absl::StatusOr<std::vector<OffsetRange>> ranges =
      ResolveOffsets(consumer->get(), options.topic, options);
  if (!ranges.ok()) {
    (*consumer)->close();
    return ranges.status();
  }
  if (ranges_out != nullptr) *ranges_out = *ranges;
  absl::Status result;
  v1::AuditRecord record;
  for (const OffsetRange& r : *ranges) {
    absl::Status stopped;
    result = kafka::ReadPartition(
        consumer->get(), options.topic, r.partition, r.from, r.to, [&](RdKafka::Message& m) {
          if (!stopped.ok()) return;
          const absl::string_view value(static_cast<const char*>(m.payload()), m.len());
          const bool ok = ParseAuditValue(value, &record);
          stopped = fn(r.partition, m.offset(), ok ? &record : nullptr);
        });
    if (result.ok()) result = stopped;
    if (!result.ok()) break;
  }
  (*consumer)->close();
  return result;
}

absl::Status VerifyAuditTopic(const AuditTopicOptions& options, ChainVerifier* verifier) {
  return ReadAuditTopic(
      options, [&](int32_t partition, int64_t offset, const v1::AuditRecord* record) {
        const std::string where = absl::StrCat(options.topic, "/", partition, "@", offset);
        if (record == nullptr) {
          verifier->AddBroken("", where, "the value is not an audit record");
        } else {
          verifier->Add(*record, where);
        }
        return absl::OkStatus();
      });
}

}  // namespace claimgate::gate
