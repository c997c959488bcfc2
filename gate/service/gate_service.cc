// The gate as a Kafka stream processor around BinaryDecider and the status store.
#include "gate/service/gate_service.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/codec.h"

namespace claimgate::gate {
namespace {

std::string Key(const std::string& topic, int32_t partition) {
  return absl::StrCat(topic, "/", partition);
}

// Stored beside the source positions: the ledger position of the newest status applied, so that
// audit records of a restarted gate cite it before any new status arrives.
constexpr char kLedgerPositionKey[] = "ledger-position";

absl::StatusOr<int> PartitionCount(RdKafka::Handle* handle, const std::string& topic) {
  std::string errstr;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(handle, topic, nullptr, errstr));
  if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", errstr));
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode err = handle->metadata(false, t.get(), &raw, 10000);
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (err != RdKafka::ERR_NO_ERROR)
    return kafka::ToStatus(err, absl::StrCat("metadata of ", topic));
  for (const RdKafka::TopicMetadata* tm : *md->topics()) {
    if (tm->topic() == topic && tm->err() == RdKafka::ERR_NO_ERROR) {
      return static_cast<int>(tm->partitions()->size());
    }
  }
  return absl::NotFoundError(absl::StrCat("topic ", topic, " not found"));
}

}  // namespace

GateService::~GateService() {
  if (claims_consumer_ != nullptr) claims_consumer_->close();
  if (status_consumer_ != nullptr) status_consumer_->close();
}

absl::StatusOr<std::unique_ptr<GateService>> GateService::Start(const GateServiceOptions& options,
                                                                const ledger::ProfileSet* profiles,
                                                                Clock* clock) {
  std::unique_ptr<GateService> g(new GateService());
  g->options_ = options;
  g->clock_ = clock;
  auto store = StatusStore::Open(options.store);
  if (!store.ok()) return store.status();
  g->store_ = std::move(*store);
  const ledger::Profile* profile = profiles->Find(options.default_profile);
  if (profile == nullptr)
    return absl::NotFoundError(absl::StrCat("unknown profile ", options.default_profile));
  DecisionContext ctx;
  ctx.profiles = profiles;
  ctx.default_profile = profile;
  ctx.shadow = options.shadow;
  ctx.gate_version = absl::StrCat("claimgate/", CLAIMGATE_VERSION_STRING);
  ctx.source.set_topic(options.topics.claims);
  g->decider_ = std::make_unique<BinaryDecider>(ctx);

  auto producer = kafka::TransactionalProducer::Create(options.kafka, options.transactional_id);
  if (!producer.ok()) return producer.status();
  g->producer_ = std::move(*producer);

  // The status feed: every partition of both status topics, from where the store stopped.
  auto status_consumer = kafka::MakeConsumer(options.kafka, "");
  if (!status_consumer.ok()) return status_consumer.status();
  g->status_consumer_ = std::move(*status_consumer);
  auto stored = g->store_->Positions();
  if (!stored.ok()) return stored.status();
  if (const auto it = stored->find(kLedgerPositionKey); it != stored->end())
    g->ledger_position_ = it->second;
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const std::string& topic :
       {options.topics.person_status, options.topics.institution_status}) {
    absl::StatusOr<int> n = PartitionCount(g->producer_->raw(), topic);
    if (!n.ok()) return n.status();
    for (int p = 0; p < *n; ++p) {
      const std::string key = Key(topic, p);
      const auto it = stored->find(key);
      const int64_t from = it == stored->end() ? RdKafka::Topic::OFFSET_BEGINNING : it->second;
      g->positions_[key] = it == stored->end() ? 0 : it->second;
      int64_t low = 0, high = 0;
      const RdKafka::ErrorCode err =
          g->producer_->raw()->query_watermark_offsets(topic, p, &low, &high, 10000);
      if (err != RdKafka::ERR_NO_ERROR)
        return kafka::ToStatus(err, absl::StrCat("watermarks of ", key));
      g->start_watermarks_[key] = high;
      assignment.push_back(RdKafka::TopicPartition::create(topic, p, from));
    }
  }
  g->status_consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);

  auto claims_consumer = kafka::MakeConsumer(options.kafka, options.group_id);
  if (!claims_consumer.ok()) return claims_consumer.status();
  g->claims_consumer_ = std::move(*claims_consumer);
  const RdKafka::ErrorCode err = g->claims_consumer_->subscribe({options.topics.claims});
  if (err != RdKafka::ERR_NO_ERROR) return kafka::ToStatus(err, "subscribing to claims");
  return g;
}

absl::Status GateService::PollStatusFeed(int timeout_ms) {
  StatusBatch batch;
  for (int wait = timeout_ms; batch.persons.size() + batch.institutions.size() < 5000; wait = 0) {
    std::unique_ptr<RdKafka::Message> m(status_consumer_->consume(wait));
    if (m->err() == RdKafka::ERR__TIMED_OUT) break;
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end_[Key(m->topic_name(), m->partition())] = true;
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR)
      return kafka::ToStatus(m->err(), "consuming the status feed");
    at_end_[Key(m->topic_name(), m->partition())] = false;
    const absl::string_view bytes(static_cast<const char*>(m->payload()), m->len());
    auto decode = [&](auto* record) {
      return options_.status_format == kafka::Format::kJson
                 ? google::protobuf::util::JsonStringToMessage(std::string(bytes), record).ok()
                 : record->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
    };
    bool ok = false;
    if (m->topic_name() == options_.topics.person_status) {
      ok = decode(&batch.persons.emplace_back());
      if (ok) ledger_position_ = std::max(ledger_position_, batch.persons.back().ledger_position());
      if (!ok) batch.persons.pop_back();
    } else {
      ok = decode(&batch.institutions.emplace_back());
      if (ok)
        ledger_position_ = std::max(ledger_position_, batch.institutions.back().ledger_position());
      if (!ok) batch.institutions.pop_back();
    }
    // An unreadable status record is skipped (its position still advances): the ledger republishes
    // the id's full timeline on its next change. Counted for the operators.
    if (!ok) ++stats_.status_unreadable;
    const std::string key = Key(m->topic_name(), m->partition());
    positions_[key] = m->offset() + 1;
    batch.positions[key] = m->offset() + 1;
  }
  if (!batch.positions.empty()) {
    batch.positions[kLedgerPositionKey] = ledger_position_;
    stats_.status_records += static_cast<int64_t>(batch.persons.size() + batch.institutions.size());
    if (absl::Status s = store_->Write(batch); !s.ok()) return s;
  }
  // Ready once caught up with what existed at start; current (not stale) while every partition is
  // at its end. A feed that keeps delivering without ever reaching its end, or stops answering,
  // ages.
  bool caught_up = true;
  for (const auto& [key, high] : start_watermarks_) caught_up &= positions_[key] >= high;
  if (caught_up && !ready_) {
    ready_ = true;
    last_caught_up_ = clock_->Now();
  }
  bool current = true;
  for (const auto& [key, high] : start_watermarks_) {
    const auto it = at_end_.find(key);
    current &= it != at_end_.end() ? it->second : high == 0;
  }
  if (current) last_caught_up_ = clock_->Now();
  return absl::OkStatus();
}

absl::Status GateService::RewindClaims() {
  std::vector<RdKafka::TopicPartition*> assignment;
  claims_consumer_->assignment(assignment);
  if (assignment.empty()) return absl::OkStatus();
  claims_consumer_->committed(assignment, 10000);
  for (RdKafka::TopicPartition* tp : assignment) {
    if (tp->offset() < 0) tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    claims_consumer_->seek(*tp, 5000);
  }
  RdKafka::TopicPartition::destroy(assignment);
  return absl::OkStatus();
}

absl::StatusOr<int> GateService::RunOnce(int timeout_ms) {
  if (absl::Status s = PollStatusFeed(ready_ ? 0 : timeout_ms); !s.ok()) return s;
  if (!ready_) return 0;

  std::vector<std::unique_ptr<RdKafka::Message>> batch;
  for (int wait = timeout_ms; static_cast<int>(batch.size()) < options_.max_batch; wait = 0) {
    std::unique_ptr<RdKafka::Message> m(claims_consumer_->consume(wait));
    if (m->err() == RdKafka::ERR__TIMED_OUT) break;
    if (m->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR) return kafka::ToStatus(m->err(), "consuming claims");
    batch.push_back(std::move(m));
  }
  if (batch.empty()) return 0;

  if (absl::Status s = producer_->Begin(); !s.ok()) return s;
  const kafka::Topics& t = options_.topics;
  std::string decision, audit, converted;
  std::map<std::pair<std::string, int32_t>, int64_t> next;
  const absl::Time now = clock_->Now();
  decider_->context().status_stale = now - last_caught_up_ > options_.staleness_bound;
  absl::Status failed;
  for (const auto& m : batch) {
    next[{m->topic_name(), m->partition()}] = m->offset() + 1;
    absl::string_view bytes(static_cast<const char*>(m->payload()), m->len());
    absl::Status decided;
    if (options_.input_format == kafka::Format::kJson) {
      v1::Event e;
      decided = ledger::ParseEventJson(bytes, &e);
      if (decided.ok()) {
        converted = e.SerializeAsString();
        bytes = converted;
      }
    }
    decider_->context().source.set_partition(m->partition());
    decider_->context().source.set_offset(m->offset());
    if (decided.ok())
      decided = decider_->Decide(bytes, *store_, ledger_position_, now, &decision, &audit);
    if (absl::IsInvalidArgument(decided)) {
      ++stats_.dead_lettered;
      failed = producer_->Produce(
          t.dlq, absl::string_view(m->key() ? *m->key() : std::string()),
          absl::string_view(static_cast<const char*>(m->payload()), m->len()),
          {{"error", "MALFORMED"},
           {"error_message", std::string(decided.message())},
           {"source", absl::StrCat(m->topic_name(), "/", m->partition(), "@", m->offset())}});
    } else if (!decided.ok()) {
      failed = decided;  // the store could not be read: give the batch back
    } else {
      const std::string claim_id(decider_->last_claim().claim_id);
      if (options_.output_format == kafka::Format::kJson) {
        v1::Decision d;
        d.ParseFromString(decision);
        v1::AuditRecord a;
        a.ParseFromString(audit);
        decision = ledger::ToJson(d);
        audit = ledger::ToJson(a);
      }
      failed = producer_->Produce(t.decisions, claim_id, decision);
      if (failed.ok()) failed = producer_->Produce(t.audit, claim_id, audit);
      if (failed.ok()) {
        ++stats_.decided;
        const DecisionResult& result = decider_->last_result();
        ++stats_.outcomes[v1::Decision::Outcome_Name(result.outcome)];
        for (size_t i = 0; i < result.reasons.size(); ++i) {
          bool first = true;  // count a code once a claim
          for (size_t j = 0; j < i; ++j) first &= result.reasons[j].code != result.reasons[i].code;
          if (first) ++stats_.reasons[v1::ReasonCode_Name(result.reasons[i].code)];
        }
      }
    }
    if (!failed.ok()) break;
  }
  if (!failed.ok()) {
    (void)producer_->Abort();
    ++stats_.aborted;
    if (absl::IsFailedPrecondition(failed)) return failed;
    if (absl::Status s = RewindClaims(); !s.ok()) return s;
    return 0;
  }
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [tp, offset] : next) {
    offsets.push_back(RdKafka::TopicPartition::create(tp.first, tp.second, offset));
  }
  absl::Status committed = producer_->Commit(offsets, claims_consumer_.get());
  RdKafka::TopicPartition::destroy(offsets);
  if (absl::IsAborted(committed)) {
    ++stats_.aborted;
    if (absl::Status s = RewindClaims(); !s.ok()) return s;
    return 0;
  }
  if (!committed.ok()) return committed;
  ++stats_.transactions;
  if (options_.record_latency) {
    const int64_t now_ms = absl::ToUnixMillis(absl::Now());
    for (const auto& m : batch) {
      const RdKafka::MessageTimestamp ts = m->timestamp();
      if (ts.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) {
        stats_.latencies_ms.push_back(static_cast<double>(now_ms - ts.timestamp));
      }
    }
  }
  return static_cast<int>(batch.size());
}

absl::Status GateService::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    absl::StatusOr<int> n = RunOnce(200);
    if (!n.ok()) return n.status();
  }
  return absl::OkStatus();
}

}  // namespace claimgate::gate
