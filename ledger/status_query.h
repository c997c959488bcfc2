// Questions answered from a published status record alone: the state of a person at an instant, the
// year total, and how a practitioner stands at one institution. Pure functions shared by the gate's
// decision, the status query endpoint and the tests. The PersonRecord forms are the ones the
// decision uses; the PersonStatus forms flatten the message first (convenient, slower).
#ifndef CLAIMGATE_LEDGER_STATUS_QUERY_H_
#define CLAIMGATE_LEDGER_STATUS_QUERY_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "claimgate/v1/decision.pb.h"
#include "claimgate/v1/status.pb.h"
#include "ledger/person_record.h"

namespace claimgate::ledger {

// A state and the half-open interval [since, until) it holds over; unbounded ends are infinite.
struct StateAt {
  v1::PersonStatus::State state = v1::PersonStatus::NORMAL;
  absl::Time since = absl::InfinitePast();
  absl::Time until = absl::InfiniteFuture();
};

// The person-level state at `t` (docs/assumptions.md D19): TERMINATED from a termination until the
// person registers again after its bar; else SUSPENDED while any suspension covers `t` (overlapping
// suspensions merge into one interval); else NORMAL. The intervals answered partition time.
StateAt PersonStateAt(const PersonRecord& person, absl::Time t);
StateAt PersonStateAt(const v1::PersonStatus& person, absl::Time t);

// The total of calendar year `year` as it stood at `t`.
int YearTotalAt(const PersonRecord& person, int year, absl::Time t);
int YearTotalAt(const v1::PersonStatus& person, int year, absl::Time t);

// SPEC §4.3: a termination [term_since, bar_until) ends every registration [reg_since, reg_until)
// it overlaps. One rule for the ledger (absl::Time) and the status records (PersonRecord's int64
// nanoseconds).
template <typename Time>
bool TerminationEndsRegistration(Time term_since, Time bar_until, Time reg_since, Time reg_until) {
  return reg_since < bar_until && reg_until > term_since;
}

// How a practitioner stands at one institution at `t`.
struct Standing {
  // PRACTITIONER_NOT_REGISTERED or NO_SERVICE_COMMITMENT, or unspecified when the registration is
  // fine.
  v1::ReasonCode registration = v1::REASON_CODE_UNSPECIFIED;
  // The sanction state that applies to this registration (NORMAL when none).
  StateAt sanction;
};

// SPEC §5 for one practitioner. A registration that a termination ended (or that began inside the
// re-registration bar) stands TERMINATED, not NOT_REGISTERED. `person` may be null (unknown
// person).
Standing StandingAt(const PersonRecord* person, absl::string_view institution_id, absl::Time t);
Standing StandingAt(const v1::PersonStatus* person, absl::string_view institution_id, absl::Time t);

// The institution's agreement state at `t`; ACTIVE before the first change and for unknown
// institutions.
v1::AgreementChanged::State AgreementAt(const v1::InstitutionStatus* institution, absl::Time t);

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_STATUS_QUERY_H_
