// Consume -> apply -> produce, transactionally.
#include "ledger/service/ledger_service.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "ledger/status_query.h"

namespace claimgate::ledger {
namespace {

std::string Encode(const google::protobuf::Message& m, kafka::Format format) {
  return format == kafka::Format::kJson ? ToJson(m) : m.SerializeAsString();
}

}  // namespace

LedgerService::~LedgerService() {
  batch_ = Batch();  // its messages go before the consumer that read them
  lag_.reset();
  if (consumer_ != nullptr) consumer_->close();
}

absl::StatusOr<std::unique_ptr<LedgerService>> LedgerService::Start(
    const LedgerServiceOptions& options, const ProfileSet* profiles) {
  std::unique_ptr<LedgerService> s(new LedgerService());
  s->options_ = options;
  auto ledger = Ledger::Create(profiles, options.default_profile);
  if (!ledger.ok()) return ledger.status();
  s->ledger_ = std::move(*ledger);
  auto consumer = kafka::MakeConsumer(options.kafka, options.group_id);
  if (!consumer.ok()) return consumer.status();
  s->consumer_ = std::move(*consumer);
  kafka::StreamLoopOptions loop_options;
  loop_options.kafka = options.kafka;
  loop_options.transactional_id = options.transactional_id;
  loop_options.stop = options.stop;
  auto loop = kafka::StreamLoop::Start(loop_options);
  if (!loop.ok()) return loop.status();
  s->loop_ = std::move(*loop);

  // The events of the ledger's own store first.
  absl::StatusOr<int64_t> from = s->ReplayStore();
  if (!from.ok()) return from.status();
  // Where publishing stopped: the group's committed offset on the single partition (a broker with
  // transactions). Events published but not yet stored are applied silently; without a committed
  // offset (librdkafka's mock stores none) the store's position is where publishing resumes.
  std::vector<RdKafka::TopicPartition*> parts = {
      RdKafka::TopicPartition::create(options.topics.ledger_events, 0)};
  const absl::Status read = kafka::CommittedOffsets(s->consumer_.get(), parts, 30000,
                                                    "reading the committed ledger offset");
  const int64_t committed = parts[0]->offset() < 0 ? 0 : parts[0]->offset();
  RdKafka::TopicPartition::destroy(parts);
  if (!read.ok()) return read;
  if (absl::Status st = s->Replay(*from, std::max(*from, committed)); !st.ok()) return st;
  s->position_.Done(s->stats_.next_offset);
  if (options.lag != nullptr) s->lag_ = options.lag->Track(options.group_id, s->consumer_.get());
  s->ReportPosition();
  if (options.metrics != nullptr) {
    options.metrics->position.Set(static_cast<double>(s->stats_.next_offset));
    options.metrics->ready.Set(1);
    s->PublishPopulation(true);
  }
  return s;
}

absl::StatusOr<int64_t> LedgerService::ReplayStore() {
  if (options_.state_path.empty()) return 0;
  auto store = LedgerStore::Open(options_.state_path);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
  absl::Status bad;
  absl::Status read = store_->ForEach([&](int64_t offset, absl::string_view bytes) {
    absl::StatusOr<v1::Event> e = ParseEventBinary(bytes);
    if (!e.ok()) {
      if (bad.ok())
        bad = absl::DataLossError(
            absl::StrCat("ledger store: event at offset ", offset, ": ", e.status().message()));
      return;
    }
    ApplyEvent(*e);
    ++stats_.replayed_local;
  });
  if (!read.ok()) return read;
  if (!bad.ok()) return bad;
  stats_.replayed = stats_.replayed_local;
  const int64_t from = store_->next_offset();
  // A topic that ends before the store does was recreated (or is another cluster's): the store
  // would pass for it silently.
  int64_t low = 0, high = 0;
  if (consumer_->query_watermark_offsets(options_.topics.ledger_events, 0, &low, &high, 10000) ==
          RdKafka::ERR_NO_ERROR &&
      high < from) {
    return absl::FailedPreconditionError(absl::StrCat(
        "ledger store ", options_.state_path, " holds ", from, " events of ",
        options_.topics.ledger_events, " but the topic ends at offset ", high,
        ": it was built from another topic or cluster. Delete the state directory to rebuild "
        "it from the topic (docs/operations.md, \"Resetting a state directory\")"));
  }
  return from;
}

ApplyResult LedgerService::ApplyEvent(const v1::Event& e) {
  if (e.has_time()) {
    newest_event_ = std::max(newest_event_, absl::FromUnixSeconds(e.time().seconds()) +
                                                absl::Nanoseconds(e.time().nanos()));
  }
  return ledger_->Apply(e);
}

void LedgerService::PublishPopulation(bool force) {
  if (options_.metrics == nullptr) return;
  if (!force && (!population_dirty_ || absl::Now() - population_published_ < population_interval_))
    return;
  const absl::Time t0 = absl::Now();
  std::map<v1::PersonStatus::State, int64_t> by_state;
  // institution kind -> {persons ever registered there, of them SUSPENDED, of them TERMINATED}
  std::map<v1::InstitutionRegistered::Kind, std::array<int64_t, 3>> by_kind;
  for (const std::string& id : ledger_->PersonIds()) {
    const v1::PersonStatus* p = ledger_->FindPerson(id);
    const v1::PersonStatus::State state = PersonStateAt(*p, newest_event_).state;
    ++by_state[state];
    std::set<v1::InstitutionRegistered::Kind> kinds;
    for (const auto& r : p->registrations()) {
      if (const v1::InstitutionStatus* i = ledger_->FindInstitution(r.institution_id()))
        kinds.insert(i->kind());
    }
    for (const v1::InstitutionRegistered::Kind k : kinds) {
      auto& c = by_kind[k];
      ++c[0];
      c[1] += state == v1::PersonStatus::SUSPENDED;
      c[2] += state == v1::PersonStatus::TERMINATED;
    }
  }
  LedgerMetrics& m = *options_.metrics;
  for (const auto state :
       {v1::PersonStatus::NORMAL, v1::PersonStatus::SUSPENDED, v1::PersonStatus::TERMINATED}) {
    m.persons.Add({{"state", v1::PersonStatus::State_Name(state)}})
        .Set(static_cast<double>(by_state[state]));
  }
  // Every kind, from the start: an institution kind without staff has none restricted (0).
  const google::protobuf::EnumDescriptor* kinds = v1::InstitutionRegistered::Kind_descriptor();
  for (int i = 0; i < kinds->value_count(); ++i) {
    const auto kind = static_cast<v1::InstitutionRegistered::Kind>(kinds->value(i)->number());
    if (kind == 0) continue;
    const std::array<int64_t, 3>& c = by_kind[kind];
    const double staff = static_cast<double>(std::max<int64_t>(1, c[0]));
    const std::string& k = kinds->value(i)->name();
    m.restricted_ratio.Add({{"institution_kind", k}, {"state", "SUSPENDED"}})
        .Set(static_cast<double>(c[1]) / staff);
    m.restricted_ratio.Add({{"institution_kind", k}, {"state", "TERMINATED"}})
        .Set(static_cast<double>(c[2]) / staff);
  }
  population_published_ = absl::Now();
  population_interval_ = std::max(absl::Seconds(1), 10 * (population_published_ - t0));
  population_dirty_ = false;
}

bool DecodeLedgerEvent(absl::string_view bytes, kafka::Format format, v1::Event* event,
                       std::string* error) {
  if (bytes.size() > kMaxLedgerEventBytes) {
    *error = absl::StrCat("EVENT_TOO_LARGE: an event of ", bytes.size(), " bytes (at most ",
                          kMaxLedgerEventBytes, "), sha256 ", Sha256Hex(bytes));
    return false;
  }
  absl::Status s;
  if (format == kafka::Format::kJson) {
    s = ParseEventJson(bytes, event);
  } else {
    absl::StatusOr<v1::Event> e = ParseEventBinary(bytes);
    if (e.ok()) *event = std::move(*e);
    s = e.status();
  }
  if (s.ok() && !IsLedgerEvent(*event)) s = absl::InvalidArgumentError("not a ledger event");
  if (!s.ok()) *error = std::string(s.message());
  return s.ok();
}

bool LedgerService::Decode(const RdKafka::Message& m, v1::Event* event, std::string* error) const {
  return DecodeLedgerEvent(absl::string_view(static_cast<const char*>(m.payload()), m.len()),
                           options_.input_format, event, error);
}

absl::Status LedgerService::Replay(int64_t from, int64_t until) {
  std::vector<RdKafka::TopicPartition*> parts = {
      RdKafka::TopicPartition::create(options_.topics.ledger_events, 0, from)};
  consumer_->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::vector<std::pair<int64_t, std::string>> replayed;
  int64_t next = from;
  while (next < until) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(1000));
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) continue;
    if (m->err() != RdKafka::ERR_NO_ERROR)
      return kafka::ToStatus(m->err(), "replaying ledger-events");
    next = m->offset() + 1;
    v1::Event e;
    std::string error;
    if (Decode(*m, &e, &error)) {
      ApplyEvent(e);
      ++stats_.replayed;
      if (store_ != nullptr) replayed.emplace_back(m->offset(), e.SerializeAsString());
    }
  }
  if (store_ != nullptr && next > store_->next_offset()) {
    if (absl::Status st = store_->Append(replayed, next); !st.ok()) return st;
  }
  stats_.next_offset = next;
  return absl::OkStatus();
}

absl::StatusOr<size_t> LedgerService::Consume(int timeout_ms) {
  batch_ = Batch();
  std::vector<std::unique_ptr<RdKafka::Message>>& batch = batch_.events;
  for (int wait = timeout_ms; static_cast<int>(batch.size()) < options_.max_batch; wait = 0) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(wait));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      position_.End(m->offset());
      ReportPosition();
      break;
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT) break;
    if (m->err() != RdKafka::ERR_NO_ERROR)
      return kafka::ToStatus(m->err(), "consuming ledger-events");
    position_.Returned(m->offset());
    batch.push_back(std::move(m));
  }
  return batch.size();
}

absl::Status LedgerService::Publish(const RdKafka::Message& m,
                                    kafka::TransactionalProducer& producer) {
  const kafka::Topics& t = options_.topics;
  const kafka::Format out = options_.output_format;
  v1::Event e;
  std::string error;
  if (!Decode(m, &e, &error)) {
    ++stats_.malformed;
    ++batch_.refusals[v1::LedgerError_Name(v1::MALFORMED)];
    v1::LedgerNotice n;
    n.set_event_id(e.event_id());
    n.set_notice("EVENT_REFUSED");
    n.set_error(v1::MALFORMED);
    n.set_message(absl::StrCat(error, " (ledger-events offset ", m.offset(), ")"));
    return producer.Produce(t.notices, e.event_id(), Encode(n, out));
  }
  const ApplyResult r = ApplyEvent(e);
  if (store_ != nullptr) batch_.applied.emplace_back(m.offset(), e.SerializeAsString());
  if (r.refused) ++stats_.refused;
  ++batch_.types[std::string(BodyName(e))];
  if (r.refused) ++batch_.refusals[v1::LedgerError_Name(r.error)];
  for (const std::string& id : r.changed_persons) {
    if (absl::Status s =
            producer.Produce(t.person_status, id, Encode(*ledger_->FindPerson(id), out));
        !s.ok()) {
      return s;
    }
  }
  for (const std::string& id : r.changed_institutions) {
    if (absl::Status s = producer.Produce(t.institution_status, id,
                                          Encode(*ledger_->FindInstitution(id), out));
        !s.ok()) {
      return s;
    }
  }
  for (const std::string& id : r.changed_insured) {
    if (absl::Status s =
            producer.Produce(t.insured_status, id, Encode(*ledger_->FindInsured(id), out));
        !s.ok()) {
      return s;
    }
  }
  for (const v1::LedgerNotice& n : r.notices) {
    if (absl::Status s = producer.Produce(t.notices, n.event_id(), Encode(n, out)); !s.ok())
      return s;
  }
  return absl::OkStatus();
}

absl::Status LedgerService::Process(kafka::TransactionalProducer& producer,
                                    kafka::NextOffsets* next) {
  for (const auto& m : batch_.events) {
    if (absl::Status s = Publish(*m, producer); !s.ok()) return s;
  }
  (*next)[{options_.topics.ledger_events, 0}] = batch_.events.back()->offset() + 1;
  return absl::OkStatus();
}

void LedgerService::Aborted(const kafka::TransactionalProducer& /*producer*/) {
  // The ledger has applied the batch in memory: a failed commit cannot be rewound here, so the
  // service ends and its restart rebuilds the ledger from the store.
  if (options_.metrics != nullptr) options_.metrics->aborted.Increment();
}

absl::Status LedgerService::Committed() {
  const int64_t next = batch_.events.back()->offset() + 1;
  if (options_.metrics != nullptr) {
    LedgerMetrics& m = *options_.metrics;
    m.committed.Increment();
    for (const auto& [type, n] : batch_.types) m.events_applied.Add({{"type", type}}).Increment(n);
    for (const auto& [code, n] : batch_.refusals) m.refusals.Add({{"reason", code}}).Increment(n);
    m.position.Set(static_cast<double>(next));
    population_dirty_ = true;
    PublishPopulation(false);
  }
  if (store_ != nullptr) {
    if (absl::Status st = store_->Append(batch_.applied, next); !st.ok()) return st;
  }
  ++stats_.transactions;
  stats_.applied += static_cast<int64_t>(batch_.events.size());
  stats_.next_offset = next;
  position_.Done(next);
  ReportPosition();
  return absl::OkStatus();
}

void LedgerService::ReportPosition() {
  if (lag_ != nullptr) lag_->Set(options_.topics.ledger_events, 0, position_.next());
}

absl::StatusOr<int> LedgerService::RunOnce(int timeout_ms) {
  return loop_->RunOnce(timeout_ms, *this);
}

absl::Status LedgerService::Run(const std::atomic<bool>& stop) { return loop_->Run(stop, *this); }

}  // namespace claimgate::ledger
