#include "gate/service/replay_kafka.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gate/claim_view.h"
#include "gate/json/json_writer.h"
#include "gate/replay/json_lines.h"
#include "gate/service/audit_topic.h"
#include "ledger/history.h"
#include "ledger/service/ledger_service.h"

namespace claimgate::gate {
namespace {

std::string Where(const v1::AuditRecord::Source& s) {
  return absl::StrCat(s.topic(), "/", s.partition(), "@", s.offset());
}

// The whole ledger-events topic into `history`, by the ledger's decoding rule.
absl::Status ReadLedger(RdKafka::KafkaConsumer* consumer, const KafkaReplayOptions& options,
                        ledger::LedgerHistory* history) {
  const std::string& topic = options.topics.ledger_events;
  int64_t low = 0, high = 0;
  const RdKafka::ErrorCode err = consumer->query_watermark_offsets(topic, 0, &low, &high, 10000);
  if (err != RdKafka::ERR_NO_ERROR) return kafka::ToStatus(err, "watermarks of " + topic);
  if (low > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(topic, " starts at offset ", low,
                     ": its first events were deleted, so ledger positions cannot be rebuilt "
                     "(keep ledger-events forever: retention.ms=-1)"));
  }
  v1::Event event;
  std::string error;
  return kafka::ReadPartition(consumer, topic, 0, low, high, [&](RdKafka::Message& m) {
    const absl::string_view bytes(static_cast<const char*>(m.payload()), m.len());
    if (ledger::DecodeLedgerEvent(bytes, options.input_format, &event, &error))
      history->Apply(event);
  });
}

// Re-decides one window of audit records: their claims are read (one sequential read per claims
// partition over the offsets the window names), then each record is replayed in order.
absl::Status ReplayWindow(RdKafka::KafkaConsumer* consumer, const KafkaReplayOptions& options,
                          const std::vector<v1::AuditRecord>& audits, Replayer& replayer,
                          JsonLineReader& json, ReplayTally* tally, std::string* lines) {
  const bool csv = options.replay.csv;
  std::map<std::pair<std::string, int32_t>, std::map<int64_t, std::string>> claims;
  for (const v1::AuditRecord& a : audits) {
    if (a.outcome() == v1::Decision::REVERSED) continue;  // a reversal decides no claim
    claims[{a.source().topic(), a.source().partition()}][a.source().offset()];
  }
  for (auto& [tp, wanted] : claims) {
    if (tp.first.empty() || wanted.empty()) continue;
    const int64_t first = wanted.begin()->first, last = wanted.rbegin()->first;
    absl::Status s = kafka::ReadPartition(
        consumer, tp.first, tp.second, first, last + 1, [&](RdKafka::Message& m) {
          const auto it = wanted.find(m.offset());
          if (it != wanted.end()) it->second.assign(static_cast<const char*>(m.payload()), m.len());
        });
    if (!s.ok()) return s;
  }
  ClaimView claim;
  for (const v1::AuditRecord& a : audits) {
    if (a.outcome() == v1::Decision::REVERSED) continue;
    const auto tp = claims.find({a.source().topic(), a.source().partition()});
    const std::string* bytes = nullptr;
    if (tp != claims.end()) {
      const auto it = tp->second.find(a.source().offset());
      if (it != tp->second.end() && !it->second.empty()) bytes = &it->second;
    }
    std::string error;
    if (bytes == nullptr) {
      error = absl::StrCat("no claim at ", Where(a.source()));
    } else if (options.input_format == kafka::Format::kJson) {
      if (!json.ReadClaim(*bytes, &claim, &error))
        error = absl::StrCat("the claim at ", Where(a.source()), " does not parse: ", error);
    } else if (absl::Status s = ParseClaimEvent(*bytes, &claim); !s.ok()) {
      error = absl::StrCat("the claim at ", Where(a.source()), " does not parse: ", s.message());
    }
    if (error.empty() && claim.claim_id != a.claim_id()) {
      error =
          absl::StrCat(Where(a.source()), " holds claim ", claim.claim_id, ", not ", a.claim_id());
    }
    if (!error.empty()) {
      ReplayError(a, std::move(error), csv, tally, lines);
    } else {
      ReplayOne(replayer, claim, a, csv, tally, lines);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReplayTally> ReplayKafka(const KafkaReplayOptions& options,
                                        const ledger::ProfileSet& profiles, std::ostream& out) {
  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  const ReplayOptions& ro = options.replay;
  const ledger::Profile* default_profile = profiles.Find(ro.default_profile);
  if (default_profile == nullptr)
    return absl::NotFoundError(absl::StrCat("no profile '", ro.default_profile, "'"));
  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> consumer =
      kafka::MakeConsumer(options.kafka, "");  // no group: nothing joined, nothing committed
  if (!consumer.ok()) return consumer.status();
  struct Closer {
    RdKafka::KafkaConsumer* c;
    ~Closer() { c->close(); }
  } closer{consumer->get()};

  // 1. The ledger, whole.
  absl::StatusOr<std::unique_ptr<ledger::LedgerHistory>> history =
      ledger::LedgerHistory::Create(&profiles, ro.default_profile);
  if (!history.ok()) return history.status();
  if (absl::Status s = ReadLedger(consumer->get(), options, history->get()); !s.ok()) return s;
  if (ro.progress != nullptr) {
    *ro.progress << JsonText({{"progress", "ledger"},
                              {"ledger_position", (*history)->position()},
                              {"versions", (*history)->versions()},
                              {"seconds", Fixed(seconds(), 1)}})
                 << "\n";
  }

  // 2. The audit records of the range, a window at a time (memory stays bounded by the window,
  // whatever the range), each window's claims fetched and re-decided in record order.
  AuditTopicOptions audit_options;
  audit_options.kafka = options.kafka;
  audit_options.topic = options.topics.audit;
  audit_options.from = options.from;
  audit_options.to = options.to;
  Replayer replayer(history->get(), &profiles, default_profile, ro.against);
  JsonLineReader json;
  ReplayTally tally;
  std::vector<v1::AuditRecord> window;
  std::string lines;
  if (ro.csv) lines = DifferenceCsvHeader() + "\n";
  auto flush_window = [&]() -> absl::Status {
    absl::Status s = ReplayWindow(consumer->get(), options, window, replayer, json, &tally, &lines);
    window.clear();
    out << lines;
    lines.clear();
    if (ro.progress != nullptr) {
      *ro.progress << JsonText({{"progress", "replay"},
                                {"replayed", tally.replayed()},
                                {"differ", tally.differ()},
                                {"seconds", Fixed(seconds(), 1)}})
                   << "\n";
    }
    return s;
  };
  absl::Status read = ReadAuditTopic(
      audit_options, [&](int32_t partition, int64_t offset, const v1::AuditRecord* record) {
        if (record == nullptr) {
          v1::AuditRecord unreadable;
          unreadable.mutable_source()->set_topic(options.topics.audit);
          unreadable.mutable_source()->set_partition(partition);
          unreadable.mutable_source()->set_offset(offset);
          ReplayError(unreadable, "the audit record does not parse", ro.csv, &tally, &lines);
          return absl::OkStatus();
        }
        window.push_back(*record);
        if (static_cast<int64_t>(window.size()) < options.window) return absl::OkStatus();
        return flush_window();
      });
  if (!read.ok()) return read;
  if (absl::Status s = flush_window(); !s.ok()) return s;
  return tally;
}

}  // namespace claimgate::gate
