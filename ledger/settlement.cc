// Release 2 ledger rules (SPEC §8.1, §8.2, §8.5): settlement suspensions of insured persons and of
// institutions, and the notice for institutions with many sanctioned staff. Part of the Ledger
// class (ledger.h); the person rules are in ledger.cc.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/calendar.h"
#include "ledger/ledger.h"
#include "ledger/ledger_facts.h"

namespace claimgate::ledger {
namespace {

constexpr int kMinInsuredMonths = 3;   // 暂停医保结算3至12个月 (seeds/001)
constexpr int kMaxInsuredMonths = 12;

// Calls `fn(t)` with the start of each suspension and termination in a person's status.
template <typename Fn>
void ForEachSanctionStart(const v1::PersonStatus& status, Fn fn) {
  for (const auto& s : status.suspensions()) fn(FromProto(s.since()));
  for (const auto& t : status.terminations()) fn(FromProto(t.since()));
}

}  // namespace

bool Ledger::DecisionSpent(const std::string& decision_id) const {
  return insured_decisions_.contains(decision_id) || settlement_decisions_.contains(decision_id);
}

const std::string* Ledger::Lift(const absl::flat_hash_map<std::string, std::string>& decisions,
                                const std::string& decision_id) {
  const auto it = decisions.find(decision_id);
  if (it == decisions.end() || !lifted_decisions_.insert(decision_id).second) return nullptr;
  return &it->second;
}

ApplyResult Ledger::ApplyInsuredSettlementSuspended(const v1::Event& e) {
  const v1::InsuredSettlementSuspended& body = e.insured_settlement_suspended();
  if (body.months() < kMinInsuredMonths || body.months() > kMaxInsuredMonths) {
    return Refuse(e, v1::INVALID_MONTHS,
                  absl::StrCat("months ", body.months(), " outside ", kMinInsuredMonths, "..",
                               kMaxInsuredMonths));
  }
  if (DecisionSpent(body.decision_id())) {
    return Refuse(e, v1::DUPLICATE_EVENT,
                  absl::StrCat("decision_id '", body.decision_id(), "' recorded before"));
  }
  insured_decisions_.emplace(body.decision_id(), body.insured_id());
  // An insured person belongs to no institution: months count in the default profile's zone
  // (docs/assumptions.md R2-1).
  const absl::Time since = FromProto(e.time());
  const absl::Time until = default_profile_->calendar().AddMonths(since, body.months());
  auto& slot = insured_[body.insured_id()];
  if (slot == nullptr) {
    slot = std::make_unique<v1::InsuredStatus>();
    slot->set_insured_id(body.insured_id());
  }
  v1::InsuredStatus::Suspension s;
  SetProto(since, s.mutable_since());
  SetProto(until, s.mutable_until());
  s.set_decision_id(body.decision_id());
  InsertBySince(slot->mutable_suspensions(), std::move(s));
  ApplyResult r;
  r.changed_insured.push_back(body.insured_id());
  return r;
}

ApplyResult Ledger::ApplyInsuredSuspensionRevoked(const v1::Event& e) {
  const std::string& decision = e.insured_suspension_revoked().decision_id();
  const std::string* insured_id = Lift(insured_decisions_, decision);
  if (insured_id == nullptr) {
    return Refuse(e, v1::UNKNOWN_DECISION,
                  absl::StrCat("no insured settlement suspension '", decision, "' in force"));
  }
  v1::InsuredStatus& status = *insured_.at(*insured_id);
  auto* list = status.mutable_suspensions();
  for (int i = 0; i < list->size(); ++i) {
    if (list->at(i).decision_id() == decision) {
      list->DeleteSubrange(i, 1);
      break;
    }
  }
  ApplyResult r;
  r.changed_insured.push_back(*insured_id);
  return r;
}

ApplyResult Ledger::ApplySettlementSuspended(const v1::Event& e) {
  const v1::SettlementSuspended& body = e.settlement_suspended();
  if (DecisionSpent(body.decision_id())) {
    return Refuse(e, v1::DUPLICATE_EVENT,
                  absl::StrCat("decision_id '", body.decision_id(), "' recorded before"));
  }
  settlement_decisions_.emplace(body.decision_id(), body.institution_id());
  Institution& inst = InstitutionFor(body.institution_id());
  v1::InstitutionStatus::SettlementSuspension s;
  SetProto(FromProto(e.time()), s.mutable_since());
  s.set_scope(body.scope());
  s.set_decision_id(body.decision_id());
  InsertBySince(inst.status.mutable_settlement_suspensions(), std::move(s));
  ApplyResult r;
  r.changed_institutions.push_back(body.institution_id());
  return r;
}

ApplyResult Ledger::ApplySettlementResumed(const v1::Event& e) {
  const std::string& decision = e.settlement_resumed().decision_id();
  const std::string* institution_id = Lift(settlement_decisions_, decision);
  if (institution_id == nullptr) {
    return Refuse(e, v1::UNKNOWN_DECISION,
                  absl::StrCat("no settlement suspension '", decision, "' in force"));
  }
  v1::InstitutionStatus& status = institutions_.at(*institution_id)->status;
  for (auto& s : *status.mutable_settlement_suspensions()) {
    if (s.decision_id() != decision) continue;
    // Resumed before it began: an empty interval (docs/assumptions.md R2-3).
    SetProto(std::max(FromProto(e.time()), FromProto(s.since())), s.mutable_until());
    break;
  }
  ApplyResult r;
  r.changed_institutions.push_back(*institution_id);
  return r;
}

bool Ledger::RegisteredDuring(const Person& p, absl::string_view institution_id, absl::Time from,
                              absl::Time to) {
  for (const Person::Registration& reg : p.registrations) {
    if (reg.institution_id == institution_id && reg.since < to && from < reg.until) return true;
  }
  return false;
}

int Ledger::SanctionsAt(const Person& p, absl::string_view institution_id, absl::Time from,
                        absl::Time to) {
  int count = 0;
  // Registered at t: during [t, t + 1 ns), as every time here is whole nanoseconds.
  ForEachSanctionStart(p.status, [&](absl::Time t) {
    if (from <= t && t < to && RegisteredDuring(p, institution_id, t, t + absl::Nanoseconds(1))) {
      ++count;
    }
  });
  return count;
}

void Ledger::CheckSanctionRatios(const v1::Event& cause, ApplyResult& result) {
  // The (institution, year) pairs a changed person's sanctions fall in: only there can a count
  // have grown.
  std::vector<std::pair<std::string, int>> candidates;
  for (const std::string& id : result.changed_persons) {
    const Person& p = *persons_.at(id);
    for (const Person::Registration& reg : p.registrations) {
      const Profile& profile = ProfileOf(reg.institution_id);
      if (!profile.sanctioned_staff_ratio().has_value()) continue;
      ForEachSanctionStart(p.status, [&](absl::Time t) {
        if (reg.since <= t && t < reg.until) {
          candidates.emplace_back(reg.institution_id, profile.calendar().YearOf(t));
        }
      });
    }
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  for (const auto& [institution_id, year] : candidates) {
    if (ratio_noticed_.contains(std::make_pair(institution_id, year))) continue;
    const Profile& profile = ProfileOf(institution_id);
    const absl::Time from = profile.calendar().StartOf(absl::CivilDay(year, 1, 1));
    const absl::Time to = profile.calendar().StartOf(absl::CivilDay(year + 1, 1, 1));
    int sanctions = 0, staff = 0;
    for (const std::string& person_id : registered_at_[institution_id]) {
      const Person& p = *persons_.at(person_id);
      if (!RegisteredDuring(p, institution_id, from, to)) continue;
      ++staff;
      sanctions += SanctionsAt(p, institution_id, from, to);
    }
    const double ratio = *profile.sanctioned_staff_ratio();
    if (staff == 0 || sanctions <= ratio * staff) continue;
    ratio_noticed_.emplace(institution_id, year);
    v1::LedgerNotice& n = result.notices.emplace_back();
    n.set_event_id(cause.event_id());
    n.set_notice("INSTITUTION_SANCTION_RATIO_EXCEEDED");
    n.set_institution_id(institution_id);
    n.set_year(year);
    n.set_year_total(sanctions);
    n.set_message(absl::StrFormat(
        "%d suspensions and terminations of the %d persons registered in %d exceed the ratio %g",
        sanctions, staff, year, ratio));
  }
}

}  // namespace claimgate::ledger
