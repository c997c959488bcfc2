// The streaming path's per-claim work: claim event bytes in (Protobuf), decision and audit bytes
// out. No JSON and no message objects: the wire is parsed into a ClaimView, decided by DecideView
// (the one decision core), and the results encoded straight to wire bytes. Reused buffers: no
// allocation once warm.
#ifndef CLAIMGATE_GATE_BINARY_DECIDER_H_
#define CLAIMGATE_GATE_BINARY_DECIDER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "gate/claim_view.h"
#include "gate/decision.h"

namespace claimgate::gate {

class BinaryDecider {
 public:
  // `context` supplies profiles, mode and version; position, event id and time are set per claim.
  explicit BinaryDecider(DecisionContext context) : ctx_(std::move(context)) {}
  BinaryDecider(const BinaryDecider&) = delete;
  BinaryDecider& operator=(const BinaryDecider&) = delete;

  // Decides one claim event. InvalidArgument when the bytes are not a structurally valid claim
  // event (the caller dead-letters them); Unavailable / DataLoss when the store cannot be read. On
  // success `decision` holds a claimgate.v1.Decision without its audit and `audit` the
  // claimgate.v1.AuditRecord.
  absl::Status Decide(absl::string_view event_bytes, StatusLookup& store, int64_t ledger_position,
                      absl::Time processing_time, std::string* decision, std::string* audit);

  // The last claim and result (valid until the next call; the claim views the caller's bytes).
  const ClaimView& last_claim() const { return claim_; }
  const DecisionResult& last_result() const { return result_; }
  DecisionContext& context() { return ctx_; }

 private:
  DecisionContext ctx_;
  ClaimView claim_;
  DecisionResult result_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_BINARY_DECIDER_H_
