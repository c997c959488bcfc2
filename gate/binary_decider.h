// The streaming path's per-claim work: claim event bytes in (Protobuf), decision and audit bytes out. No
// JSON; once warm, no malloc on the hot path: messages live on an arena whose first block is reused.
#ifndef CLAIMGATE_GATE_BINARY_DECIDER_H_
#define CLAIMGATE_GATE_BINARY_DECIDER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/events.pb.h"
#include "gate/decision.h"
#include "gate/status_store.h"
#include "google/protobuf/arena.h"

namespace claimgate::gate {

class BinaryDecider {
 public:
  // `context` supplies profiles, mode, version; its position, event id, source and time are set per claim.
  explicit BinaryDecider(DecisionContext context);
  BinaryDecider(const BinaryDecider&) = delete;
  BinaryDecider& operator=(const BinaryDecider&) = delete;

  // Decides one claim event. InvalidArgument when the bytes are not a structurally valid claim event (the
  // caller dead-letters them); Unavailable / DataLoss when the store cannot be read. On success `decision`
  // holds a claimgate.v1.Decision without its audit, `audit` the claimgate.v1.AuditRecord.
  absl::Status Decide(absl::string_view event_bytes, StatusStore& store, int64_t ledger_position,
                      absl::Time processing_time, std::string* decision, std::string* audit);

  // The last decision (valid until the next call), for callers that want the message.
  const v1::Decision& last_decision() const { return *decision_; }

 private:
  DecisionContext ctx_;
  std::unique_ptr<char[]> block_;
  google::protobuf::Arena arena_;
  v1::Event* event_ = nullptr;
  v1::Decision* decision_ = nullptr;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_BINARY_DECIDER_H_
