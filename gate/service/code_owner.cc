// The code owner: requests in, answers out, the store written after each commit (code_owner.h).
#include "gate/service/code_owner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "gate/codes.h"
#include "ledger/calendar.h"

namespace claimgate::gate {
namespace {

// Restore writes its store every this many changed codes and claim records.
constexpr size_t kRestoreChunk = 10000;

void ToProto(const SettledCode& s, v1::CodeAnswer::Settler* out) {
  out->set_claim_id(s.claim_id);
  out->set_institution_id(s.institution_id);
  ledger::SetProto(s.service_time, out->mutable_service_time());
  ledger::SetProto(s.expires, out->mutable_expires());
}

}  // namespace

void CodeOwner::Rebalancer::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                         std::vector<RdKafka::TopicPartition*>& partitions) {
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    if (absl::Status s = owner_->Restore(partitions); !s.ok()) {
      // As the gate's: a failure while the process stops is the stop, not an error.
      const bool stopping = owner_->options_.stop != nullptr && owner_->options_.stop->load();
      if (owner_->options_.log != nullptr) {
        *owner_->options_.log << "claimgate codes: " << (stopping ? "stopping: " : "error: ")
                              << "restoring the code store failed: " << s << "\n";
      }
      owner_->rebalance_error_ = s;
    }
    consumer->assign(partitions);
  } else {
    owner_->batch_.clear();
    consumer->unassign();
  }
}

CodeOwner::~CodeOwner() {
  batch_.clear();
  if (consumer_ != nullptr) consumer_->close();
  if (restorer_ != nullptr) restorer_->close();
}

absl::StatusOr<std::unique_ptr<CodeOwner>> CodeOwner::Start(const CodeOwnerOptions& options) {
  std::unique_ptr<CodeOwner> o(new CodeOwner());
  o->options_ = options;
  auto store = CodeStore::Open(options.store);
  if (!store.ok()) return store.status();
  o->store_ = std::move(*store);
  kafka::StreamLoopOptions lo;
  lo.kafka = options.kafka;
  lo.transactional_id = options.transactional_id;
  lo.stop = options.stop;
  lo.retry = true;
  lo.stall_aborts = options.stall_aborts;
  lo.stall_after = options.stall_after;
  lo.retry_backoff_max = options.retry_backoff_max;
  lo.log = options.log;
  lo.log_prefix = "claimgate codes: ";
  lo.unit = "code requests";
  auto loop = kafka::StreamLoop::Start(lo);
  if (!loop.ok()) return loop.status();
  o->loop_ = std::move(*loop);
  RdKafka::Producer* client = o->loop_->producer().raw();
  for (auto [topic, count] : {std::pair{&options.topics.code_checks, &o->code_checks_partitions_},
                              std::pair{&options.topics.code_results,
                                        &o->code_results_partitions_}}) {
    absl::StatusOr<int> n = kafka::PartitionCount(client, *topic);
    if (!n.ok()) return n.status();
    *count = *n;
  }
  auto restorer = kafka::MakeConsumer(options.kafka, "");
  if (!restorer.ok()) return restorer.status();
  o->restorer_ = std::move(*restorer);
  o->rebalancer_ = std::make_unique<Rebalancer>(o.get());
  auto consumer = kafka::MakeConsumer(options.kafka, options.group_id, o->rebalancer_.get());
  if (!consumer.ok()) return consumer.status();
  o->consumer_ = std::move(*consumer);
  const RdKafka::ErrorCode err = o->consumer_->subscribe({options.topics.code_checks});
  if (err != RdKafka::ERR_NO_ERROR) return kafka::ToStatus(err, "subscribing to code-checks");
  return o;
}

absl::Status CodeOwner::Restore(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<RdKafka::TopicPartition*> committed;
  for (const RdKafka::TopicPartition* tp : partitions)
    committed.push_back(RdKafka::TopicPartition::create(tp->topic(), tp->partition()));
  absl::Status s = kafka::CommittedOffsets(consumer_.get(), committed, 30000, "code-checks");
  absl::StatusOr<std::map<int32_t, int64_t>> stored = store_->Positions();
  if (s.ok() && !stored.ok()) s = stored.status();
  for (size_t i = 0; s.ok() && i < committed.size(); ++i) {
    const int32_t p = committed[i]->partition();
    const int64_t to = committed[i]->offset();
    const auto it = stored->find(p);
    const int64_t from = it == stored->end() ? 0 : it->second;
    if (to < 0 || from >= to) continue;  // nothing committed, or the store has it all
    int64_t applied = 0;
    absl::Status inner;
    s = kafka::ReadPartition(
        restorer_.get(), options_.topics.code_checks, p, from, to, [&](RdKafka::Message& m) {
          v1::CodeRequest r;
          if (!inner.ok() || !r.ParseFromArray(m.payload(), static_cast<int>(m.len()))) return;
          std::optional<v1::CodeAnswer> answer;
          std::vector<v1::CodeRequest> forward;  // produced when the request was first applied
          inner = Apply(r, &answer, &forward);
          ++applied;
          // Written as it goes: memory stays bounded however long the partition is.
          if (inner.ok() && dirty_codes_.size() + dirty_claims_.size() >= kRestoreChunk)
            inner = WriteOverlay({{p, m.offset() + 1}});
        });
    if (s.ok()) s = inner;
    if (s.ok()) s = WriteOverlay({{p, to}});
    stats_.restored += applied;
    if (s.ok() && options_.log != nullptr) {
      *options_.log << "claimgate codes: restored code-checks/" << p << " from " << from << " to "
                    << to << " (" << applied << " requests)\n";
    }
  }
  RdKafka::TopicPartition::destroy(committed);
  ClearOverlay();
  return s;
}

absl::StatusOr<size_t> CodeOwner::Consume(int timeout_ms) {
  batch_.clear();
  batch_start_.clear();
  batch_next_.clear();
  for (int wait = timeout_ms; static_cast<int>(batch_.size()) < options_.max_batch; wait = 0) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(wait));
    if (!rebalance_error_.ok()) return rebalance_error_;
    if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) break;
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (options_.log != nullptr)
        *options_.log << "claimgate codes: warning: consumer: " << m->errstr() << "\n";
      break;
    }
    batch_start_.emplace(m->partition(), m->offset());
    batch_next_[m->partition()] = m->offset() + 1;
    batch_.push_back(std::move(m));
  }
  return batch_.size();
}

absl::StatusOr<const std::optional<SettledCode>*> CodeOwner::Holder(const std::string& code) {
  if (auto it = dirty_codes_.find(code); it != dirty_codes_.end()) return &it->second;
  auto it = base_codes_.find(code);
  if (it == base_codes_.end()) {
    std::vector<std::optional<SettledCode>> found;
    const absl::string_view view(code);
    if (absl::Status s = store_->Lookup({&view, 1}, &found); !s.ok()) return s;
    it = base_codes_.emplace(code, std::move(found[0])).first;
  }
  return &it->second;
}

absl::Status CodeOwner::Prefetch(const std::vector<v1::CodeRequest>& requests) {
  std::vector<absl::string_view> codes;
  for (const v1::CodeRequest& r : requests) {
    if (!r.code().empty() && !dirty_codes_.contains(r.code()) && !base_codes_.contains(r.code()))
      codes.push_back(r.code());
  }
  std::vector<std::optional<SettledCode>> found;
  if (absl::Status s = store_->Lookup(codes, &found); !s.ok()) return s;
  for (size_t i = 0; i < codes.size(); ++i)
    base_codes_.emplace(std::string(codes[i]), std::move(found[i]));
  return absl::OkStatus();
}

absl::Status CodeOwner::Apply(const v1::CodeRequest& r, std::optional<v1::CodeAnswer>* answer,
                              std::vector<v1::CodeRequest>* forward) {
  answer->reset();
  switch (r.kind()) {
    case v1::CodeRequest::CHECK: {
      absl::StatusOr<const std::optional<SettledCode>*> held = Holder(r.code());
      if (!held.ok()) return held.status();
      v1::CodeAnswer& a = answer->emplace();
      const std::optional<SettledCode>& h = **held;
      const absl::Time service = ledger::FromProto(r.service_time());
      const bool other = h.has_value() && h->claim_id != r.claim_id();
      if (other) {
        ToProto(*h, a.mutable_first());
        ++delta_.found;
      }
      // Settled by the asking claim unless another claim still holds it at its service time
      // (the file path's CodeBook::Record).
      if (r.settles() && !(h.has_value() && h->claim_id == r.claim_id()) &&
          !(other && Remembered(*h, service))) {
        dirty_codes_[r.code()] = SettledCode{r.claim_id(), r.institution_id(), service,
                                             ledger::FromProto(r.expires())};
        ++delta_.settled;
      }
      break;
    }
    case v1::CodeRequest::RELEASE: {
      absl::StatusOr<const std::optional<SettledCode>*> held = Holder(r.code());
      if (!held.ok()) return held.status();
      if ((*held)->has_value() && (**held)->claim_id == r.claim_id()) {
        dirty_codes_[r.code()] = std::nullopt;
        ++delta_.released;
      }
      return absl::OkStatus();  // no answer
    }
    case v1::CodeRequest::CLAIM:
      dirty_claims_[r.claim_id()] = std::vector<std::string>(r.codes().begin(), r.codes().end());
      return absl::OkStatus();  // no answer
    case v1::CodeRequest::REVERSE: {
      std::optional<std::vector<std::string>> record;
      if (auto it = dirty_claims_.find(r.claim_id()); it != dirty_claims_.end()) {
        record = it->second;
      } else {
        absl::StatusOr<std::optional<std::vector<std::string>>> stored =
            store_->FindClaim(r.claim_id());
        if (!stored.ok()) return stored.status();
        record = std::move(*stored);
      }
      v1::CodeAnswer& a = answer->emplace();
      if (record.has_value()) {
        a.set_known(true);
        for (const std::string& code : *record) {
          a.add_released(code);
          v1::CodeRequest& release = forward->emplace_back();
          release.set_kind(v1::CodeRequest::RELEASE);
          release.set_claim_id(r.claim_id());
          release.set_code(code);
        }
        dirty_claims_[r.claim_id()] = std::nullopt;
        ++delta_.reversals;
      }
      break;
    }
    default:
      ++delta_.unreadable;
      return absl::OkStatus();
  }
  (*answer)->set_attempt(r.attempt());
  (*answer)->set_seq(r.seq());
  (*answer)->set_claim_id(r.claim_id());
  return absl::OkStatus();
}

absl::Status CodeOwner::Process(kafka::TransactionalProducer& producer, kafka::NextOffsets* next) {
  std::vector<v1::CodeRequest> requests(batch_.size());
  std::vector<bool> readable(batch_.size());
  for (size_t i = 0; i < batch_.size(); ++i) {
    readable[i] = requests[i].ParseFromArray(batch_[i]->payload(),
                                             static_cast<int>(batch_[i]->len()));
  }
  if (absl::Status s = Prefetch(requests); !s.ok()) return s;
  std::string value;
  std::optional<v1::CodeAnswer> answer;
  std::vector<v1::CodeRequest> forward;
  for (size_t i = 0; i < batch_.size(); ++i) {
    const v1::CodeRequest& r = requests[i];
    if (!readable[i]) {
      ++delta_.unreadable;
      ++kinds_["UNREADABLE"];
      continue;
    }
    ++kinds_[r.kind() >= v1::CodeRequest::CHECK && r.kind() <= v1::CodeRequest::REVERSE
                 ? v1::CodeRequest::Kind_Name(r.kind())
                 : "UNREADABLE"];
    forward.clear();
    if (absl::Status s = Apply(r, &answer, &forward); !s.ok()) return s;
    ++delta_.requests;
    for (const v1::CodeRequest& f : forward) {
      f.SerializeToString(&value);
      absl::Status s = producer.Produce(options_.topics.code_checks, f.code(), value, {},
                                        CodeOwnerPartition(f.code(), code_checks_partitions_));
      if (!s.ok()) return s;
    }
    // A reply partition that does not exist: the request is applied but nobody waits for it.
    if (!answer.has_value() || r.reply_partition() < 0 ||
        r.reply_partition() >= code_results_partitions_) {
      continue;
    }
    answer->SerializeToString(&value);
    absl::Status s = producer.Produce(options_.topics.code_results, r.claim_id(), value, {},
                                      r.reply_partition());
    if (!s.ok()) return s;
  }
  for (const auto& [p, offset] : batch_next_) (*next)[{options_.topics.code_checks, p}] = offset;
  return absl::OkStatus();
}

absl::Status CodeOwner::WriteOverlay(const std::map<int32_t, int64_t>& positions) {
  CodeStoreWrite w;
  for (auto& [code, holder] : dirty_codes_) w.codes.emplace_back(code, std::move(holder));
  for (auto& [claim, codes] : dirty_claims_) w.claims.emplace_back(claim, std::move(codes));
  w.positions = positions;
  ClearOverlay();
  return store_->Write(w);
}

void CodeOwner::ClearOverlay() {
  base_codes_.clear();
  dirty_codes_.clear();
  dirty_claims_.clear();
}

absl::Status CodeOwner::Committed() {
  ++stats_.transactions;
  stats_.requests += delta_.requests;
  stats_.found += delta_.found;
  stats_.settled += delta_.settled;
  stats_.released += delta_.released;
  stats_.reversals += delta_.reversals;
  stats_.unreadable += delta_.unreadable;
  if (options_.metrics != nullptr) {
    for (const auto& [kind, n] : kinds_)
      options_.metrics->requests.Add({{"kind", kind}}).Increment(static_cast<double>(n));
    options_.metrics->duplicates.Increment(static_cast<double>(delta_.found));
    options_.metrics->settled.Increment(static_cast<double>(delta_.settled));
  }
  kinds_.clear();
  delta_ = CodeOwnerStats();
  return WriteOverlay(batch_next_);
}

void CodeOwner::Aborted(const kafka::TransactionalProducer& /*producer*/) {
  ++stats_.aborted;
  delta_ = CodeOwnerStats();
  kinds_.clear();
  ClearOverlay();
}

absl::Status CodeOwner::Rewind() {
  for (const auto& [p, offset] : batch_start_) {
    std::unique_ptr<RdKafka::TopicPartition> tp(
        RdKafka::TopicPartition::create(options_.topics.code_checks, p, offset));
    // A partition revoked meanwhile cannot be sought; its next owner starts from the commit.
    const RdKafka::ErrorCode err = consumer_->seek(*tp, 5000);
    if (err != RdKafka::ERR_NO_ERROR && options_.log != nullptr) {
      *options_.log << "claimgate codes: warning: rewinding code-checks/" << p << ": "
                    << RdKafka::err2str(err) << "\n";
    }
  }
  batch_.clear();
  return absl::OkStatus();
}

absl::StatusOr<int> CodeOwner::RunOnce(int timeout_ms) { return loop_->RunOnce(timeout_ms, *this); }

absl::Status CodeOwner::Run(const std::atomic<bool>& stop) { return loop_->Run(stop, *this); }

}  // namespace claimgate::gate
