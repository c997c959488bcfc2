// Bytes in, bytes out, on a reused arena.
#include "gate/binary_decider.h"

#include "ledger/codec.h"

namespace claimgate::gate {
namespace {

constexpr size_t kArenaBlockBytes = 256 << 10;

google::protobuf::ArenaOptions OptionsFor(char* block) {
  google::protobuf::ArenaOptions o;
  o.initial_block = block;
  o.initial_block_size = kArenaBlockBytes;
  return o;
}

}  // namespace

BinaryDecider::BinaryDecider(DecisionContext context)
    : ctx_(std::move(context)),
      block_(new char[kArenaBlockBytes]),
      arena_(OptionsFor(block_.get())) {}

absl::Status BinaryDecider::Decide(absl::string_view event_bytes, StatusStore& store,
                                   int64_t ledger_position, absl::Time processing_time,
                                   std::string* decision, std::string* audit) {
  // Reset keeps the initial block: steady state allocates nothing from the heap.
  arena_.Reset();
  event_ = google::protobuf::Arena::CreateMessage<v1::Event>(&arena_);
  decision_ = google::protobuf::Arena::CreateMessage<v1::Decision>(&arena_);
  if (!event_->ParseFromArray(event_bytes.data(), static_cast<int>(event_bytes.size()))) {
    return absl::InvalidArgumentError("not a valid claimgate.v1.Event");
  }
  if (absl::Status s = ledger::ValidateEvent(*event_); !s.ok()) return s;
  if (event_->body_case() != v1::Event::kClaim) {
    return absl::InvalidArgumentError("not a claim event");
  }
  if (absl::Status s = store.Resolve(event_->claim()); !s.ok()) return s;
  ctx_.ledger_position = ledger_position;
  ctx_.event_id = event_->event_id();
  ctx_.processing_time = processing_time;
  DecideInto(event_->claim(), store, ctx_, decision_);
  decision_->audit().SerializeToString(audit);
  // The decision topic carries the outcome and reasons; the audit record travels on its own topic.
  v1::AuditRecord* detached = decision_->unsafe_arena_release_audit();  // arena-owned, no copy
  decision_->SerializeToString(decision);
  decision_->unsafe_arena_set_allocated_audit(detached);
  return absl::OkStatus();
}

}  // namespace claimgate::gate
