// The gate's decision (SPEC §5) and its audit record (SPEC §6): a pure function of the claim, the
// status records it looks up and the policy profiles. The file path (`claimgate check`) and the
// streaming path
// (`claimgate serve`) both decide through Decide().
#ifndef CLAIMGATE_GATE_DECISION_H_
#define CLAIMGATE_GATE_DECISION_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"
#include "gate/claim_view.h"
#include "gate/codes.h"
#include "ledger/person_record.h"
#include "ledger/profile.h"

namespace claimgate::gate {

// Where status records come from: the in-process ledger, or the gate's status store.
class StatusLookup {
 public:
  virtual ~StatusLookup() = default;
  // Called once per claim before its lookups: a store reads the claim's records here, in one
  // batch. Unavailable / DataLoss when they cannot be read.
  virtual absl::Status Resolve(const ClaimView& /*claim*/) { return absl::OkStatus(); }
  // Null when unknown. The pointer must stay valid for the duration of one Decide() call.
  virtual const ledger::PersonRecord* FindPerson(absl::string_view person_id) const = 0;
  virtual const v1::InstitutionStatus* FindInstitution(absl::string_view institution_id) const = 0;
  // An insured person's settlement suspensions (SPEC §8.1); null when never suspended.
  virtual const v1::InsuredStatus* FindInsured(absl::string_view insured_id) const = 0;
};

// Everything a decision depends on besides the claim and the status records.
struct DecisionContext {
  const ledger::ProfileSet* profiles = nullptr;      // not owned; required
  const ledger::Profile* default_profile = nullptr;  // not owned; required
  bool shadow = false;          // rollout mode for every profile (else the profile's `shadow`)
  bool status_stale = false;    // the status feed is older than the staleness bound
  int64_t ledger_position = 0;  // ledger events applied to the status used
  std::string gate_version;
  std::string event_id;
  v1::AuditRecord::Source source;
  absl::Time processing_time = absl::UnixEpoch();
  // Settled traceability codes (SPEC §8.3); null: duplicate codes are not checked.
  const CodeLookup* codes = nullptr;
};

// The profile governing an institution's claims: the one its status names, else the default.
const ledger::Profile& ProfileFor(const v1::InstitutionStatus* institution,
                                  const DecisionContext& ctx);

// What the decision found: outcome, reasons, and the status each practitioner was judged by. Plain
// values and views into the claim (which must outlive it); reused across claims without
// reallocating.
struct DecisionResult {
  struct Reason {
    v1::ReasonCode code = v1::REASON_CODE_UNSPECIFIED;
    absl::string_view person_id;
    absl::string_view item_code;
    absl::string_view insured_id;         // INSURED_SETTLEMENT_SUSPENDED and its exemption
    absl::string_view traceability_code;  // DUPLICATE_TRACEABILITY_CODE
  };
  // A code another claim settled first (SPEC §8.3).
  struct Duplicate {
    absl::string_view code;
    const SettledCode* first = nullptr;  // valid while the CodeLookup is unchanged
  };
  struct PractitionerUsed {
    absl::string_view person_id;
    int role = 0;
    v1::PersonStatus::State state = v1::PersonStatus::NORMAL;
    absl::Time since = absl::InfinitePast();
    absl::Time until = absl::InfiniteFuture();
    int year_points = 0;
    v1::ReasonCode finding = v1::REASON_CODE_UNSPECIFIED;
    int64_t status_position = 0;  // the record's ledger position; 0: no record
  };
  v1::Decision::Outcome outcome = v1::Decision::OUTCOME_UNSPECIFIED;
  absl::InlinedVector<Reason, 8> reasons;
  absl::InlinedVector<PractitionerUsed, 4> practitioners;
  v1::AgreementChanged::State institution_agreement = v1::AgreementChanged::ACTIVE;
  int64_t institution_position = 0;  // the institution record's ledger position; 0: no record
  int64_t insured_position = 0;      // the insured person's record's ledger position; 0: none
  absl::InlinedVector<Duplicate, 2> duplicates;
  // The codes the claim settles (SPEC §8.3), when a CodeLookup was given: a paid SETTLEMENT claim's
  // valid codes of settling items that no other claim holds; each once, in claim order.
  absl::InlinedVector<absl::string_view, 4> settled_codes;
  bool codes_checked = false;  // a CodeLookup was given and the claim has codes that settle
  const ledger::Profile* profile = nullptr;
  bool shadow = false;
};

// THE decision core (SPEC §5): every path decides through this function. Pure; thread-compatible.
void DecideView(const ClaimView& claim, const StatusLookup& status, const DecisionContext& ctx,
                DecisionResult* out);

// The audit record's claim_digest: SHA-256 (hex) of the claim's canonical bytes.
void ClaimDigestHex(const ClaimView& claim, std::string* hex);

// Adapters around the core.
// The Decision message with its audit record (SPEC §6): what the file path prints as JSON.
void ToDecisionProto(const ClaimView& claim, const DecisionResult& result,
                     const DecisionContext& ctx, v1::Decision* out);
// Wire bytes of the same messages for the streaming path, equal to serializing ToDecisionProto's
// output: the Decision without its audit, and the AuditRecord.
void EncodeDecision(const ClaimView& claim, const DecisionResult& result, std::string* out);
void EncodeAudit(const ClaimView& claim, const DecisionResult& result, const DecisionContext& ctx,
                 std::string* out);
// The same with the claim's digest (ClaimDigestHex) given, for a caller that needs it twice.
void EncodeAudit(const ClaimView& claim, const DecisionResult& result, const DecisionContext& ctx,
                 absl::string_view claim_digest, std::string* out);

// A claim_reversed event (SPEC §8.3) that released `released` (the codes the claim settled and
// still held, in the order settled): its decision line, outcome REVERSED, with its audit record.
void ToReversalProto(const v1::Event& event, absl::Span<const std::string> released,
                     const DecisionContext& ctx, v1::Decision* out);

// Decides a structurally valid claim (ledger::ValidateEvent): DecideView + ToDecisionProto. The
// event's `time` is the submission time SPEC §8.4 compares with; a bare claim has none.
v1::Decision Decide(const v1::Event& event, const StatusLookup& status, const DecisionContext& ctx);
v1::Decision Decide(const v1::Claim& claim, const StatusLookup& status, const DecisionContext& ctx);

// Counts a decided claim for a summary: its outcome, and each reason code it cites once however
// many practitioners or items cite it. `reasons`: DecisionResult::reasons or
// v1::Decision::reasons().
inline v1::ReasonCode CodeOf(const DecisionResult::Reason& r) { return r.code; }
inline v1::ReasonCode CodeOf(const v1::Reason& r) { return r.code(); }
template <typename Reasons>
void CountDecision(v1::Decision::Outcome outcome, const Reasons& reasons,
                   std::map<std::string, int64_t>* by_outcome,
                   std::map<std::string, int64_t>* by_reason) {
  ++(*by_outcome)[v1::Decision::Outcome_Name(outcome)];
  absl::InlinedVector<v1::ReasonCode, 8> counted;
  for (const auto& r : reasons) {
    const v1::ReasonCode code = CodeOf(r);
    if (std::find(counted.begin(), counted.end(), code) != counted.end()) continue;
    counted.push_back(code);
    ++(*by_reason)[v1::ReasonCode_Name(code)];
  }
}

// A paid claim: ACCEPT or FLAG (what settles traceability codes, SPEC §8.3).
inline bool IsPaid(v1::Decision::Outcome outcome) {
  return outcome == v1::Decision::ACCEPT || outcome == v1::Decision::FLAG;
}

// True for a code that makes the claim REJECT on its own under `profile` (before shadow mode).
bool IsRejecting(v1::ReasonCode code, const ledger::Profile& profile);

// A traceability code is valid when it is exactly 20 ASCII digits (seeds/001).
bool IsValidTraceabilityCode(absl::string_view code);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_DECISION_H_
