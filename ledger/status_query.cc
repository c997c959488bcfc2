// Reading status timelines.
#include "ledger/status_query.h"

#include <algorithm>

#include "ledger/calendar.h"

namespace claimgate::ledger {
namespace {

absl::Time UntilOf(const google::protobuf::Timestamp& ts, bool present) {
  return present ? FromProto(ts) : absl::InfiniteFuture();
}

// The latest termination that started at or before t, or null.
const v1::PersonStatus::Termination* TerminationAt(const v1::PersonStatus& p, absl::Time t) {
  const v1::PersonStatus::Termination* found = nullptr;
  for (const auto& term : p.terminations()) {
    if (FromProto(term.since()) <= t) found = &term;
  }
  return found;
}

// The first registration at or before t that begins after the bar of `term`, i.e. ends its TERMINATED state.
absl::Time ReRegistrationAfter(const v1::PersonStatus& p, const v1::PersonStatus::Termination& term) {
  absl::Time first = absl::InfiniteFuture();
  const absl::Time bar = FromProto(term.bar_until());
  for (const auto& r : p.registrations()) {
    const absl::Time since = FromProto(r.since());
    if (since >= bar) first = std::min(first, since);
  }
  return first;
}

StateAt SuspensionOrNormalAt(const v1::PersonStatus& p, absl::Time t, absl::Time floor) {
  // Merge the suspensions (ordered by since) into maximal blocks; t lies in one block or between two.
  StateAt out;
  absl::Time block_since = absl::InfinitePast(), block_until = absl::InfinitePast();
  auto close_block = [&]() -> bool {  // true when the block holds t
    if (block_since <= t && t < block_until) {
      out = StateAt{v1::PersonStatus::SUSPENDED, block_since, block_until};
      return true;
    }
    if (block_until <= t) out.since = std::max(out.since, block_until);
    if (block_since > t) out.until = std::min(out.until, block_since);
    return false;
  };
  bool found = false;
  bool open = false;
  for (const auto& s : p.suspensions()) {
    const absl::Time since = FromProto(s.since());
    const absl::Time until = UntilOf(s.until(), s.has_until());
    if (until <= since) continue;
    if (open && since <= block_until) {
      block_until = std::max(block_until, until);
      continue;
    }
    if (open && (found = close_block())) break;
    block_since = since;
    block_until = until;
    open = true;
  }
  if (!found && open) close_block();
  // Either state holds no earlier than the re-registration that ended a termination, and no later than
  // the next termination.
  out.since = std::max(out.since, floor);
  for (const auto& term : p.terminations()) {
    const absl::Time since = FromProto(term.since());
    if (since > t) out.until = std::min(out.until, since);
  }
  return out;
}

}  // namespace

StateAt PersonStateAt(const v1::PersonStatus& person, absl::Time t) {
  absl::Time floor = absl::InfinitePast();
  if (const auto* term = TerminationAt(person, t)) {
    const absl::Time back = ReRegistrationAfter(person, *term);
    if (t < back) {
      StateAt out{v1::PersonStatus::TERMINATED, FromProto(term->since()), back};
      for (const auto& next : person.terminations()) {  // a later termination starts a new interval
        const absl::Time since = FromProto(next.since());
        if (since > t) out.until = std::min(out.until, since);
      }
      return out;
    }
    floor = back;
  }
  return SuspensionOrNormalAt(person, t, floor);
}

int YearTotalAt(const v1::PersonStatus& person, int year, absl::Time t) {
  int total = 0;
  for (const auto& step : person.points()) {
    if (FromProto(step.since()) > t) break;
    if (step.year() == year) total = step.total();
  }
  return total;
}

Standing StandingAt(const v1::PersonStatus* person, absl::string_view institution_id, absl::Time t) {
  Standing out;
  if (person == nullptr) {
    out.registration = v1::PRACTITIONER_NOT_REGISTERED;
    return out;
  }
  const v1::PersonStatus::Registration* reg = nullptr;
  for (const auto& r : person->registrations()) {  // ordered by since: the last one wins
    if (r.institution_id() == institution_id && FromProto(r.since()) <= t) reg = &r;
  }
  if (reg == nullptr) {
    out.registration = v1::PRACTITIONER_NOT_REGISTERED;
    out.sanction = PersonStateAt(*person, t);
    return out;
  }
  const absl::Time since = FromProto(reg->since());
  const absl::Time until = UntilOf(reg->until(), reg->has_until());
  if (const auto* term = TerminationAt(*person, t)) {
    const absl::Time term_since = FromProto(term->since());
    if (since < FromProto(term->bar_until()) && until > term_since) {
      out.sanction = StateAt{v1::PersonStatus::TERMINATED, term_since, absl::InfiniteFuture()};
      return out;
    }
  }
  if (t >= until) {
    out.registration = v1::PRACTITIONER_NOT_REGISTERED;
    out.sanction = PersonStateAt(*person, t);
    return out;
  }
  if (!reg->has_committed_at() || FromProto(reg->committed_at()) > t) {
    out.registration = v1::NO_SERVICE_COMMITMENT;
  }
  out.sanction = PersonStateAt(*person, t);
  return out;
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
