// Reading status timelines. All arithmetic on int64 nanoseconds (PersonRecord's unit); kOpen is
// +infinity.
#include "ledger/status_query.h"

#include <algorithm>
#include <limits>

#include "ledger/calendar.h"

namespace claimgate::ledger {
namespace {

using R = PersonRecord;
constexpr int64_t kOpen = R::kOpen;
constexpr int64_t kPast = std::numeric_limits<int64_t>::min();

struct NanoState {
  v1::PersonStatus::State state = v1::PersonStatus::NORMAL;
  int64_t since = kPast;
  int64_t until = kOpen;
};

StateAt ToStateAt(const NanoState& s) {
  return StateAt{s.state, R::FromNanos(s.since), R::FromNanos(s.until)};
}

// The latest termination that started at or before t, or null.
const R::Termination* TerminationAt(const R& p, int64_t t) {
  const R::Termination* found = nullptr;
  for (const auto& term : p.terminations()) {
    if (term.since <= t) found = &term;
  }
  return found;
}

// The first registration that begins at or after the bar of `term`: it ends the TERMINATED state.
int64_t ReRegistrationAfter(const R& p, const R::Termination& term) {
  int64_t first = kOpen;
  for (const auto& r : p.registrations()) {
    if (r.since >= term.bar_until) first = std::min(first, r.since);
  }
  return first;
}

NanoState SuspensionOrNormalAt(const R& p, int64_t t, int64_t floor) {
  // Merge the suspensions (ordered by since) into maximal blocks; t lies in one block or between
  // two.
  NanoState out;
  int64_t block_since = kPast, block_until = kPast;
  bool open = false, found = false;
  auto close_block = [&]() -> bool {  // true when the block holds t
    if (block_since <= t && t < block_until) {
      out = NanoState{v1::PersonStatus::SUSPENDED, block_since, block_until};
      return true;
    }
    if (block_until <= t) out.since = std::max(out.since, block_until);
    if (block_since > t) out.until = std::min(out.until, block_since);
    return false;
  };
  for (const auto& s : p.suspensions()) {
    if (s.until <= s.since) continue;
    if (open && s.since <= block_until) {
      block_until = std::max(block_until, s.until);
      continue;
    }
    if (open && (found = close_block())) break;
    block_since = s.since;
    block_until = s.until;
    open = true;
  }
  if (!found && open) close_block();
  // Either state holds no earlier than the re-registration that ended a termination, and no later
  // than the next termination.
  out.since = std::max(out.since, floor);
  for (const auto& term : p.terminations()) {
    if (term.since > t) out.until = std::min(out.until, term.since);
  }
  return out;
}

NanoState PersonStateAtNanos(const R& person, int64_t t) {
  int64_t floor = kPast;
  if (const auto* term = TerminationAt(person, t)) {
    const int64_t back = ReRegistrationAfter(person, *term);
    if (t < back) {
      NanoState out{v1::PersonStatus::TERMINATED, term->since, back};
      for (const auto& next : person.terminations()) {  // a later termination starts a new interval
        if (next.since > t) out.until = std::min(out.until, next.since);
      }
      return out;
    }
    floor = back;
  }
  return SuspensionOrNormalAt(person, t, floor);
}

}  // namespace

StateAt PersonStateAt(const PersonRecord& person, absl::Time t) {
  return ToStateAt(PersonStateAtNanos(person, R::ToNanos(t)));
}

StateAt PersonStateAt(const v1::PersonStatus& person, absl::Time t) {
  return PersonStateAt(PersonRecord(person), t);
}

int YearTotalAt(const PersonRecord& person, int year, absl::Time t) {
  const int64_t n = R::ToNanos(t);
  int total = 0;
  for (const auto& step : person.points()) {
    if (step.since > n) break;
    if (step.year == year) total = step.total;
  }
  return total;
}

int YearTotalAt(const v1::PersonStatus& person, int year, absl::Time t) {
  return YearTotalAt(PersonRecord(person), year, t);
}

Standing StandingAt(const PersonRecord* person, absl::string_view institution_id, absl::Time time) {
  Standing out;
  if (person == nullptr) {
    out.registration = v1::PRACTITIONER_NOT_REGISTERED;
    return out;
  }
  const int64_t t = R::ToNanos(time);
  const R::Registration* reg = nullptr;
  // Ordered by since: the last one in force at t wins, else the last one that began (a
  // registration ended out of order must not hide one still open there).
  for (const auto& r : person->registrations()) {
    if (r.since > t || person->institution(r) != institution_id) continue;
    if (reg == nullptr || t < r.until || t >= reg->until) reg = &r;
  }
  if (reg == nullptr) {
    out.registration = v1::PRACTITIONER_NOT_REGISTERED;
    out.sanction = ToStateAt(PersonStateAtNanos(*person, t));
    return out;
  }
  if (const auto* term = TerminationAt(*person, t)) {
    if (TerminationEndsRegistration(term->since, term->bar_until, reg->since, reg->until)) {
      // The termination ended this registration. Until the person registers again after the bar
      // it is their own sanction that counts; from then on the registration stays ended (SPEC
      // §4.3).
      if (t < ReRegistrationAfter(*person, *term)) {
        out.sanction = StateAt{v1::PersonStatus::TERMINATED, R::FromNanos(term->since),
                               absl::InfiniteFuture()};
        return out;
      }
      out.registration = v1::PRACTITIONER_NOT_REGISTERED;
      out.sanction = ToStateAt(PersonStateAtNanos(*person, t));
      return out;
    }
  }
  if (t >= reg->until) {
    out.registration = v1::PRACTITIONER_NOT_REGISTERED;
    out.sanction = ToStateAt(PersonStateAtNanos(*person, t));
    return out;
  }
  if (reg->committed_at == kOpen || reg->committed_at > t)
    out.registration = v1::NO_SERVICE_COMMITMENT;
  out.sanction = ToStateAt(PersonStateAtNanos(*person, t));
  return out;
}

Standing StandingAt(const v1::PersonStatus* person, absl::string_view institution_id,
                    absl::Time t) {
  if (person == nullptr)
    return StandingAt(static_cast<const PersonRecord*>(nullptr), institution_id, t);
  const PersonRecord record(*person);
  return StandingAt(&record, institution_id, t);
}

v1::AgreementChanged::State AgreementAt(const v1::InstitutionStatus* institution, absl::Time t) {
  v1::AgreementChanged::State state = v1::AgreementChanged::ACTIVE;
  if (institution == nullptr) return state;
  for (const auto& period : institution->agreement()) {
    if (FromProto(period.since()) > t) break;
    state = period.state();
  }
  return state;
}

}  // namespace claimgate::ledger
