// Test helpers: terse builders for ledger events and claims. Times are "YYYY-MM-DDTHH:MM" in
// UTC+08:00 unless they carry their own offset.
#ifndef CLAIMGATE_TESTS_TESTING_EVENTS_H_
#define CLAIMGATE_TESTS_TESTING_EVENTS_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "claimgate/v1/events.pb.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/calendar.h"

namespace claimgate::testing {

inline absl::Time T(const std::string& text) {
  std::string full = text;
  if (full.size() == 10) full += "T00:00";
  if (full.size() == 16) full += ":00";
  if (full.find('+') == std::string::npos && full.back() != 'Z') full += "+08:00";
  absl::StatusOr<absl::Time> t = ledger::ParseRfc3339(full);
  if (!t.ok()) std::abort();  // a typo in a test
  return *t;
}

// Builds events with consecutive ids E1, E2, ...
class EventBuilder {
 public:
  v1::Event Base(const std::string& time) {
    v1::Event e;
    e.set_event_id("E" + std::to_string(++next_));
    ledger::SetProto(T(time), e.mutable_time());
    return e;
  }
  v1::Event Institution(const std::string& id, const std::string& profile,
                        v1::InstitutionRegistered::Kind kind = v1::InstitutionRegistered::HOSPITAL,
                        int level = 3, const std::string& region = "R1",
                        const std::string& time = "2025-01-01T08:00") {
    v1::Event e = Base(time);
    auto* b = e.mutable_institution_registered();
    b->set_institution_id(id);
    b->set_kind(kind);
    b->set_level(level);
    b->set_region(region);
    b->set_profile(profile);
    return e;
  }
  v1::Event Register(const std::string& person, const std::string& inst, const std::string& time) {
    v1::Event e = Base(time);
    auto* b = e.mutable_person_registered();
    b->set_person_id(person);
    b->set_institution_id(inst);
    b->set_role(v1::PersonRegistered::PHYSICIAN);
    return e;
  }
  v1::Event Deregister(const std::string& person, const std::string& inst,
                       const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_person_deregistered()->set_person_id(person);
    e.mutable_person_deregistered()->set_institution_id(inst);
    return e;
  }
  v1::Event Commit(const std::string& person, const std::string& inst, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_commitment_signed()->set_person_id(person);
    e.mutable_commitment_signed()->set_institution_id(inst);
    return e;
  }
  v1::Event Score(const std::string& id, const std::string& person, const std::string& inst,
                  int points, const std::string& time,
                  const std::string& violation = "OVER_TREATMENT",
                  v1::ScoreAssessed::Responsibility r = v1::ScoreAssessed::MAIN) {
    v1::Event e = Base(time);
    auto* b = e.mutable_score_assessed();
    b->set_assessment_id(id);
    b->set_person_id(person);
    b->set_institution_id(inst);
    b->set_points(points);
    b->set_responsibility(r);
    b->set_violation(violation);
    b->set_basis(v1::ScoreAssessed::ADMINISTRATIVE_PENALTY);
    b->set_decision_id("P-" + id);
    return e;
  }
  v1::Event Confirm(const std::string& id, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_assessment_confirmed()->set_assessment_id(id);
    return e;
  }
  v1::Event Revoke(const std::string& id, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_assessment_revoked()->set_assessment_id(id);
    e.mutable_assessment_revoked()->set_reason("appeal upheld");
    return e;
  }
  v1::Event Adjust(const std::string& id, int points, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_assessment_adjusted()->set_assessment_id(id);
    e.mutable_assessment_adjusted()->set_points(points);
    return e;
  }
  v1::Event Credit(const std::string& person, v1::RestorationCredited::Kind kind, int points,
                   const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_restoration_credited()->set_person_id(person);
    e.mutable_restoration_credited()->set_kind(kind);
    e.mutable_restoration_credited()->set_points(points);
    return e;
  }
  v1::Event Shorten(const std::string& person, int days, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_sanction_shortened()->set_person_id(person);
    e.mutable_sanction_shortened()->set_days(days);
    return e;
  }
  v1::Event Agreement(const std::string& inst, v1::AgreementChanged::State state,
                      std::vector<std::string> persons, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_agreement_changed()->set_institution_id(inst);
    e.mutable_agreement_changed()->set_state(state);
    for (auto& p : persons) e.mutable_agreement_changed()->add_responsible_person_ids(p);
    return e;
  }
  // SPEC §8.1, §8.2.
  v1::Event InsuredSuspend(const std::string& insured, int months, const std::string& decision,
                           const std::string& time) {
    v1::Event e = Base(time);
    auto* b = e.mutable_insured_settlement_suspended();
    b->set_insured_id(insured);
    b->set_months(months);
    b->set_decision_id(decision);
    return e;
  }
  v1::Event InsuredRevoke(const std::string& decision, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_insured_suspension_revoked()->set_decision_id(decision);
    return e;
  }
  v1::Event SettlementSuspend(const std::string& inst, v1::SettlementSuspended::Scope scope,
                              const std::string& decision, const std::string& time) {
    v1::Event e = Base(time);
    auto* b = e.mutable_settlement_suspended();
    b->set_institution_id(inst);
    b->set_scope(scope);
    b->set_decision_id(decision);
    return e;
  }
  v1::Event SettlementResume(const std::string& decision, const std::string& time) {
    v1::Event e = Base(time);
    e.mutable_settlement_resumed()->set_decision_id(decision);
    return e;
  }
  v1::Event Claim(const std::string& id, const std::string& inst, const std::string& service_time,
                  std::vector<std::string> persons,
                  v1::Claim::VisitType visit = v1::Claim::OUTPATIENT) {
    v1::Event e = Base(service_time);
    e.set_event_id(id);
    auto* c = e.mutable_claim();
    c->set_claim_id(id);
    c->set_kind(v1::Claim::SETTLEMENT);
    c->set_institution_id(inst);
    ledger::SetProto(T(service_time), c->mutable_service_time());
    c->set_visit_type(visit);
    c->set_insured_id("INS1");
    for (auto& p : persons) {
      auto* pr = c->add_practitioners();
      pr->set_person_id(p);
      pr->set_role(v1::Claim::Practitioner::PRESCRIBER);
    }
    auto* item = c->add_items();
    item->set_item_code("SVC1");
    item->set_category(v1::Claim::Item::SERVICE);
    item->set_amount_fen(1000);
    return e;
  }

 private:
  int next_ = 0;
};

}  // namespace claimgate::testing

#endif  // CLAIMGATE_TESTS_TESTING_EVENTS_H_
