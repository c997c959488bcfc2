// Bytes in, bytes out.
#include "gate/binary_decider.h"

namespace claimgate::gate {

absl::Status BinaryDecider::Decide(absl::string_view event_bytes, StatusLookup& store,
                                   int64_t ledger_position, absl::Time processing_time,
                                   std::string* decision, std::string* audit) {
  if (absl::Status s = ParseClaimEvent(event_bytes, &claim_); !s.ok()) return s;
  if (absl::Status s = store.Resolve(claim_); !s.ok()) return s;
  ctx_.ledger_position = ledger_position;
  ctx_.processing_time = processing_time;
  DecideView(claim_, store, ctx_, &result_);
  EncodeDecision(claim_, result_, decision);
  EncodeAudit(claim_, result_, ctx_, audit);
  return absl::OkStatus();
}

}  // namespace claimgate::gate
