// A claim as the decision reads it: string views into the bytes it came from (a Protobuf message or
// the wire), no copies. The binary path parses the wire straight into a view; the file path views a
// parsed message. Both digest the same canonical bytes.
#ifndef CLAIMGATE_GATE_CLAIM_VIEW_H_
#define CLAIMGATE_GATE_CLAIM_VIEW_H_

#include <memory>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claimgate/v1/events.pb.h"

namespace claimgate::gate {

struct ClaimView {
  struct Practitioner {
    absl::string_view person_id;
    int role = 0;  // v1::Claim::Practitioner::Role
  };
  struct Item {
    absl::string_view item_code;
    int category = 0;  // v1::Claim::Item::Category
    int64_t amount_fen = 0;
    absl::InlinedVector<absl::string_view, 2> traceability_codes;
  };

  absl::string_view event_id;  // of the envelope; empty when viewing a bare claim
  absl::Time submitted;        // the envelope's `time` (SPEC §7: when the claim was submitted)
  bool has_submitted = false;  // false when viewing a bare claim
  absl::string_view claim_id;
  int kind = 0;  // v1::Claim::Kind
  absl::string_view institution_id;
  absl::Time service_time;
  bool has_service_time = false;
  int visit_type = 0;  // v1::Claim::VisitType
  absl::string_view insured_id;
  absl::string_view insured_region;  // 参保地 (SPEC §8.2); empty: not given
  absl::InlinedVector<Practitioner, 4> practitioners;
  absl::InlinedVector<Item, 4> items;
  // The message the views point into when ParseClaimEvent left the bytes to Protobuf's parser
  // (kept across Clear() for reuse). Moving a view keeps it valid; it cannot be copied.
  std::unique_ptr<v1::Event> owned;

  // Keeps allocated capacity (for reuse on the hot path).
  void Clear();
};

// Parses a claimgate.v1.Event holding a claim, from Protobuf bytes that must outlive the view.
// The answer is always Protobuf's parser's plus ledger::ValidateEvent's: the wire is read straight
// into the view for the shape producers write, and anything else (another body before the claim,
// a claim or time given twice, groups, a field with another wire type, bad bytes) is parsed by
// Protobuf into `out->owned` (tests/fuzz/claim_wire_fuzzer compares the two). InvalidArgument when
// the bytes are not a valid claim event (the caller dead-letters the message).
absl::Status ParseClaimEvent(absl::string_view bytes, ClaimView* out);

// Views a parsed claim (the message must outlive the view).
void ViewClaim(const v1::Claim& claim, absl::string_view event_id, ClaimView* out);
// Views a parsed claim event: the claim, its event id and its submission time.
void ViewEvent(const v1::Event& event, ClaimView* out);

// The claim's canonical bytes: what Protobuf's deterministic serializer writes for the same claim.
void CanonicalClaimBytes(const ClaimView& claim, std::string* out);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_CLAIM_VIEW_H_
