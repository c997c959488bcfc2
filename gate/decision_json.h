// The decision line `claimgate check` prints for a claim, written straight from the decision core's
// result: the bytes ledger::ToJson gives for ToDecisionProto's message with the chain's two fields
// set, without building the message (issue 17: building it and walking it by reflection was half of
// the file path's time per claim). check_golden_test runs `check` both ways and requires the same
// bytes.
#ifndef CLAIMGATE_GATE_DECISION_JSON_H_
#define CLAIMGATE_GATE_DECISION_JSON_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "gate/claim_view.h"
#include "gate/decision.h"

namespace claimgate::gate {

// Appends the decision line (without a newline) to `out`. False, and `out` as it was, when a value
// is one only Protobuf's printer may write (a string it escapes, an enum number without a name, a
// time outside years 1-9999): the caller then prints ToDecisionProto's message.
// `claim_digest` is ClaimDigestHex's.
bool AppendDecisionJson(const ClaimView& claim, const DecisionResult& result,
                        const DecisionContext& ctx, absl::string_view claim_digest,
                        int64_t chain_seq, absl::string_view prev_hash, std::string* out);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_DECISION_JSON_H_
