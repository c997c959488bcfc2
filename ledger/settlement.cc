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

// Inserts `item` into `list` ordered by `since`; equal times keep arrival order.
template <typename List, typename Item>
void InsertBySince(List* list, Item item) {
  const absl::Time t = FromProto(item.since());
  list->Add(std::move(item));
  for (int i = list->size() - 1; i > 0 && FromProto(list->at(i - 1).since()) > t; --i) {
    list->SwapElements(i, i - 1);
  }
}

}  // namespace

ApplyResult Ledger::ApplyInsuredSettlementSuspended(const v1::Event& e) {
  const v1::InsuredSettlementSuspended& body = e.insured_settlement_suspended();
  if (body.months() < kMinInsuredMonths || body.months() > kMaxInsuredMonths) {
    return Refuse(e, v1::INVALID_MONTHS,
                  absl::StrCat("months ", body.months(), " outside ", kMinInsuredMonths, "..",
                               kMaxInsuredMonths));
  }
  if (insured_decisions_.contains(body.decision_id()) ||
      settlement_decisions_.contains(body.decision_id())) {
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
  auto it = insured_decisions_.find(decision);
  if (it == insured_decisions_.end() || lifted_decisions_.contains(decision)) {
    return Refuse(e, v1::UNKNOWN_DECISION,
                  absl::StrCat("no insured settlement suspension '", decision, "' in force"));
  }
  lifted_decisions_.insert(decision);
  v1::InsuredStatus& status = *insured_.at(it->second);
  auto* list = status.mutable_suspensions();
  for (int i = 0; i < list->size(); ++i) {
    if (list->at(i).decision_id() == decision) {
      list->DeleteSubrange(i, 1);
      break;
    }
  }
  ApplyResult r;
  r.changed_insured.push_back(it->second);
  return r;
}

ApplyResult Ledger::ApplySettlementSuspended(const v1::Event& e) {
  const v1::SettlementSuspended& body = e.settlement_suspended();
  if (insured_decisions_.contains(body.decision_id()) ||
      settlement_decisions_.contains(body.decision_id())) {
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
  auto it = settlement_decisions_.find(decision);
  if (it == settlement_decisions_.end() || lifted_decisions_.contains(decision)) {
    return Refuse(e, v1::UNKNOWN_DECISION,
                  absl::StrCat("no settlement suspension '", decision, "' in force"));
  }
  lifted_decisions_.insert(decision);
  v1::InstitutionStatus& status = institutions_.at(it->second)->status;
  for (auto& s : *status.mutable_settlement_suspensions()) {
    if (s.decision_id() != decision) continue;
    // Resumed before it began: an empty interval (docs/assumptions.md R2-3).
    SetProto(std::max(FromProto(e.time()), FromProto(s.since())), s.mutable_until());
    break;
  }
  ApplyResult r;
  r.changed_institutions.push_back(it->second);
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
  auto registered_at = [&](absl::Time t) {
    for (const Person::Registration& reg : p.registrations) {
      if (reg.institution_id == institution_id && reg.since <= t && t < reg.until) return true;
    }
    return false;
  };
  int count = 0;
  auto count_one = [&](const google::protobuf::Timestamp& since) {
    const absl::Time t = FromProto(since);
    if (from <= t && t < to && registered_at(t)) ++count;
  };
  for (const auto& s : p.status.suspensions()) count_one(s.since());
  for (const auto& t : p.status.terminations()) count_one(t.since());
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
      auto add = [&](const google::protobuf::Timestamp& since) {
        const absl::Time t = FromProto(since);
        if (reg.since <= t && t < reg.until) {
          candidates.emplace_back(reg.institution_id, profile.calendar().YearOf(t));
        }
      };
      for (const auto& s : p.status.suspensions()) add(s.since());
      for (const auto& t : p.status.terminations()) add(t.since());
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
