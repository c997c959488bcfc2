// Recovery from the output tails (recovery.h): pure logic over OutputTail.
#include "gate/service/recovery.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "claimgate/v1/decision.pb.h"
#include "ledger/codec.h"
#include "ledger/strict_json.h"

namespace claimgate::gate {
namespace {

// "claims/3@42" -> (3, 42) when the topic is `topic`.
bool ParseSource(absl::string_view source, absl::string_view topic, int32_t* partition,
                 int64_t* offset) {
  const size_t at = source.rfind('@');
  const size_t slash = source.rfind('/', at);
  if (at == absl::string_view::npos || slash == absl::string_view::npos) return false;
  return source.substr(0, slash) == topic &&
         absl::SimpleAtoi(source.substr(slash + 1, at - slash - 1), partition) &&
         absl::SimpleAtoi(source.substr(at + 1), offset);
}

// An audit record read back from the output topic.
bool ParseOutput(const std::string& bytes, kafka::Format format, v1::AuditRecord* a) {
  return format == kafka::Format::kJson
             ? ledger::ParseStrictJson(bytes, a, /*ignore_unknown_fields=*/false).ok()
             : a->ParseFromString(bytes);
}

// One output topic's messages from one claims partition, read backwards from the end of its
// output partition a window at a time.
class TailScan {
 public:
  struct Found {
    int64_t offset;       // the claim's offset
    int64_t batch_start;  // first offset of its partition in the batch that wrote it
    std::string value;    // audit records only
  };

  TailScan(const std::string& topic, int32_t output_partition, bool keep_values)
      : topic_(topic), output_partition_(output_partition), keep_values_(keep_values) {}

  absl::Status Open(OutputTail& tail) {
    absl::StatusOr<OutputTail::Range> range = tail.Watermarks(topic_, output_partition_);
    if (!range.ok()) return range.status();
    low_ = range->low;
    end_ = range->high;
    return absl::OkStatus();
  }
  // Reads the window before what was read so far; keeps the messages of claims `partition`.
  absl::Status StepBack(OutputTail& tail, const RecoveryOptions& o, int32_t partition) {
    const int64_t from = std::max(low_, end_ - o.window);
    std::vector<Found> read;
    absl::Status s = tail.Read(topic_, output_partition_, from, end_, [&](const TailRecord& r) {
      int32_t p = 0;
      int64_t offset = 0;
      if (!ParseSource(r.source, o.claims_topic, &p, &offset) || p != partition) return;
      int64_t batch_start = offset;
      if (!absl::SimpleAtoi(r.batch_start, &batch_start)) batch_start = offset;
      read.push_back(Found{offset, batch_start, keep_values_ ? std::string(r.value) : ""});
    });
    if (!s.ok()) return s;
    found_.insert(found_.begin(), std::make_move_iterator(read.begin()),
                  std::make_move_iterator(read.end()));
    end_ = from;
    return absl::OkStatus();
  }
  // Steps back until the partition's newest message here is found (or nothing is left).
  absl::Status FindNewest(OutputTail& tail, const RecoveryOptions& o, int32_t partition) {
    while (found_.empty() && more()) {
      if (absl::Status s = StepBack(tail, o, partition); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // Steps back until everything from claim offset `resume` on is read.
  absl::Status ReadFrom(OutputTail& tail, const RecoveryOptions& o, int32_t partition,
                        int64_t resume) {
    while (more() && (found_.empty() || found_.front().offset >= resume)) {
      if (absl::Status s = StepBack(tail, o, partition); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  const std::string& topic() const { return topic_; }
  // In output order, which is claim order.
  std::deque<Found>& found() { return found_; }

 private:
  bool more() const { return end_ > low_; }

  const std::string& topic_;
  int32_t output_partition_;
  bool keep_values_;
  int64_t low_ = 0, end_ = 0;  // unread: [low_, end_)
  std::deque<Found> found_;
};

// The head the partition's audit chain goes on from: after its newest audit record.
absl::StatusOr<ChainHead> ChainAfter(TailScan& audit, const RecoveryOptions& o,
                                     int32_t partition) {
  if (audit.found().empty()) return ChainHead{};
  v1::AuditRecord newest;
  if (!ParseOutput(audit.found().back().value, o.output_format, &newest)) {
    return absl::DataLossError(absl::StrCat("the newest audit record of ", o.claims_topic, "/",
                                            partition, " does not parse"));
  }
  return HeadAfter(newest);
}

}  // namespace

int32_t OutputPartitions::For(const std::string& topic, int32_t source_partition) const {
  const auto it = counts_.find(topic);
  const int n = it == counts_.end() || it->second < 1 ? 1 : it->second;
  return source_partition % n;
}

absl::StatusOr<PartitionRecovery> RecoverPartition(OutputTail& tail,
                                                   const OutputPartitions& partitions,
                                                   const RecoveryOptions& o, int32_t partition,
                                                   int64_t committed) {
  std::vector<TailScan> scans;
  scans.reserve(3);
  for (const std::string* topic : {&o.audit_topic, &o.decisions_topic, &o.dlq_topic}) {
    scans.emplace_back(*topic, partitions.For(*topic, partition), topic == &o.audit_topic);
    if (absl::Status s = scans.back().Open(tail); !s.ok()) return s;
  }
  // The newest claim of this partition on each output topic; the newest of all names the batch
  // to resume at.
  int64_t last = -1, batch_start = -1;
  for (TailScan& scan : scans) {
    if (absl::Status s = scan.FindNewest(tail, o, partition); !s.ok()) return s;
    if (!scan.found().empty() && scan.found().back().offset > last) {
      last = scan.found().back().offset;
      batch_start = scan.found().back().batch_start;
    }
  }
  PartitionRecovery r;
  absl::StatusOr<ChainHead> chain = ChainAfter(scans[0], o, partition);
  if (!chain.ok()) return chain.status();
  r.chain = std::move(*chain);
  // Committed offsets (a broker with transactions) cover everything below them.
  if (last < committed || last < 0) {
    r.resume = committed;
    return r;
  }
  r.resume = std::max(batch_start, committed);
  r.last = last;
  for (TailScan& scan : scans) {
    if (absl::Status s = scan.ReadFrom(tail, o, partition, r.resume); !s.ok()) return s;
    for (TailScan::Found& f : scan.found()) {
      if (f.offset < r.resume) continue;
      Written& w = r.written[f.offset];
      if (&scan.topic() == &o.audit_topic) {
        w.audit = true;
        w.audit_value = std::move(f.value);
      } else if (&scan.topic() == &o.decisions_topic) {
        w.decision = true;
      } else {
        w.dead_letter = true;
      }
    }
  }
  return r;
}

void WrittenOutputs::Set(int32_t partition, PartitionRecovery recovery) {
  if (recovery.last < 0) {
    windows_.erase(partition);
    return;
  }
  Window& w = windows_[partition];
  w.last = recovery.last;
  w.written = std::move(recovery.written);
}

void WrittenOutputs::Erase(int32_t partition) { windows_.erase(partition); }

const Written* WrittenOutputs::Find(int32_t partition, int64_t offset) {
  const auto it = windows_.find(partition);
  if (it == windows_.end()) return nullptr;
  if (offset > it->second.last) {
    windows_.erase(it);
    return nullptr;
  }
  static const Written kNone;
  const auto w = it->second.written.find(offset);
  return w == it->second.written.end() ? &kNone : &w->second;
}

size_t WrittenOutputs::Count(int32_t partition) const {
  const auto it = windows_.find(partition);
  return it == windows_.end() ? 0 : it->second.written.size();
}

absl::StatusOr<std::string> DecisionFromAudit(const std::string& audit, kafka::Format format,
                                              std::string* claim_id) {
  v1::AuditRecord a;
  if (!ParseOutput(audit, format, &a))
    return absl::DataLossError("an audit record on the output topic does not parse");
  v1::Decision d;
  d.set_claim_id(a.claim_id());
  d.set_outcome(a.outcome());
  *d.mutable_reasons() = a.reasons();
  *claim_id = a.claim_id();
  return format == kafka::Format::kJson ? ledger::ToJson(d) : d.SerializeAsString();
}

}  // namespace claimgate::gate
