// The gate as a Kafka stream processor around BinaryDecider and the status store.
#include "gate/service/gate_service.h"

#include <array>
#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "librdkafka/rdkafka.h"
#include "gate/service/kafka_output_tail.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "ledger/strict_json.h"

namespace claimgate::gate {
namespace {

std::string Key(const std::string& topic, int32_t partition) {
  return absl::StrCat(topic, "/", partition);
}

// The topic and partition of a Key().
std::pair<std::string, int32_t> SplitKey(const std::string& key) {
  const size_t slash = key.rfind('/');
  return {key.substr(0, slash), std::stoi(key.substr(slash + 1))};
}

// Stored beside the source positions: the ledger position of the newest status applied, so that
// audit records of a restarted gate cite it before any new status arrives.
constexpr char kLedgerPositionKey[] = "ledger-position";

}  // namespace

// One transaction's work: the claims, their outputs so far, what to count once it commits.
struct GateService::Batch {
  // Decisions wait until the batch's audit records are acknowledged (see the header comment).
  // Their keys and values lie one after another in `pending`.
  struct PendingDecision {
    size_t index;  // of the claim in `claims`
    size_t key_at, key_size, value_size;  // the value follows the key
  };
  kafka::TransactionalProducer* producer = nullptr;  // the loop's, with the open transaction
  std::vector<std::unique_ptr<RdKafka::Message>> claims;
  kafka::NextOffsets next;                                  // offsets to commit
  std::map<int32_t, int64_t> start;                         // partition -> first offset in it
  std::map<int32_t, int64_t> last;                          // partition -> last offset handled
  std::vector<PendingDecision> decisions;
  std::string pending;
  GateServiceStats delta;  // merged once the transaction commits
  absl::Time now;
  // Duplicate codes: what each claim asked the code owners (by claim index; empty when nothing
  // was asked), the requests of the ask transaction and their answers by request number.
  struct Asked {
    std::vector<std::pair<std::string, int32_t>> checks;  // code, request number
    bool settles = false;  // the owners were told to settle the codes for the claim
    int32_t reverse = -1;  // a reversal's request number
  };
  std::vector<Asked> asked;
  std::vector<v1::CodeRequest> requests;
  std::map<int32_t, v1::CodeAnswer> answers;
  std::string attempt;
  absl::flat_hash_set<std::string> claim_ids;  // the batch's claims (while planning)
  // Claims decided in this batch -> the codes they settled: a reversal later in the batch
  // releases them without asking.
  absl::flat_hash_map<std::string, std::vector<std::string>> decided;
  std::string decision, audit;  // scratch
  // JSON input: each claim's Protobuf bytes, converted once (planning and deciding both read them).
  std::vector<std::string> converted;

  // The headers every output of claim `index` carries: where it came from, and its batch's start.
  // They view the batch's scratch: valid until the next call.
  std::array<kafka::TransactionalProducer::Header, 2> SourceHeaders(size_t index) {
    RdKafka::Message& m = *claims[index];  // c_ptr() is not const
    source.clear();
    absl::StrAppend(&source, rd_kafka_topic_name(m.c_ptr()->rkt), "/", m.partition(), "@",
                    m.offset());
    batch_start.clear();
    absl::StrAppend(&batch_start, start.at(m.partition()));
    return {{{"source", source}, {"batch_start", batch_start}}};
  }
  void AddPending(size_t index, absl::string_view key, absl::string_view value) {
    decisions.push_back({index, pending.size(), key.size(), value.size()});
    absl::StrAppend(&pending, key, value);
  }
  absl::string_view Key(const PendingDecision& d) const {
    return absl::string_view(pending).substr(d.key_at, d.key_size);
  }
  absl::string_view Value(const PendingDecision& d) const {
    return absl::string_view(pending).substr(d.key_at + d.key_size, d.value_size);
  }
  // Empty for the next transaction. The buffers a batch fills claim by claim keep their capacity:
  // regrown from nothing each transaction, their large reallocations showed in glibc's
  // malloc_consolidate on the gate's thread.
  void Reset() {
    Batch fresh;
    fresh.claims = std::move(claims);
    fresh.claims.clear();  // the messages go now, as they did with the batch
    fresh.decisions = std::move(decisions);
    fresh.decisions.clear();
    fresh.pending = std::move(pending);
    fresh.pending.clear();
    fresh.decision = std::move(decision);
    fresh.audit = std::move(audit);
    fresh.source = std::move(source);
    fresh.batch_start = std::move(batch_start);
    *this = std::move(fresh);
  }

 private:
  std::string source, batch_start;  // SourceHeaders' scratch
};

namespace {

// Whether `bytes` (of a message that is not a claim event) hold a valid claim_reversed event: the
// other body `claims` carries.
bool ParseReversal(absl::string_view bytes, v1::Event* event) {
  return event->ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) &&
         event->has_claim_reversed() && ledger::ValidateEvent(*event).ok();
}

}  // namespace

// The owners' answers for one claim: the claims that settled its codes before.
class GateService::Answers final : public CodeLookup {
 public:
  void Clear() { codes_.clear(); }
  void Set(const std::string& code, const v1::CodeAnswer::Settler& s) {
    codes_[code] = SettledCode{s.claim_id(), s.institution_id(), ledger::FromProto(s.service_time()),
                               ledger::FromProto(s.expires())};
  }
  const SettledCode* FindSettled(absl::string_view code) const override {
    const auto it = codes_.find(code);
    return it == codes_.end() ? nullptr : &it->second;
  }

 private:
  absl::flat_hash_map<std::string, SettledCode> codes_;
};

void GateService::Rebalancer::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                           std::vector<RdKafka::TopicPartition*>& partitions) {
  ++gate_->generation_;
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    if (absl::Status s = gate_->PlanResume(partitions); !s.ok()) {
      // An assignment that arrives while the process stops fails as its client closes: that is
      // the stop, not an error to page anyone for.
      const bool stopping = gate_->options_.stop != nullptr && gate_->options_.stop->load();
      if (gate_->options_.log != nullptr)
        *gate_->options_.log << "claimgate gate: "
                             << (stopping ? "stopping: " : "error: ")
                             << "recovery after assignment failed: " << s << "\n";
      gate_->rebalance_error_ = s;
    }
    consumer->assign(partitions);
  } else {
    gate_->LogChainHeads("partitions revoked");
    for (const RdKafka::TopicPartition* tp : partitions) {
      const int32_t p = tp->partition();
      gate_->written_.Erase(p);
      gate_->chains_.erase(p);
      gate_->claims_position_.erase(p);
      if (gate_->claims_lag_ != nullptr) gate_->claims_lag_->Forget(tp->topic(), p);
      gate_->isolation_.erase(gate_->isolation_.lower_bound({p, 0}),
                              gate_->isolation_.lower_bound({p + 1, 0}));
    }
    consumer->unassign();
  }
}

GateService::~GateService() {
  batch_.reset();  // its messages go before the consumer that read them
  if (watch_.joinable()) {
    {
      absl::MutexLock lock(&watch_mu_);
      watch_stop_ = true;
    }
    watch_.join();
  }
  claims_lag_.reset();
  status_lag_.reset();
  if (results_consumer_ != nullptr) results_consumer_->close();
  if (claims_consumer_ != nullptr) claims_consumer_->close();
  if (status_consumer_ != nullptr) status_consumer_->close();
}

absl::StatusOr<std::unique_ptr<GateService>> GateService::Start(const GateServiceOptions& options,
                                                                const ledger::ProfileSet* profiles,
                                                                Clock* clock) {
  if (options.max_claim_bytes < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("gate.max_claim_bytes must be at least 1, not ", options.max_claim_bytes));
  }
  std::unique_ptr<GateService> g(new GateService());
  g->options_ = options;
  g->clock_ = clock;
  g->started_ = clock->Now();
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

  auto loop = kafka::StreamLoop::Start(LoopOptions(options, clock));
  if (!loop.ok()) return loop.status();
  g->loop_ = std::move(*loop);
  g->batch_ = std::make_unique<Batch>();
  if (absl::Status s = g->StartStatusFeed(); !s.ok()) return s;
  if (absl::Status s = g->StartRecovery(); !s.ok()) return s;

  g->answers_ = std::make_unique<Answers>();
  if (options.duplicate_codes) {
    absl::StatusOr<int> n = kafka::PartitionCount(g->loop_->producer().raw(),
                                                  options.topics.code_checks);
    if (!n.ok()) return n.status();
    g->code_checks_partitions_ = *n;
    auto results = kafka::MakeConsumer(options.kafka, "");
    if (!results.ok()) return results.status();
    g->results_consumer_ = std::move(*results);
    g->attempt_prefix_ =
        absl::StrCat(options.transactional_id, "/", absl::ToUnixNanos(absl::Now()));
  }

  g->rebalancer_ = std::make_unique<Rebalancer>(g.get());
  auto claims_consumer = kafka::MakeConsumer(options.kafka, options.group_id, g->rebalancer_.get());
  if (!claims_consumer.ok()) return claims_consumer.status();
  g->claims_consumer_ = std::move(*claims_consumer);
  if (options.lag != nullptr)
    g->claims_lag_ = options.lag->Track(options.group_id, g->claims_consumer_.get());
  const RdKafka::ErrorCode err = g->claims_consumer_->subscribe({options.topics.claims});
  if (err != RdKafka::ERR_NO_ERROR) return kafka::ToStatus(err, "subscribing to claims");
  return g;
}

kafka::StreamLoopOptions GateService::LoopOptions(const GateServiceOptions& options,
                                                  Clock* clock) {
  kafka::StreamLoopOptions o;
  o.kafka = options.kafka;
  o.transactional_id = options.transactional_id;
  o.stop = options.stop;
  o.retry = true;
  o.stall_aborts = options.stall_aborts;
  o.stall_after = options.stall_after;
  o.retry_backoff_max = options.retry_backoff_max;
  o.now = [clock] { return clock->Now(); };
  o.log = options.log;
  o.log_prefix = "claimgate gate: ";
  o.unit = "claims";
  return o;
}

absl::Status GateService::StartStatusFeed() {
  // Every partition of both status topics, from where the store stopped.
  auto status_consumer = kafka::MakeConsumer(options_.kafka, "");
  if (!status_consumer.ok()) return status_consumer.status();
  status_consumer_ = std::move(*status_consumer);
  auto stored = store_->Positions();
  if (!stored.ok()) return stored.status();
  if (const auto it = stored->find(kLedgerPositionKey); it != stored->end())
    ledger_position_ = it->second;
  RdKafka::Producer* client = loop_->producer().raw();
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const std::string& topic : {options_.topics.person_status,
                                    options_.topics.institution_status,
                                    options_.topics.insured_status}) {
    absl::StatusOr<int> n = kafka::PartitionCount(client, topic);
    if (!n.ok()) return n.status();
    for (int p = 0; p < *n; ++p) {
      const std::string key = Key(topic, p);
      const auto it = stored->find(key);
      const int64_t from = it == stored->end() ? RdKafka::Topic::OFFSET_BEGINNING : it->second;
      positions_[key] = it == stored->end() ? 0 : it->second;
      int64_t low = 0, high = 0;
      if (absl::Status s = kafka::QueryWatermarks(client, topic, p, &low, &high, 30000); !s.ok())
        return s;
      start_watermarks_[key] = high;
      assignment.push_back(RdKafka::TopicPartition::create(topic, p, from));
    }
  }
  status_consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (options_.lag != nullptr) {
    status_lag_ = options_.lag->Track(options_.group_id, status_consumer_.get());
    ReportStatusPositions();
  }
  watch_ = std::thread([this] { WatchFeed(); });
  return absl::OkStatus();
}

absl::Status GateService::PollStatusFeed(int timeout_ms) {
  StatusBatch batch;
  for (int wait = timeout_ms;
       batch.persons.size() + batch.institutions.size() + batch.insured.size() < 5000; wait = 0) {
    std::unique_ptr<RdKafka::Message> m(status_consumer_->consume(wait));
    if (m->err() == RdKafka::ERR__TIMED_OUT) break;
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      // At the end: past the last record and the transaction markers after it, which a
      // read_committed consumer never returns but the high watermark counts (Apache Kafka).
      const std::string key = Key(m->topic_name(), m->partition());
      if (m->offset() > positions_[key]) positions_[key] = batch.positions[key] = m->offset();
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (absl::Status s = ConsumerError(*m, "the status feed"); !s.ok()) return s;
      break;
    }
    const absl::string_view bytes(static_cast<const char*>(m->payload()), m->len());
    // Reads the record onto the end of `records`; an unreadable one is taken off again.
    auto decode_into = [&](auto& records) {
      auto* record = &records.emplace_back();
      const bool ok =
          options_.status_format == kafka::Format::kJson
              ? ledger::ParseStrictJson(bytes, record, /*ignore_unknown_fields=*/false).ok()
              : record->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
      if (ok) {
        ledger_position_ = std::max(ledger_position_, record->ledger_position());
      } else {
        records.pop_back();
      }
      return ok;
    };
    const bool ok = m->topic_name() == options_.topics.person_status ? decode_into(batch.persons)
                    : m->topic_name() == options_.topics.institution_status
                        ? decode_into(batch.institutions)
                        : decode_into(batch.insured);
    // An unreadable status record is skipped (its position still advances): the ledger republishes
    // the id's full timeline on its next change. Counted for the operators.
    if (!ok) ++stats_.status_unreadable;
    const std::string key = Key(m->topic_name(), m->partition());
    positions_[key] = m->offset() + 1;
    batch.positions[key] = m->offset() + 1;
  }
  if (!batch.positions.empty()) {
    batch.positions[kLedgerPositionKey] = ledger_position_;
    const auto applied = static_cast<int64_t>(batch.persons.size() + batch.institutions.size() +
                                              batch.insured.size());
    stats_.status_records += applied;
    if (options_.metrics != nullptr) options_.metrics->status_records.Increment(applied);
    if (absl::Status s = store_->Write(batch); !s.ok()) return s;
    ReportStatusPositions();
  }
  // Ready once caught up with what existed at start. Current (not stale) as of the last time the
  // feed watch read every partition's high watermark and the gate had consumed up to them: a feed
  // that lags, or whose brokers stop answering, ages.
  bool caught_up = true;
  for (const auto& [key, high] : start_watermarks_) caught_up &= positions_[key] >= high;
  if (caught_up && !ready_) {
    ready_ = true;
    last_caught_up_ = clock_->Now();
  }
  std::map<std::string, int64_t> highs;
  absl::Time verified_at;
  {
    absl::MutexLock lock(&watch_mu_);
    highs = watched_highs_;
    verified_at = watched_at_;
  }
  if (!highs.empty()) {
    bool current = true;
    for (const auto& [key, high] : highs) current &= positions_[key] >= high;
    if (current && verified_at > last_caught_up_) last_caught_up_ = verified_at;
  }
  return absl::OkStatus();
}

void GateService::WatchFeed() {
  absl::MutexLock lock(&watch_mu_);
  while (!watch_stop_) {
    const absl::Time at = clock_->Now();
    std::map<std::string, int64_t> highs;
    bool ok = true;
    watch_mu_.Unlock();
    for (const auto& [key, unused] : start_watermarks_) {
      const auto [topic, partition] = SplitKey(key);
      int64_t low = 0, high = 0;
      // Through the status consumer's handle (librdkafka handles are thread-safe); not the
      // producer's, which the stream loop may replace.
      ok = ok && status_consumer_->query_watermark_offsets(topic, partition, &low, &high, 1000) ==
                     RdKafka::ERR_NO_ERROR;
      highs[key] = high;
    }
    watch_mu_.Lock();
    if (ok) {
      watched_highs_ = std::move(highs);
      watched_at_ = at;
    }
    watch_mu_.AwaitWithTimeout(absl::Condition(&watch_stop_), absl::Seconds(1));
  }
}

absl::Status GateService::ConsumerError(const RdKafka::Message& m, absl::string_view what) {
  // Only a fatal error is the process's end; librdkafka recovers from the others (a broker down,
  // a transport error) by itself, and they are logged when they change.
  if (m.err() == RdKafka::ERR__FATAL)
    return kafka::ToStatus(m.err(), absl::StrCat("consuming ", what));
  if (options_.log != nullptr && m.err() != last_consumer_error_)
    *options_.log << "claimgate gate: warning: consuming " << what << ": " << m.errstr() << "\n";
  last_consumer_error_ = m.err();
  return absl::OkStatus();
}

absl::Status GateService::StartRecovery() {
  const kafka::Topics& t = options_.topics;
  std::map<std::string, int> counts;
  std::vector<std::string> outputs = {t.decisions, t.audit, t.dlq};
  if (options_.duplicate_codes) outputs.push_back(t.code_results);
  for (const std::string& topic : outputs) {
    absl::StatusOr<int> n = kafka::PartitionCount(loop_->producer().raw(), topic);
    if (!n.ok()) return n.status();
    counts[topic] = *n;
  }
  outputs_ = OutputPartitions(std::move(counts));
  recovery_.claims_topic = t.claims;
  recovery_.audit_topic = t.audit;
  recovery_.decisions_topic = t.decisions;
  recovery_.dlq_topic = t.dlq;
  recovery_.output_format = options_.output_format;
  recovery_.window = std::max<int64_t>(1000, 4LL * options_.max_batch);
  // Watermarks from the transactional producer of the moment (ReplaceProducer swaps it).
  auto tail = KafkaOutputTail::Create(options_.kafka, [this] { return loop_->producer().raw(); });
  if (!tail.ok()) return tail.status();
  tail_ = std::move(*tail);
  return absl::OkStatus();
}

absl::Status GateService::PlanResume(std::vector<RdKafka::TopicPartition*>& partitions) {
  if (partitions.empty()) return absl::OkStatus();
  if (absl::Status s = kafka::CommittedOffsets(claims_consumer_.get(), partitions, 30000,
                                               "committed offsets of claims");
      !s.ok()) {
    return s;
  }
  for (RdKafka::TopicPartition* tp : partitions) {
    const int32_t p = tp->partition();
    const int64_t committed = tp->offset() >= 0 ? tp->offset() : -1;
    written_.Erase(p);
    absl::StatusOr<PartitionRecovery> r =
        RecoverPartition(*tail_, outputs_, recovery_, p, committed);
    if (!r.ok()) return r.status();
    chains_[p] = r->chain;
    const int64_t resume = r->resume;
    written_.Set(p, *std::move(r));
    tp->set_offset(resume >= 0 ? resume : RdKafka::Topic::OFFSET_INVALID);
    claims_position_[p] = ledger::LagPosition(resume);
    ReportClaimsPosition(p);
    if (options_.log != nullptr) {
      *options_.log << "claimgate gate: " << Key(tp->topic(), p) << " resumes at "
                    << (resume >= 0 ? absl::StrCat(resume) : "the reset policy") << " (committed "
                    << committed << ", " << written_.Count(p) << " claims with outputs to check)\n";
    }
  }
  return absl::OkStatus();
}

absl::Status GateService::Rewind() {
  held_.reset();  // re-read from the resume point like the rest
  std::vector<RdKafka::TopicPartition*> assignment;
  claims_consumer_->assignment(assignment);
  absl::Status s = PlanResume(assignment);
  for (RdKafka::TopicPartition* tp : assignment) {
    if (!s.ok()) break;
    if (tp->offset() < 0) tp->set_offset(RdKafka::Topic::OFFSET_BEGINNING);
    const RdKafka::ErrorCode err = claims_consumer_->seek(*tp, 5000);
    if (err != RdKafka::ERR_NO_ERROR) s = kafka::ToStatus(err, "rewinding claims");
  }
  RdKafka::TopicPartition::destroy(assignment);
  return s;
}

void GateService::PublishGauges() {
  if (options_.metrics == nullptr) return;
  const absl::Time now = clock_->Now();
  if (now - gauges_published_ < absl::Seconds(1)) return;
  gauges_published_ = now;
  GateMetrics& mx = *options_.metrics;
  mx.ready.Set(ready() ? 1 : 0);
  const absl::Time since = last_caught_up_ == absl::InfinitePast() ? started_ : last_caught_up_;
  mx.staleness.Set(std::max(0.0, absl::ToDoubleSeconds(now - since)));
  mx.feed_confirmed.Set(absl::ToDoubleSeconds(since - absl::UnixEpoch()));
  const StatusStoreStats st = store_->stats();
  const uint64_t hits = st.persons.hits + st.institutions.hits;
  const uint64_t misses = st.persons.misses + st.institutions.misses;
  mx.hot_tier_lookups.Add({{"result", "hit"}})
      .Increment(static_cast<double>(hits - hot_hits_seen_));
  mx.hot_tier_lookups.Add({{"result", "miss"}})
      .Increment(static_cast<double>(misses - hot_misses_seen_));
  hot_hits_seen_ = hits;
  hot_misses_seen_ = misses;
  mx.hot_tier_bytes.Set(static_cast<double>(st.persons.bytes + st.institutions.bytes));
  mx.persons.Set(static_cast<double>(store_->ApproximatePersons()));
  mx.insured.Set(static_cast<double>(store_->InsuredCount()));
  mx.institutions.Set(static_cast<double>(store_->ApproximateInstitutions()));
}

void GateService::ReportClaimsPosition(int32_t p) {
  if (claims_lag_ != nullptr)
    claims_lag_->Set(options_.topics.claims, p, claims_position_[p].next());
}

void GateService::ReportStatusPositions() {
  if (status_lag_ == nullptr) return;
  for (const auto& [key, next] : positions_) {
    const auto [topic, partition] = SplitKey(key);
    status_lag_->Set(topic, partition, next);
  }
}

const GateService::Isolation* GateService::FindIsolation(int32_t partition, int64_t offset) const {
  const auto it = isolation_.find({partition, offset});
  return it == isolation_.end() ? nullptr : &it->second;
}

absl::Status GateService::ConsumeBatch(int timeout_ms,
                                       std::vector<std::unique_ptr<RdKafka::Message>>* batch) {
  if (held_ != nullptr) {
    // Held back from the last batch to be retried alone; after a rebalance, re-read instead.
    if (held_generation_ == generation_) {
      batch->push_back(std::move(held_));
      return absl::OkStatus();
    }
    held_.reset();
  }
  // The linger is real time (a wait on the consumer), measured on the steady clock.
  const auto linger_until = std::chrono::steady_clock::now() +
                            absl::ToChronoMilliseconds(options_.batch_linger);
  const auto lingering = [&] {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        linger_until - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  };
  for (int wait = timeout_ms; static_cast<int>(batch->size()) < options_.max_batch;
       wait = lingering()) {
    const int generation = generation_;
    std::unique_ptr<RdKafka::Message> m(claims_consumer_->consume(wait));
    if (generation != generation_) batch->clear();  // a rebalance: those partitions moved
    if (m->err() == RdKafka::ERR__TIMED_OUT) break;
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      claims_position_[m->partition()].End(m->offset());
      ReportClaimsPosition(m->partition());
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (absl::Status s = ConsumerError(*m, "claims"); !s.ok()) return s;
      break;
    }
    claims_position_[m->partition()].Returned(m->offset());
    const Isolation* iso = FindIsolation(m->partition(), m->offset());
    if (iso != nullptr && iso->alone) {
      // Next in a batch of its own: what the broker refuses then is this claim's alone.
      if (batch->empty()) {
        batch->push_back(std::move(m));
      } else {
        held_ = std::move(m);
        held_generation_ = generation_;
      }
      break;
    }
    batch->push_back(std::move(m));
  }
  return absl::OkStatus();
}

absl::Status GateService::DeadLetter(size_t index, absl::string_view error,
                                     absl::string_view message, Batch* b) {
  const RdKafka::Message& m = *b->claims[index];
  const absl::string_view value(static_cast<const char*>(m.payload()), m.len());
  const absl::string_view key = m.key() != nullptr ? absl::string_view(*m.key()) : "";
  const Isolation* iso = FindIsolation(m.partition(), m.offset());
  // The claim whole when the topic takes it; else the first 64 KiB, else no value at all. The
  // digest, the size and the source (its offset in claims) find the original.
  constexpr size_t kExcerpt = 64 << 10, kKeyExcerpt = 1 << 10, kMessageExcerpt = 4 << 10;
  absl::Status s;
  for (int level = iso != nullptr ? iso->dead_letter_level : 0; level <= 2; ++level) {
    std::vector<std::pair<std::string, std::string>> headers = {
        {"error", std::string(error)},
        {"error_message", std::string(message.substr(0, kMessageExcerpt))},
        {"original_bytes", absl::StrCat(value.size())},
        {"original_sha256", ledger::Sha256Hex(value)}};
    absl::string_view sent = value, sent_key = key;
    if (level > 0) {
      sent = value.substr(0, level == 1 ? kExcerpt : 0);
      sent_key = key.substr(0, kKeyExcerpt);
      headers.emplace_back("excerpt_bytes", absl::StrCat(sent.size()));
    }
    for (const auto& [k, v] : b->SourceHeaders(index)) headers.emplace_back(k, v);
    std::vector<kafka::TransactionalProducer::Header> views(headers.begin(), headers.end());
    s = b->producer->Produce(options_.topics.dlq, sent_key, sent, views,
                             outputs_.For(options_.topics.dlq, m.partition()),
                             static_cast<int64_t>(index));
    if (!absl::IsResourceExhausted(s)) break;
  }
  if (!s.ok()) return s;
  ++b->delta.dead_lettered;
  ++b->delta.dead_letters[std::string(error)];
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> GateService::ClaimBytes(size_t index, Batch* b) {
  const RdKafka::Message& m = *b->claims[index];
  const absl::string_view bytes(static_cast<const char*>(m.payload()), m.len());
  if (static_cast<int64_t>(bytes.size()) > options_.max_claim_bytes) {
    return absl::OutOfRangeError(absl::StrCat("a claim of ", bytes.size(),
                                              " bytes; gate.max_claim_bytes is ",
                                              options_.max_claim_bytes));
  }
  if (options_.input_format != kafka::Format::kJson) return bytes;
  b->converted.resize(b->claims.size());
  std::string& converted = b->converted[index];
  if (!converted.empty()) return absl::string_view(converted);  // a valid event is never empty
  v1::Event e;
  if (absl::Status s = ledger::ParseEventJson(bytes, &e); !s.ok()) return s;
  converted = e.SerializeAsString();
  return absl::string_view(converted);
}

absl::Status GateService::DecideClaim(size_t index, Batch* b) {
  const RdKafka::Message& m = *b->claims[index];
  const int32_t partition = m.partition();
  absl::StatusOr<absl::string_view> bytes = ClaimBytes(index, b);
  if (absl::IsOutOfRange(bytes.status()))
    return DeadLetter(index, kClaimTooLarge, bytes.status().message(), b);
  absl::Status decided = bytes.status();
  decider_->context().source.set_partition(partition);
  decider_->context().source.set_offset(m.offset());
  if (decided.ok()) {
    if (options_.duplicate_codes) {
      SetAnswers(index, *b);
      decider_->context().codes = answers_.get();
    }
    const auto d0 = std::chrono::steady_clock::now();
    decided = decider_->Decide(*bytes, *store_, ledger_position_, b->now, &b->decision, &b->audit);
    if (options_.metrics != nullptr) {
      options_.metrics->decision_duration.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count());
    }
  }
  if (absl::IsInvalidArgument(decided)) {
    // Not a claim: with duplicate codes, perhaps a reversal.
    v1::Event e;
    if (options_.duplicate_codes && bytes.ok() && ParseReversal(*bytes, &e))
      return ReverseClaim(index, e, b);
    return DeadLetter(index, kMalformed, decided.message(), b);
  }
  if (!decided.ok()) return decided;  // the store could not be read: give the batch back
  absl::StatusOr<bool> emitted = EmitDecision(index, decider_->last_claim().claim_id, b);
  if (!emitted.ok() || !*emitted) return emitted.status();
  const DecisionResult& result = decider_->last_result();
  CountDecision(result.outcome, result.reasons, &b->delta.outcomes, &b->delta.reasons);
  return RecordClaim(index, b);
}

absl::StatusOr<bool> GateService::EmitDecision(size_t index, absl::string_view claim_id,
                                               Batch* b) {
  const RdKafka::Message& m = *b->claims[index];
  const int32_t partition = m.partition();
  ChainHead& chain = chains_[partition];
  const ChainHead before = chain;
  ChainEncodedAudit(&b->audit, &chain);
  if (options_.output_format == kafka::Format::kJson) {
    v1::Decision d;
    d.ParseFromString(b->decision);
    v1::AuditRecord a;
    a.ParseFromString(b->audit);
    b->decision = ledger::ToJson(d);
    b->audit = ledger::ToJson(a);
  }
  const kafka::Topics& t = options_.topics;
  absl::Status s = b->producer->Produce(t.audit, claim_id, b->audit, b->SourceHeaders(index),
                                        outputs_.For(t.audit, partition),
                                        static_cast<int64_t>(index));
  if (absl::IsResourceExhausted(s)) {
    chain = before;  // nothing was written: the chain goes on from the record before
    if (absl::Status d = DeadLetter(index, kOutputTooLarge, s.message(), b); !d.ok()) return d;
    return false;
  }
  if (!s.ok()) return s;
  const Written* written = written_.Find(partition, m.offset());
  // A decision without its audit record (written by an older gate) keeps its decision.
  if (written == nullptr || !written->decision)
    b->AddPending(index, claim_id, b->decision);
  ++b->delta.decided;
  return true;
}

absl::Status GateService::Request(v1::CodeRequest& r, Batch* b) {
  const bool by_code =
      r.kind() == v1::CodeRequest::CHECK || r.kind() == v1::CodeRequest::RELEASE;
  const std::string& key = by_code ? r.code() : r.claim_id();
  const int32_t partition = by_code ? CodeOwnerPartition(key, code_checks_partitions_)
                                    : ClaimOwnerPartition(key, code_checks_partitions_);
  absl::Status s = b->producer->Produce(options_.topics.code_checks, key, r.SerializeAsString(), {},
                                        partition);
  if (s.ok()) ++b->delta.owner_requests;
  return s;
}

absl::Status GateService::PlanRequests(size_t index, Batch* b) {
  absl::StatusOr<absl::string_view> bytes = ClaimBytes(index, b);
  if (!bytes.ok()) return absl::OkStatus();  // dead-lettered when decided
  const int32_t reply = outputs_.For(options_.topics.code_results, b->claims[index]->partition());
  Batch::Asked& asked = b->asked[index];
  if (!ParseClaimEvent(*bytes, &plan_view_).ok()) {
    v1::Event e;
    if (!ParseReversal(*bytes, &e)) return absl::OkStatus();
    // A claim decided earlier in this batch is reversed without asking (ReverseClaim).
    if (b->claim_ids.contains(e.claim_reversed().claim_id())) return absl::OkStatus();
    v1::CodeRequest& r = b->requests.emplace_back();
    r.set_kind(v1::CodeRequest::REVERSE);
    r.set_claim_id(e.claim_reversed().claim_id());
    r.set_reply_partition(reply);
    asked.reverse = static_cast<int32_t>(b->requests.size() - 1);
    return absl::OkStatus();
  }
  b->claim_ids.emplace(plan_view_.claim_id);
  if (plan_view_.kind != v1::Claim::SETTLEMENT) return absl::OkStatus();
  // The decision without the owners' answers says whether the claim has codes to check and
  // whether it is paid (then its codes are settled by it); nothing changes the status store
  // before the batch is decided for good.
  if (absl::Status s = store_->Resolve(plan_view_); !s.ok()) return s;
  DecisionContext& ctx = decider_->context();
  answers_->Clear();
  ctx.codes = answers_.get();
  ctx.ledger_position = ledger_position_;
  ctx.processing_time = b->now;
  DecideView(plan_view_, *store_, ctx, &plan_result_);
  if (!plan_result_.codes_checked || plan_result_.profile == nullptr) return absl::OkStatus();
  const ledger::Profile& profile = *plan_result_.profile;
  asked.settles = IsPaid(plan_result_.outcome);
  const absl::Time expires = ExpiryOf(plan_view_, profile);
  absl::flat_hash_set<absl::string_view> seen;
  for (const ClaimView::Item& item : plan_view_.items) {
    for (absl::string_view code : item.traceability_codes) {
      if (!CodeSettles(plan_view_, item, code, profile) || !seen.insert(code).second) continue;
      v1::CodeRequest& r = b->requests.emplace_back();
      r.set_kind(v1::CodeRequest::CHECK);
      r.set_claim_id(std::string(plan_view_.claim_id));
      r.set_code(std::string(code));
      r.set_institution_id(std::string(plan_view_.institution_id));
      ledger::SetProto(plan_view_.service_time, r.mutable_service_time());
      ledger::SetProto(expires, r.mutable_expires());
      r.set_settles(asked.settles);
      r.set_reply_partition(reply);
      asked.checks.emplace_back(std::string(code), static_cast<int32_t>(b->requests.size() - 1));
    }
  }
  return absl::OkStatus();
}

absl::Status GateService::AskOwners(Batch* b) {
  b->asked.assign(b->claims.size(), Batch::Asked());
  for (size_t i = 0; i < b->claims.size(); ++i) {
    if (absl::Status s = PlanRequests(i, b); !s.ok()) return s;
  }
  if (b->requests.empty()) return absl::OkStatus();
  b->attempt = absl::StrCat(attempt_prefix_, "/", ++attempts_);
  // Read the answers from where each reply partition ends now, before the requests commit: every
  // answer to them comes later.
  std::set<int32_t> replies;
  for (const v1::CodeRequest& r : b->requests) replies.insert(r.reply_partition());
  std::vector<RdKafka::TopicPartition*> assignment;
  absl::Status s;
  for (int32_t p : replies) {
    int64_t low = 0, high = 0;
    s = kafka::QueryWatermarks(b->producer->raw(), options_.topics.code_results, p, &low, &high,
                               10000);
    if (!s.ok()) break;
    assignment.push_back(RdKafka::TopicPartition::create(options_.topics.code_results, p, high));
  }
  if (s.ok()) {
    const RdKafka::ErrorCode err = results_consumer_->assign(assignment);
    if (err != RdKafka::ERR_NO_ERROR) s = kafka::ToStatus(err, "reading code-results");
  }
  RdKafka::TopicPartition::destroy(assignment);
  if (!s.ok()) return s;
  for (v1::CodeRequest& r : b->requests) {
    r.set_attempt(b->attempt);
    r.set_seq(static_cast<int32_t>(&r - b->requests.data()));
    if (absl::Status p = Request(r, b); !p.ok()) return p;
  }
  // The requests commit on their own (the claims offsets stay where they are): the owners see
  // them only then. The batch's outputs go in the next transaction.
  if (absl::Status c = b->producer->Commit({}, claims_consumer_.get()); !c.ok()) return c;
  if (absl::Status c = b->producer->Begin(); !c.ok()) return c;
  return AwaitAnswers(b);
}

absl::Status GateService::AwaitAnswers(Batch* b) {
  // Real time: the wait is for the network and the owners, not for the service's clock.
  const absl::Time asked = absl::Now();
  const absl::Time deadline = asked + options_.owner_timeout;
  const size_t expected = b->requests.size();
  while (b->answers.size() < expected) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::UnavailableError(absl::StrCat(
          "the code owners answered ", b->answers.size(), " of ", expected, " requests within ",
          absl::FormatDuration(options_.owner_timeout), " (is a `serve --role codes` or `gate` "
          "running in group ", options_.group_id, "-codes?)"));
    }
    std::unique_ptr<RdKafka::Message> m(results_consumer_->consume(
        static_cast<int>(std::min<int64_t>(100, absl::ToInt64Milliseconds(left) + 1))));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    v1::CodeAnswer a;
    if (!a.ParseFromArray(m->payload(), static_cast<int>(m->len())) ||
        a.attempt() != b->attempt || a.seq() < 0 || a.seq() >= static_cast<int32_t>(expected)) {
      continue;  // an answer to an earlier attempt, or to another gate on this partition
    }
    b->answers.emplace(a.seq(), std::move(a));
  }
  ++b->delta.owner_rounds;
  if (options_.metrics != nullptr)
    options_.metrics->owner_wait.Observe(absl::ToDoubleSeconds(absl::Now() - asked));
  return absl::OkStatus();
}

void GateService::SetAnswers(size_t index, const Batch& b) {
  answers_->Clear();
  if (index >= b.asked.size()) return;
  for (const auto& [code, seq] : b.asked[index].checks) {
    const auto it = b.answers.find(seq);
    if (it != b.answers.end() && it->second.has_first()) answers_->Set(code, it->second.first());
  }
}

absl::Status GateService::RecordClaim(size_t index, Batch* b) {
  if (!options_.duplicate_codes) return absl::OkStatus();
  const ClaimView& claim = decider_->last_claim();
  const DecisionResult& result = decider_->last_result();
  v1::CodeRequest record;
  record.set_kind(v1::CodeRequest::CLAIM);
  record.set_claim_id(std::string(claim.claim_id));
  record.set_reply_partition(-1);
  std::vector<std::string>& settled = b->decided[claim.claim_id];
  settled.clear();
  for (absl::string_view code : result.settled_codes) settled.emplace_back(code);
  for (const std::string& code : settled) record.add_codes(code);
  if (absl::Status s = Request(record, b); !s.ok()) return s;
  // Told to settle its codes, the claim was rejected after all (a duplicate under
  // duplicate_code_action REJECT): it settles nothing.
  if (index >= b->asked.size() || !b->asked[index].settles || IsPaid(result.outcome))
    return absl::OkStatus();
  for (const auto& [code, seq] : b->asked[index].checks) {
    v1::CodeRequest release;
    release.set_kind(v1::CodeRequest::RELEASE);
    release.set_claim_id(std::string(claim.claim_id));
    release.set_code(code);
    release.set_reply_partition(-1);
    if (absl::Status s = Request(release, b); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status GateService::ReverseClaim(size_t index, const v1::Event& event, Batch* b) {
  const std::string& id = event.claim_reversed().claim_id();
  std::vector<std::string> released;
  bool known = false;
  if (auto it = b->decided.find(id); it != b->decided.end()) {
    // Decided in this batch: its record was requested in this transaction; take it back.
    known = true;
    released = std::move(it->second);
    b->decided.erase(it);
    v1::CodeRequest take;
    take.set_kind(v1::CodeRequest::REVERSE);
    take.set_claim_id(id);
    take.set_reply_partition(-1);
    if (absl::Status s = Request(take, b); !s.ok()) return s;
  } else if (index < b->asked.size() && b->asked[index].reverse >= 0) {
    const auto a = b->answers.find(b->asked[index].reverse);
    if (a != b->answers.end() && a->second.known()) {
      known = true;
      released.assign(a->second.released().begin(), a->second.released().end());
    }
  }
  if (!known) {
    return DeadLetter(index, kUnknownClaim,
                      "claim_reversed: the claim is unknown or reversed before", b);
  }
  DecisionContext& ctx = decider_->context();
  ctx.ledger_position = ledger_position_;
  ctx.processing_time = b->now;
  v1::Decision d;
  ToReversalProto(event, released, ctx, &d);
  d.audit().SerializeToString(&b->audit);
  d.clear_audit();
  d.SerializeToString(&b->decision);
  absl::StatusOr<bool> emitted = EmitDecision(index, id, b);
  if (!emitted.ok() || !*emitted) return emitted.status();
  CountDecision(v1::Decision::REVERSED, d.reasons(), &b->delta.outcomes, &b->delta.reasons);
  return absl::OkStatus();
}

absl::Status GateService::HandleClaim(size_t index, Batch* b) {
  const RdKafka::Message& m = *b->claims[index];
  const int32_t partition = m.partition();
  const int64_t offset = m.offset();
  b->last[partition] = offset;  // into b->next once the batch is handled
  b->start.emplace(partition, offset);
  const Written* written = written_.Find(partition, offset);
  if (written != nullptr && written->dead_letter) {
    ++b->delta.skipped;
    return absl::OkStatus();
  }
  // An earlier attempt found that this claim's outputs cannot be produced.
  if (const Isolation* iso = FindIsolation(partition, offset);
      iso != nullptr && !iso->output_error.empty()) {
    return DeadLetter(index, kOutputTooLarge, iso->output_error, b);
  }
  if (written != nullptr && written->audit && written->decision) {
    ++b->delta.skipped;
    return absl::OkStatus();
  }
  if (written != nullptr && written->audit) {
    std::string claim_id;
    absl::StatusOr<std::string> rebuilt =
        DecisionFromAudit(written->audit_value, options_.output_format, &claim_id);
    if (!rebuilt.ok()) return rebuilt.status();
    b->AddPending(index, claim_id, *rebuilt);
    ++b->delta.repaired;
    return absl::OkStatus();
  }
  return DecideClaim(index, b);
}

absl::Status GateService::Transact(Batch* b) {
  for (size_t i = 0; i < b->claims.size(); ++i) {
    if (absl::Status s = HandleClaim(i, b); !s.ok()) return s;
  }
  if (!b->decisions.empty()) {
    if (absl::Status s = b->producer->Flush(); !s.ok()) return s;
  }
  const kafka::Topics& t = options_.topics;
  for (const Batch::PendingDecision& d : b->decisions) {
    const RdKafka::Message& m = *b->claims[d.index];
    absl::Status s = b->producer->Produce(t.decisions, b->Key(d), b->Value(d),
                                          b->SourceHeaders(d.index),
                                          outputs_.For(t.decisions, m.partition()),
                                          static_cast<int64_t>(d.index));
    // Its audit record is in this transaction already: the retry dead-letters the claim instead.
    if (absl::IsResourceExhausted(s))
      isolation_[{m.partition(), m.offset()}].output_error = std::string(s.message());
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void GateService::Aborted(const kafka::TransactionalProducer& producer) {
  const Batch& b = *batch_;
  // A message the broker refused: in a batch of its own, its claim is the cause; else it is tried
  // alone next, since the broker refuses a request with all the messages in it.
  for (const kafka::TransactionalProducer::FailedDelivery& f : producer.failed_deliveries()) {
    if (!kafka::RefusesMessage(f.code) || f.tag < 0 ||
        f.tag >= static_cast<int64_t>(b.claims.size())) {
      continue;
    }
    const RdKafka::Message& m = *b.claims[f.tag];
    Isolation& iso = isolation_[{m.partition(), m.offset()}];
    if (b.claims.size() > 1) {
      iso.alone = true;
    } else if (f.topic == options_.topics.dlq) {
      iso.dead_letter_level = std::min(2, iso.dead_letter_level + 1);
    } else if (iso.output_error.empty()) {
      iso.output_error = absl::StrCat(f.topic, ": ", f.error);
    }
  }
  ++stats_.aborted;
  if (options_.metrics != nullptr) options_.metrics->aborted.Increment();
}

void GateService::Stalled() {
  ++stats_.stalls;
  if (options_.metrics != nullptr) options_.metrics->stalls.Increment();
}

void GateService::ProducerReplaced() { ++stats_.producers_replaced; }

absl::Status GateService::Committed() {
  const Batch& b = *batch_;
  for (const auto& [tp, offset] : b.next) {
    claims_position_[tp.second].Done(offset);
    ReportClaimsPosition(tp.second);
    // What was learnt about the claims now committed is no longer needed.
    isolation_.erase(isolation_.lower_bound({tp.second, 0}),
                     isolation_.lower_bound({tp.second, offset}));
  }
  ++stats_.transactions;
  const GateServiceStats& delta = b.delta;
  stats_.decided += delta.decided;
  stats_.dead_lettered += delta.dead_lettered;
  stats_.skipped += delta.skipped;
  stats_.repaired += delta.repaired;
  stats_.owner_requests += delta.owner_requests;
  stats_.owner_rounds += delta.owner_rounds;
  for (const auto& [k, n] : delta.outcomes) stats_.outcomes[k] += n;
  for (const auto& [k, n] : delta.reasons) stats_.reasons[k] += n;
  for (const auto& [k, n] : delta.dead_letters) stats_.dead_letters[k] += n;
  // Wall time, not clock_: the latency is measured against the claims' message timestamps, which
  // their producers stamped with the wall clock.
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  if (options_.metrics != nullptr) {
    GateMetrics& mx = *options_.metrics;
    mx.committed.Increment();
    for (const auto& [k, n] : delta.outcomes) mx.decisions.Add({{"outcome", k}}).Increment(n);
    for (const auto& [k, n] : delta.reasons) mx.reasons.Add({{"reason", k}}).Increment(n);
    for (const auto& [k, n] : delta.dead_letters) mx.dead_letters.Add({{"reason", k}}).Increment(n);
  }
  for (const auto& m : b.claims) {
    const RdKafka::MessageTimestamp ts = m->timestamp();
    if (ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) continue;
    const double ms = static_cast<double>(now_ms - ts.timestamp);
    if (options_.metrics != nullptr) options_.metrics->claim_to_decision.Observe(ms / 1000.0);
    if (options_.record_latency) stats_.latencies_ms.push_back(ms);
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> GateService::BeforeBatch(int timeout_ms) {
  if (!rebalance_error_.ok()) return rebalance_error_;
  if (absl::Status s = PollStatusFeed(ready_ ? 0 : timeout_ms); !s.ok()) return s;
  PublishGauges();
  if (clock_->Now() - heads_logged_ >= options_.chain_head_interval) LogChainHeads("periodic");
  return ready_;
}

absl::StatusOr<size_t> GateService::Consume(int timeout_ms) {
  batch_->Reset();
  if (absl::Status s = ConsumeBatch(timeout_ms, &batch_->claims); !s.ok()) return s;
  if (!rebalance_error_.ok()) return rebalance_error_;
  return batch_->claims.size();
}

absl::Status GateService::Process(kafka::TransactionalProducer& producer,
                                  kafka::NextOffsets* next) {
  Batch& b = *batch_;
  b.producer = &producer;
  b.now = clock_->Now();
  decider_->context().status_stale = b.now - last_caught_up_ > options_.staleness_bound;
  absl::Status s = options_.duplicate_codes ? AskOwners(&b) : absl::OkStatus();
  if (s.ok()) s = Transact(&b);
  // The consumer reads one topic, the claims.
  for (const auto& [partition, offset] : b.last)
    b.next[{options_.topics.claims, partition}] = offset + 1;
  *next = b.next;
  return s;
}

absl::StatusOr<int> GateService::RunOnce(int timeout_ms) {
  return loop_->RunOnce(timeout_ms, *this);
}

absl::Status GateService::Run(const std::atomic<bool>& stop) {
  if (absl::Status s = loop_->Run(stop, *this); !s.ok()) return s;
  LogChainHeads("stopping");
  return absl::OkStatus();
}

void GateService::LogChainHeads(absl::string_view why) {
  heads_logged_ = clock_->Now();
  if (options_.log == nullptr) return;
  for (const auto& [partition, head] : chains_) {
    if (head.seq == 0) continue;
    const std::string chain = Key(options_.topics.claims, partition);
    *options_.log << "claimgate gate: audit chain " << chain << " head " << chain << "=" << head.seq
                  << ":" << head.hash << " (" << why << ")\n";
  }
}

}  // namespace claimgate::gate
