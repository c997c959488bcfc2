// The gate's decision (SPEC §5) and its audit record (SPEC §6): a pure function of the claim, the status
// records it looks up and the policy profiles. The file path (`claimgate check`) and the streaming path
// (`claimgate serve`) both decide through Decide().
#ifndef CLAIMGATE_GATE_DECISION_H_
#define CLAIMGATE_GATE_DECISION_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"
#include "ledger/profile.h"

namespace claimgate::gate {

// Where status records come from: the in-process ledger, or the gate's status store.
class StatusLookup {
 public:
  virtual ~StatusLookup() = default;
  // Null when unknown. The pointer must stay valid for the duration of one Decide() call.
  virtual const v1::PersonStatus* FindPerson(absl::string_view person_id) const = 0;
  virtual const v1::InstitutionStatus* FindInstitution(absl::string_view institution_id) const = 0;
};

// Everything a decision depends on besides the claim and the status records.
struct DecisionContext {
  const ledger::ProfileSet* profiles = nullptr;        // not owned; required
  const ledger::Profile* default_profile = nullptr;    // not owned; required
  bool shadow = false;            // rollout mode for every profile (else the profile's `shadow`)
  bool status_stale = false;      // the status feed is older than the staleness bound
  int64_t ledger_position = 0;    // ledger events applied to the status used
  std::string gate_version;
  std::string event_id;
  v1::AuditRecord::Source source;
  absl::Time processing_time = absl::UnixEpoch();
};

// The profile governing an institution's claims: the one its status names, else the default.
const ledger::Profile& ProfileFor(const v1::InstitutionStatus* institution,
                                  const DecisionContext& ctx);

// Decides a structurally valid claim (ledger::ValidateEvent). Thread-compatible: const inputs only.
v1::Decision Decide(const v1::Claim& claim, const StatusLookup& status, const DecisionContext& ctx);

// The same into a caller-owned message (cleared first): with `out` on a reused arena the hot path does not
// call malloc once warm.
void DecideInto(const v1::Claim& claim, const StatusLookup& status, const DecisionContext& ctx,
                v1::Decision* out);

// True for a code that makes the claim REJECT on its own (before shadow mode).
bool IsRejecting(v1::ReasonCode code);

// A traceability code is valid when it is exactly 20 ASCII digits (seeds/001).
bool IsValidTraceabilityCode(absl::string_view code);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_DECISION_H_
