// A ledger over the builtin profiles, with helpers that render what the rule tests compare.
#ifndef CLAIMGATE_TESTS_TESTING_LEDGER_FIXTURE_H_
#define CLAIMGATE_TESTS_TESTING_LEDGER_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/ledger.h"
#include "ledger/render.h"
#include "ledger/status_query.h"
#include "tests/testing/events.h"

namespace claimgate::testing {

class LedgerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Reset("national"); }

  void Reset(const std::string& default_profile) {
    auto profiles = ledger::ProfileSet::Builtin();
    ASSERT_TRUE(profiles.ok()) << profiles.status();
    profiles_ = std::move(*profiles);
    auto created = ledger::Ledger::Create(profiles_.get(), default_profile);
    ASSERT_TRUE(created.ok()) << created.status();
    ledger_ = std::move(*created);
  }

  // Guizhou reviews the first assessment of a region: record a throwaway one for D0 at `inst` so
  // that later assessments there are not the first.
  void UseUpFirstInRegion(const std::string& inst) {
    Apply(ev_.Register("D0", inst, "2025-01-02T09:00"));
    Apply(ev_.Score("A0", "D0", inst, 1, "2025-01-05T10:00"));
  }

  // Applies an event that must be accepted.
  ledger::ApplyResult Apply(const v1::Event& e) {
    ledger::ApplyResult r = ledger_->Apply(e);
    EXPECT_FALSE(r.refused) << e.ShortDebugString() << ": " << r.message;
    return r;
  }
  // "applied" or the refusal code.
  std::string Outcome(const v1::Event& e) {
    ledger::ApplyResult r = ledger_->Apply(e);
    return r.refused ? v1::LedgerError_Name(r.error) : "applied";
  }
  // The person's record without the person id and registrations: sanctions and points only.
  std::string Sanctions(const std::string& person) {
    const v1::PersonStatus* p = ledger_->FindPerson(person);
    if (p == nullptr) return "<unknown>";
    v1::PersonStatus copy = *p;
    copy.clear_registrations();
    copy.clear_points();
    copy.clear_person_id();
    return ledger::RenderPerson(copy);
  }
  std::string Render(const std::string& person) {
    const v1::PersonStatus* p = ledger_->FindPerson(person);
    return p == nullptr ? "<unknown>" : ledger::RenderPerson(*p);
  }
  // "SUSPENDED 2025-03-10T10:00..2025-07-10T10:00"
  std::string StateAt(const std::string& person, const std::string& time) {
    const v1::PersonStatus* p = ledger_->FindPerson(person);
    if (p == nullptr) return "<unknown>";
    ledger::StateAt s = ledger::PersonStateAt(*p, T(time));
    return absl::StrCat(v1::PersonStatus::State_Name(s.state), " ", ledger::RenderTime(s.since),
                        "..", ledger::RenderTime(s.until));
  }
  int YearTotal(const std::string& person, int year, const std::string& time) {
    const v1::PersonStatus* p = ledger_->FindPerson(person);
    return p == nullptr ? -1 : ledger::YearTotalAt(*p, year, T(time));
  }

  std::unique_ptr<ledger::ProfileSet> profiles_;
  std::unique_ptr<ledger::Ledger> ledger_;
  EventBuilder ev_;
};

}  // namespace claimgate::testing

#endif  // CLAIMGATE_TESTS_TESTING_LEDGER_FIXTURE_H_
