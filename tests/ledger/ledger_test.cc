// The ledger rules of SPEC §4, table-driven where the policy is a table: every row of every
// profile.
#include "ledger/ledger.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/testing/ledger_fixture.h"

namespace claimgate::ledger {
namespace {

using claimgate::testing::LedgerFixture;
using v1::AgreementChanged;
using v1::RestorationCredited;

// ---------------------------------------------------------------------------------------------------------
// Single-assessment table (SPEC §4.3): a fresh person scored once at 2025-03-10 10:00.

struct SingleCase {
  const char* profile;
  int points;
  const char* want;  // rendered sanctions
};

class SingleTableTest : public LedgerFixture, public ::testing::WithParamInterface<SingleCase> {};

TEST_P(SingleTableTest, OneAssessment) {
  const SingleCase& c = GetParam();
  Apply(ev_.Institution("H1", c.profile, v1::InstitutionRegistered::HOSPITAL, 3, "R1"));
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  if (std::string(c.profile) == "guizhou") {
    // Guizhou reviews the region's first assessment and any of 9 or more: use up the first one and
    // confirm at the decision time, so the sanction starts there.
    UseUpFirstInRegion("H1");
    Apply(ev_.Score("A1", "D1", "H1", c.points, "2025-03-10T10:00"));
    if (c.points >= 9) Apply(ev_.Confirm("A1", "2025-03-10T10:00"));
  } else {
    Apply(ev_.Score("A1", "D1", "H1", c.points, "2025-03-10T10:00"));
  }
  EXPECT_EQ(Sanctions("D1"), c.want) << c.profile << " " << c.points;
  EXPECT_EQ(YearTotal("D1", 2025, "2025-12-31T23:00"), c.points);
}

std::vector<SingleCase> SingleCases() {
  std::vector<SingleCase> cases;
  for (const char* p : {"national", "hebei", "tibet", "guizhou"}) {
    for (int points = 1; points <= 8; ++points) cases.push_back({p, points, ""});
  }
  // national / hebei / guizhou: single 9 -> 4 months, 10 -> 6, 11 -> 10 (each beats cumulative
  // 2/3/5), 12 -> terminate with a 3-year bar (beats the cumulative 1-year bar).
  for (const char* p : {"national", "hebei", "guizhou"}) {
    cases.push_back({p, 9, " susp[2025-03-10T10:00..2025-07-10T10:00 single:A1]"});
    cases.push_back({p, 10, " susp[2025-03-10T10:00..2025-09-10T10:00 single:A1]"});
    cases.push_back({p, 11, " susp[2025-03-10T10:00..2026-01-10T10:00 single:A1]"});
    cases.push_back({p, 12, " term[2025-03-10T10:00 bar..2028-03-10T10:00 single:A1]"});
  }
  // tibet: no single suspensions; the cumulative 9/10/11 rows (2/4/6 months) apply; single 12 -> 3
  // years.
  cases.push_back({"tibet", 9, " susp[2025-03-10T10:00..2025-05-10T10:00 cumulative:A1]"});
  cases.push_back({"tibet", 10, " susp[2025-03-10T10:00..2025-07-10T10:00 cumulative:A1]"});
  cases.push_back({"tibet", 11, " susp[2025-03-10T10:00..2025-09-10T10:00 cumulative:A1]"});
  cases.push_back({"tibet", 12, " term[2025-03-10T10:00 bar..2028-03-10T10:00 single:A1]"});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryProfileEveryRow, SingleTableTest, ::testing::ValuesIn(SingleCases()));

// ---------------------------------------------------------------------------------------------------------
// Cumulative table: a ladder of small assessments through 9, 10, 11 and 12 in one year.

struct LadderCase {
  const char* profile;
  const char* want;
};

class CumulativeTableTest : public LedgerFixture,
                            public ::testing::WithParamInterface<LadderCase> {};

TEST_P(CumulativeTableTest, Ladder) {
  const LadderCase& c = GetParam();
  Apply(ev_.Institution("H1", c.profile, v1::InstitutionRegistered::HOSPITAL, 3, "R1"));
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  if (std::string(c.profile) == "guizhou") UseUpFirstInRegion("H1");
  Apply(ev_.Score("A1", "D1", "H1", 4, "2025-01-10T10:00"));  // 4
  Apply(ev_.Score("A2", "D1", "H1", 5, "2025-03-10T10:00"));  // 9: tier 9
  Apply(ev_.Score("A3", "D1", "H1", 1, "2025-04-10T10:00"));  // 10: tier 10, while suspended
  Apply(ev_.Score("A4", "D1", "H1", 1, "2025-09-01T10:00"));  // 11
  Apply(ev_.Score("A5", "D1", "H1", 1, "2025-10-01T10:00"));  // 12
  EXPECT_EQ(Sanctions("D1"), c.want) << c.profile;
  EXPECT_EQ(YearTotal("D1", 2025, "2025-10-01T10:00"), 12);
  EXPECT_EQ(YearTotal("D1", 2025, "2025-09-30T10:00"), 11);
}

INSTANTIATE_TEST_SUITE_P(
    EveryProfile, CumulativeTableTest,
    ::testing::Values(
        // 9 -> 2 months; 10 -> 3 months from 04-10, extending the running suspension (no stacking);
        // 11 -> 5 months; 12 -> terminate, 1-year bar.
        LadderCase{"national",
                   " susp[2025-03-10T10:00..2025-07-10T10:00 cumulative:A2; "
                   "2025-09-01T10:00..2026-02-01T10:00 "
                   "cumulative:A4] term[2025-10-01T10:00 bar..2026-10-01T10:00 cumulative:A5]"},
        LadderCase{"hebei",
                   " susp[2025-03-10T10:00..2025-07-10T10:00 cumulative:A2; "
                   "2025-09-01T10:00..2026-02-01T10:00 "
                   "cumulative:A4] term[2025-10-01T10:00 bar..2026-10-01T10:00 cumulative:A5]"},
        LadderCase{"guizhou",
                   " susp[2025-03-10T10:00..2025-07-10T10:00 cumulative:A2; "
                   "2025-09-01T10:00..2026-02-01T10:00 "
                   "cumulative:A4] term[2025-10-01T10:00 bar..2026-10-01T10:00 cumulative:A5]"},
        // tibet: 9 -> 2, 10 -> 4, 11 -> 6 months.
        LadderCase{"tibet",
                   " susp[2025-03-10T10:00..2025-08-10T10:00 cumulative:A2; "
                   "2025-09-01T10:00..2026-03-01T10:00 "
                   "cumulative:A4] term[2025-10-01T10:00 bar..2026-10-01T10:00 cumulative:A5]"}));

TEST_F(LedgerFixture, NoStackingKeepsTheLaterEnd) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 11, "2025-01-10T10:00"));  // single 11: 10 months -> 2025-11-10
  Apply(ev_.Score("A2", "D1", "H1", 1, "2025-02-10T10:00"));   // 12: terminate
  Apply(ev_.Register("D2", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("B1", "D2", "H1", 9, "2025-01-10T10:00"));  // single 9: 4 months -> 05-10
  Apply(ev_.Score("B2", "D2", "H1", 1,
                  "2025-02-10T10:00"));  // cumulative 10: 3 months -> 05-10 (same)
  Apply(ev_.Score("B3", "D2", "H1", 1, "2025-02-20T10:00"));  // cumulative 11: 5 months -> 07-20
  EXPECT_EQ(Sanctions("D2"), " susp[2025-01-10T10:00..2025-07-20T10:00 single:B1]");
  EXPECT_EQ(Sanctions("D1"),
            " susp[2025-01-10T10:00..2025-11-10T10:00 single:A1] "
            "term[2025-02-10T10:00 bar..2026-02-10T10:00 cumulative:A2]");
}

TEST_F(LedgerFixture, TierCrossingOnlyCountsUpward) {
  // 9 reached, restored to 6, then back to 9: 9 is a higher tier than 6 again -> a new suspension.
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 5, "2025-01-10T10:00"));
  Apply(ev_.Score("A2", "D1", "H1", 4, "2025-02-10T10:00"));  // 9 -> 2 months to 04-10
  Apply(ev_.Credit("D1", RestorationCredited::TRAINING_EXAM, 3, "2025-06-01T10:00"));  // 6
  Apply(ev_.Score("A3", "D1", "H1", 3, "2025-07-01T10:00"));                           // 9 again
  EXPECT_EQ(Sanctions("D1"),
            " susp[2025-02-10T10:00..2025-04-10T10:00 cumulative:A2; "
            "2025-07-01T10:00..2025-09-01T10:00 cumulative:A3]");
}

// ---------------------------------------------------------------------------------------------------------
// Years: points reset on 1 January (China time); sanctions do not.

TEST_F(LedgerFixture, PointsCountInTheDecisionYearInChinaTime) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Register("D2", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 8, "2025-06-01T10:00"));
  Apply(ev_.Score("A2", "D1", "H1", 1, "2025-12-31T23:30"));  // still 2025 in China: 9
  Apply(ev_.Score("B1", "D2", "H1", 8, "2025-06-01T10:00"));
  Apply(ev_.Score("B2", "D2", "H1", 1, "2025-12-31T16:30:00Z"));  // 2026-01-01 00:30 in China: 1
  EXPECT_EQ(Sanctions("D1"), " susp[2025-12-31T23:30..2026-02-28T23:30 cumulative:A2]");
  EXPECT_EQ(Sanctions("D2"), "");
  EXPECT_EQ(YearTotal("D2", 2026, "2026-01-02T00:00"), 1);
  EXPECT_EQ(YearTotal("D2", 2025, "2026-01-02T00:00"), 8);
  // The suspension outlives the year; the points do not.
  EXPECT_EQ(StateAt("D1", "2026-02-01T00:00"), "SUSPENDED 2025-12-31T23:30..2026-02-28T23:30");
  EXPECT_EQ(YearTotal("D1", 2026, "2026-02-01T00:00"), 0);
}

TEST_F(LedgerFixture, IntervalsAreHalfOpen) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  EXPECT_EQ(StateAt("D1", "2025-03-10T09:59:59"), "NORMAL ..2025-03-10T10:00");
  EXPECT_EQ(StateAt("D1", "2025-03-10T10:00"), "SUSPENDED 2025-03-10T10:00..2025-07-10T10:00");
  EXPECT_EQ(StateAt("D1", "2025-07-10T09:59:59"), "SUSPENDED 2025-03-10T10:00..2025-07-10T10:00");
  EXPECT_EQ(StateAt("D1", "2025-07-10T10:00"), "NORMAL 2025-07-10T10:00..");
}

TEST_F(LedgerFixture, DecisionTimeFieldOverridesEventTime) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  v1::Event e = ev_.Score("A1", "D1", "H1", 9, "2026-01-05T10:00");  // learnt in 2026
  SetProto(claimgate::testing::T("2025-12-20T10:00"),
           e.mutable_score_assessed()->mutable_decision_time());
  Apply(e);
  EXPECT_EQ(Sanctions("D1"), " susp[2025-12-20T10:00..2026-04-20T10:00 single:A1]");
  EXPECT_EQ(YearTotal("D1", 2025, "2026-02-01T00:00"), 9);
}

// ---------------------------------------------------------------------------------------------------------
// Points validation and fraud bands.

struct PointsCase {
  const char* profile;
  const char* violation;
  v1::ScoreAssessed::Responsibility responsibility;
  int points;
  const char* want;
};

class PointsValidationTest : public LedgerFixture,
                             public ::testing::WithParamInterface<PointsCase> {};

TEST_P(PointsValidationTest, RangeAndFraudBand) {
  const PointsCase& c = GetParam();
  Apply(ev_.Institution("H1", c.profile, v1::InstitutionRegistered::HOSPITAL, 3, "R9"));
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  EXPECT_EQ(Outcome(ev_.Score("A1", "D1", "H1", c.points, "2025-03-10T10:00", c.violation,
                              c.responsibility)),
            c.want);
}

std::vector<PointsCase> PointsCases() {
  std::vector<PointsCase> cases;
  for (const char* p : {"national", "hebei", "tibet", "guizhou"}) {
    cases.push_back({p, "OVER_TREATMENT", v1::ScoreAssessed::MAIN, 0, "INVALID_POINTS"});
    cases.push_back({p, "OVER_TREATMENT", v1::ScoreAssessed::MAIN, 13, "INVALID_POINTS"});
    cases.push_back({p, "OVER_TREATMENT", v1::ScoreAssessed::MAIN, -1, "INVALID_POINTS"});
    cases.push_back({p, "OVER_TREATMENT", v1::ScoreAssessed::GENERAL, 1, "applied"});
    cases.push_back({p, "OVER_TREATMENT", v1::ScoreAssessed::GENERAL, 12, "applied"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::GENERAL, 10, "applied"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::IMPORTANT, 11, "applied"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::MAIN, 12, "applied"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::MAIN, 10, "POINTS_OUTSIDE_BAND"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::GENERAL, 12, "POINTS_OUTSIDE_BAND"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::IMPORTANT, 9, "POINTS_OUTSIDE_BAND"});
    cases.push_back(
        {p, "FRAUD", v1::ScoreAssessed::RESPONSIBILITY_UNSPECIFIED, 12, "POINTS_OUTSIDE_BAND"});
    cases.push_back({p, "FRAUD", v1::ScoreAssessed::MAIN, 13, "INVALID_POINTS"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryProfile, PointsValidationTest, ::testing::ValuesIn(PointsCases()));

TEST_F(LedgerFixture, RefusedAssessmentChangesNothing) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  const std::string before = Render("D1");
  EXPECT_EQ(Outcome(ev_.Score("A1", "D1", "H1", 13, "2025-03-10T10:00")), "INVALID_POINTS");
  EXPECT_EQ(Render("D1"), before);
  // The id was not taken: a corrected event with the same assessment id is accepted.
  EXPECT_EQ(Outcome(ev_.Score("A1", "D1", "H1", 3, "2025-03-10T10:00")), "applied");
}

// ---------------------------------------------------------------------------------------------------------
// Review (Guizhou): first of a region and single >= 9 wait for confirmation.

TEST_F(LedgerFixture, GuizhouFirstInRegionWaitsForConfirmation) {
  Apply(ev_.Institution("G1", "guizhou", v1::InstitutionRegistered::HOSPITAL, 2, "520100"));
  Apply(ev_.Institution("G2", "guizhou", v1::InstitutionRegistered::CLINIC, 1, "520100"));
  Apply(ev_.Institution("G3", "guizhou", v1::InstitutionRegistered::CLINIC, 1, "520200"));
  for (const char* d : {"D1", "D2", "D3"}) Apply(ev_.Register(d, "G1", "2025-01-02T09:00"));
  Apply(ev_.Register("D4", "G3", "2025-01-02T09:00"));
  ApplyResult r = Apply(ev_.Score("A1", "D1", "G1", 5, "2025-02-01T10:00"));  // region's first
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].notice(), "ASSESSMENT_PENDING_REVIEW");
  EXPECT_EQ(YearTotal("D1", 2025, "2025-12-01T00:00"), 0);
  Apply(ev_.Score("A2", "D2", "G2", 5, "2025-02-02T10:00"));  // same region: not first
  EXPECT_EQ(YearTotal("D2", 2025, "2025-12-01T00:00"), 5);
  Apply(ev_.Score("A3", "D4", "G3", 2, "2025-02-02T10:00"));  // another region's first
  EXPECT_EQ(YearTotal("D4", 2025, "2025-12-01T00:00"), 0);

  Apply(ev_.Score("A4", "D1", "G1", 4, "2025-03-01T10:00"));  // not pending: 4 (A1 still pending)
  EXPECT_EQ(Sanctions("D1"), "");
  Apply(ev_.Confirm("A1", "2025-04-01T10:00"));  // A1 takes effect at confirmation: 9
  EXPECT_EQ(Sanctions("D1"), " susp[2025-04-01T10:00..2025-06-01T10:00 cumulative:A1]");
  EXPECT_EQ(YearTotal("D1", 2025, "2025-03-31T00:00"), 4);
  EXPECT_EQ(YearTotal("D1", 2025, "2025-04-01T10:00"), 9);
}

TEST_F(LedgerFixture, GuizhouNineOrMoreWaitsAndRevokedPendingNeverTakesEffect) {
  Apply(ev_.Institution("G1", "guizhou", v1::InstitutionRegistered::HOSPITAL, 2, "520100"));
  UseUpFirstInRegion("G1");
  Apply(ev_.Register("D1", "G1", "2025-01-02T09:00"));
  Apply(ev_.Register("D2", "G1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "G1", 9, "2025-12-20T10:00"));
  EXPECT_EQ(Sanctions("D1"), "");
  // Confirmed in the next year: counts in 2025 (decision year), sanction from the confirmation.
  Apply(ev_.Confirm("A1", "2026-01-10T10:00"));
  EXPECT_EQ(Sanctions("D1"), " susp[2026-01-10T10:00..2026-05-10T10:00 single:A1]");
  EXPECT_EQ(YearTotal("D1", 2025, "2026-01-10T10:00"), 9);
  EXPECT_EQ(YearTotal("D1", 2026, "2026-01-10T10:00"), 0);

  Apply(ev_.Score("A2", "D2", "G1", 10, "2025-03-01T10:00"));
  Apply(ev_.Revoke("A2", "2025-03-15T10:00"));
  EXPECT_EQ(Outcome(ev_.Confirm("A2", "2025-03-20T10:00")), "UNKNOWN_ASSESSMENT");
  EXPECT_EQ(Sanctions("D2"), "");
  EXPECT_EQ(YearTotal("D2", 2025, "2025-12-01T00:00"), 0);
}

TEST_F(LedgerFixture, NationalNeedsNoReview) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  ApplyResult r = Apply(ev_.Score("A1", "D1", "H1", 2, "2025-02-01T10:00"));
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0].notice(), "INSTITUTION_TALK");
  EXPECT_EQ(Outcome(ev_.Confirm("A1", "2025-02-02T10:00")), "applied");  // no-op
  EXPECT_EQ(Outcome(ev_.Confirm("NOPE", "2025-02-02T10:00")), "UNKNOWN_ASSESSMENT");
}

// ---------------------------------------------------------------------------------------------------------
// Restoration credits and caps.

TEST_F(LedgerFixture, RestorationCaps) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 8, "2025-01-10T10:00"));
  EXPECT_EQ(Outcome(ev_.Credit("D1", RestorationCredited::TRAINING_EXAM, 2, "2025-02-01T10:00")),
            "applied");
  EXPECT_EQ(Outcome(ev_.Credit("D1", RestorationCredited::TRAINING_EXAM, 2, "2025-02-02T10:00")),
            "RESTORATION_CAP_EXCEEDED");  // 2 + 2 > 3: the whole event is refused
  EXPECT_EQ(Outcome(ev_.Credit("D1", RestorationCredited::TRAINING_EXAM, 1, "2025-02-03T10:00")),
            "applied");
  EXPECT_EQ(Outcome(ev_.Credit("D1", RestorationCredited::POLICY_PUBLICITY, 2, "2025-02-04T10:00")),
            "INVALID_POINTS");  // each activity is one point
  EXPECT_EQ(Outcome(ev_.Credit("D1", RestorationCredited::POLICY_PUBLICITY, 0, "2025-02-04T10:00")),
            "applied");
  EXPECT_EQ(
      Outcome(ev_.Credit("D1", RestorationCredited::FLYING_INSPECTION, 1, "2025-02-05T10:00")),
      "applied");
  EXPECT_EQ(Outcome(ev_.Credit("D1", RestorationCredited::RESEARCH, 1, "2025-02-06T10:00")),
            "applied");
  EXPECT_EQ(
      Outcome(ev_.Credit("D1", RestorationCredited::SPECIAL_INSPECTION, 1, "2025-02-07T10:00")),
      "RESTORATION_CAP_EXCEEDED");                          // fourth activity point of the year
  EXPECT_EQ(YearTotal("D1", 2025, "2025-03-01T00:00"), 2);  // 8 - 3 - 3
  // A new year has new caps.
  Apply(ev_.Score("A2", "D1", "H1", 3, "2026-01-10T10:00"));
  EXPECT_EQ(
      Outcome(ev_.Credit("D1", RestorationCredited::SPECIAL_INSPECTION, 1, "2026-02-07T10:00")),
      "applied");
  EXPECT_EQ(YearTotal("D1", 2026, "2026-03-01T00:00"), 2);
}

TEST_F(LedgerFixture, CreditsLowerTheTotalButDoNotLiftASanction) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Register("D2", "H1", "2025-01-02T09:00"));
  // Without a credit 8 + 4 = 12 terminates; with 3 restored, 5 + 4 = 9 suspends for 2 months.
  Apply(ev_.Score("A1", "D1", "H1", 8, "2025-01-10T10:00"));
  Apply(ev_.Credit("D1", RestorationCredited::TRAINING_EXAM, 3, "2025-02-01T10:00"));
  Apply(ev_.Score("A2", "D1", "H1", 4, "2025-03-01T10:00"));
  EXPECT_EQ(Sanctions("D1"), " susp[2025-03-01T10:00..2025-05-01T10:00 cumulative:A2]");
  // Credited during a suspension: the suspension stays.
  Apply(ev_.Score("B1", "D2", "H1", 9, "2025-01-10T10:00"));
  Apply(ev_.Credit("D2", RestorationCredited::TRAINING_EXAM, 3, "2025-02-01T10:00"));
  EXPECT_EQ(Sanctions("D2"), " susp[2025-01-10T10:00..2025-05-10T10:00 single:B1]");
  EXPECT_EQ(YearTotal("D2", 2025, "2025-02-01T10:00"), 6);
}

TEST_F(LedgerFixture, TotalNeverBelowZeroNorAboveTwelve) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 1, "2025-01-10T10:00"));
  Apply(ev_.Credit("D1", RestorationCredited::TRAINING_EXAM, 3, "2025-02-01T10:00"));
  EXPECT_EQ(YearTotal("D1", 2025, "2025-02-01T10:00"), 0);
  Apply(ev_.Score("A2", "D1", "H1", 2, "2025-03-01T10:00"));
  EXPECT_EQ(YearTotal("D1", 2025, "2025-03-01T10:00"), 2);
  Apply(ev_.Score("A3", "D1", "H1", 12, "2025-04-01T10:00"));
  Apply(ev_.Score("A4", "D1", "H1", 5, "2025-05-01T10:00"));
  EXPECT_EQ(YearTotal("D1", 2025, "2025-06-01T10:00"), 12);
}

// ---------------------------------------------------------------------------------------------------------
// Appeals and late events recompute the history.

TEST_F(LedgerFixture, RevocationRecomputesHistory) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 5, "2025-01-10T10:00"));
  Apply(ev_.Score("A2", "D1", "H1", 4, "2025-02-10T10:00"));  // 9 -> 2 months
  Apply(ev_.Score("A3", "D1", "H1", 3, "2025-05-10T10:00"));  // 12 -> terminate
  EXPECT_EQ(Sanctions("D1"),
            " susp[2025-02-10T10:00..2025-04-10T10:00 cumulative:A2] "
            "term[2025-05-10T10:00 bar..2026-05-10T10:00 cumulative:A3]");
  Apply(ev_.Revoke("A1", "2025-06-01T10:00"));  // as if A1 had never been: 4, 7
  EXPECT_EQ(Sanctions("D1"), "");
  EXPECT_EQ(YearTotal("D1", 2025, "2025-12-01T00:00"), 7);
  EXPECT_EQ(Outcome(ev_.Revoke("A1", "2025-06-02T10:00")), "applied");  // again: no-op
  EXPECT_EQ(Outcome(ev_.Revoke("A9", "2025-06-02T10:00")), "UNKNOWN_ASSESSMENT");
  EXPECT_EQ(Outcome(ev_.Adjust("A1", 3, "2025-06-02T10:00")), "UNKNOWN_ASSESSMENT");
}

TEST_F(LedgerFixture, AdjustmentRecomputesHistory) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  Apply(ev_.Adjust("A1", 5, "2025-04-01T10:00"));
  EXPECT_EQ(Sanctions("D1"), "");
  Apply(ev_.Adjust("A1", 12, "2025-04-02T10:00"));
  EXPECT_EQ(Sanctions("D1"), " term[2025-03-10T10:00 bar..2028-03-10T10:00 single:A1]");
  EXPECT_EQ(Outcome(ev_.Adjust("A1", 13, "2025-04-03T10:00")), "INVALID_POINTS");
  EXPECT_EQ(Outcome(ev_.Adjust("A1", 0, "2025-04-03T10:00")), "INVALID_POINTS");
}

TEST_F(LedgerFixture, AdjustedFraudStaysInBand) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 12, "2025-03-10T10:00", "FRAUD", v1::ScoreAssessed::MAIN));
  EXPECT_EQ(Outcome(ev_.Adjust("A1", 10, "2025-04-01T10:00")), "POINTS_OUTSIDE_BAND");
}

TEST_F(LedgerFixture, LateAssessmentWithEarlierDecisionTime) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A2", "D1", "H1", 5, "2025-04-01T10:00"));
  EXPECT_EQ(Sanctions("D1"), "");
  Apply(ev_.Score("A1", "D1", "H1", 5, "2025-03-01T10:00"));  // arrives late, decided earlier
  // In time order: 5 (03-01), 10 (04-01): cumulative 10 -> 3 months from 04-01.
  EXPECT_EQ(Sanctions("D1"), " susp[2025-04-01T10:00..2025-07-01T10:00 cumulative:A2]");
}

// ---------------------------------------------------------------------------------------------------------
// Shortening.

TEST_F(LedgerFixture, ShorteningASuspension) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));  // to 07-10
  Apply(ev_.Shorten("D1", 30, "2025-04-01T10:00"));
  EXPECT_EQ(Sanctions("D1"), " susp[2025-03-10T10:00..2025-06-10T10:00 single:A1]");
  Apply(ev_.Shorten("D1", 400, "2025-04-02T10:00"));  // never before its start: gone
  EXPECT_EQ(Sanctions("D1"), "");
  EXPECT_EQ(Outcome(ev_.Shorten("D1", 1, "2025-04-03T10:00")), "NO_SANCTION_IN_FORCE");
}

TEST_F(LedgerFixture, ShorteningTheReRegistrationBar) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 12, "2025-03-10T10:00"));  // bar to 2028-03-10
  EXPECT_EQ(Outcome(ev_.Register("D1", "H2", "2027-03-10T10:00")), "REGISTRATION_BARRED");
  Apply(ev_.Shorten("D1", 366, "2027-03-11T10:00"));
  EXPECT_EQ(Sanctions("D1"), " term[2025-03-10T10:00 bar..2027-03-10T10:00 single:A1]");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H2", "2027-03-12T10:00")), "applied");
  EXPECT_EQ(StateAt("D1", "2027-04-01T00:00"), "NORMAL 2027-03-12T10:00..");
}

// ---------------------------------------------------------------------------------------------------------
// Termination and registration.

TEST_F(LedgerFixture, TerminationBarsReRegistration) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Register("D1", "H2", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D1", "H1", 5, "2025-02-01T10:00"));
  Apply(ev_.Score("A2", "D1", "H1", 7, "2025-03-01T10:00"));  // cumulative 12: bar 1 year
  EXPECT_EQ(StateAt("D1", "2025-06-01T00:00"), "TERMINATED 2025-03-01T10:00..");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H3", "2025-06-01T10:00")), "REGISTRATION_BARRED");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H3", "2026-03-01T09:59:59")), "REGISTRATION_BARRED");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H3", "2026-03-01T10:00")), "applied");  // half-open bar
  EXPECT_EQ(StateAt("D1", "2026-03-01T09:00"), "TERMINATED 2025-03-01T10:00..2026-03-01T10:00");
  EXPECT_EQ(StateAt("D1", "2026-03-02T00:00"), "NORMAL 2026-03-01T10:00..");
}

TEST_F(LedgerFixture, RegistrationsAndCommitments) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Commit("D1", "H1", "2025-01-03T09:00"));
  Apply(ev_.Deregister("D1", "H1", "2025-05-01T00:00"));
  Apply(ev_.Commit("D1", "H1", "2025-05-20T00:00"));  // between registrations: for the next one
  Apply(ev_.Register("D1", "H1", "2025-06-01T00:00"));
  Apply(ev_.Register("D1", "H2", "2025-06-01T00:00"));
  EXPECT_EQ(Render("D1"),
            "D1 reg[H1 2025-01-02T09:00..2025-05-01T00:00 c2025-01-03T09:00; "
            "H1 2025-06-01T00:00.. c2025-05-20T00:00; H2 2025-06-01T00:00..]");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H2", "2025-07-01T00:00")),
            "applied");  // already: idempotent
  EXPECT_EQ(Outcome(ev_.Deregister("D9", "H2", "2025-07-01T00:00")), "applied");  // nothing to end
}

// ---------------------------------------------------------------------------------------------------------
// Institution agreement actions.

TEST_F(LedgerFixture, AgreementSuspensionSuspendsNamedPersonsUntilActive) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Register("D1", "H2", "2025-01-02T09:00"));
  Apply(ev_.Register("D2", "H1", "2025-01-02T09:00"));
  Apply(ev_.Agreement("H1", AgreementChanged::SUSPENDED, {"D1"}, "2025-04-01T00:00"));
  EXPECT_EQ(Sanctions("D1"), " susp[2025-04-01T00:00.. agreement:H1]");
  EXPECT_EQ(Sanctions("D2"), "");
  Apply(ev_.Agreement("H1", AgreementChanged::ACTIVE, {}, "2025-06-01T00:00"));
  EXPECT_EQ(Sanctions("D1"), " susp[2025-04-01T00:00..2025-06-01T00:00 agreement:H1]");
  EXPECT_EQ(
      ledger::RenderInstitution(*ledger_->FindInstitution("H1")),
      "H1 KIND_UNSPECIFIED/0   agreement[SUSPENDED@2025-04-01T00:00 ACTIVE@2025-06-01T00:00]");
}

TEST_F(LedgerFixture, AgreementTerminationTerminatesNamedPersons) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Register("D1", "H2", "2025-01-02T09:00"));
  Apply(ev_.Agreement("H1", AgreementChanged::TERMINATED, {"D1"}, "2025-04-01T00:00"));
  EXPECT_EQ(Sanctions("D1"), " term[2025-04-01T00:00 bar..2026-04-01T00:00 agreement:H1]");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H3", "2025-09-01T00:00")), "REGISTRATION_BARRED");
}

// ---------------------------------------------------------------------------------------------------------
// Notices and idempotence.

struct NoticeCase {
  const char* profile;
  int points;
  const char* want;
};

class NoticeTest : public LedgerFixture, public ::testing::WithParamInterface<NoticeCase> {};

TEST_P(NoticeTest, BandNoticeForTheYearTotal) {
  const NoticeCase& c = GetParam();
  Apply(ev_.Institution("H1", c.profile, v1::InstitutionRegistered::HOSPITAL, 3, "R1"));
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  if (std::string(c.profile) == "guizhou") UseUpFirstInRegion("H1");
  ApplyResult r = Apply(ev_.Score("A1", "D1", "H1", c.points, "2025-03-07T10:00"));
  if (std::string(c.profile) == "guizhou" && c.points >= 9)
    r = Apply(ev_.Confirm("A1", "2025-03-07T10:00"));
  std::vector<std::string> got;
  for (const auto& n : r.notices) {
    got.push_back(n.notice() == "PUBLISH_STATUS"
                      ? "PUBLISH_STATUS by " + RenderTime(FromProto(n.deadline()))
                      : n.notice());
  }
  EXPECT_EQ(absl::StrJoin(got, ","), c.want) << c.profile << " " << c.points;
}

INSTANTIATE_TEST_SUITE_P(
    EveryProfile, NoticeTest,
    ::testing::Values(NoticeCase{"national", 1, "INSTITUTION_TALK"},
                      NoticeCase{"national", 3, "INSTITUTION_TALK"},
                      NoticeCase{"national", 4, "AGENCY_TALK_AND_TRAINING"},
                      NoticeCase{"hebei", 6, "AGENCY_TALK_AND_TRAINING"},
                      NoticeCase{"hebei", 7, "PUBLIC_NOTICE"},
                      NoticeCase{"national", 8, "PUBLIC_NOTICE"},
                      // Friday 03-07 + 7 working days = Tuesday 03-18.
                      NoticeCase{"national", 9, "PUBLISH_STATUS by 2025-03-18T10:00"},
                      NoticeCase{"national", 12, "PUBLISH_STATUS by 2025-03-18T10:00"},
                      NoticeCase{"tibet", 1, "EDUCATION"}, NoticeCase{"tibet", 8, "EDUCATION"},
                      NoticeCase{"tibet", 10, "PUBLISH_STATUS by 2025-03-18T10:00"},
                      NoticeCase{"guizhou", 2, "INSTITUTION_EDUCATION"},
                      NoticeCase{"guizhou", 8, "INSTITUTION_EDUCATION"},
                      NoticeCase{"guizhou", 11, "PUBLISH_STATUS by 2025-03-18T10:00"}));

TEST_F(LedgerFixture, DuplicateEventIdIsIgnored) {
  v1::Event e = ev_.Register("D1", "H1", "2025-01-02T09:00");
  Apply(e);
  v1::Event again = ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00");
  again.set_event_id(e.event_id());
  const std::string before = Render("D1");
  EXPECT_EQ(Outcome(again), "DUPLICATE_EVENT");
  EXPECT_EQ(Render("D1"), before);
  EXPECT_EQ(ledger_->position(), 2);  // refused events count in the ledger position
}

// Issue 12.2: an event_id is spent once seen, even when its event was refused (SPEC §4.6).
TEST_F(LedgerFixture, RefusedEventIdIsSpent) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  v1::Event revoke = ev_.Revoke("A1", "2025-03-01T10:00");
  EXPECT_EQ(Outcome(revoke), "UNKNOWN_ASSESSMENT");
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  const std::string before = Render("D1");
  EXPECT_EQ(Outcome(revoke), "DUPLICATE_EVENT");  // not a revocation of A1
  EXPECT_EQ(Render("D1"), before);
  EXPECT_EQ(StateAt("D1", "2025-04-01T00:00"), "SUSPENDED 2025-03-10T10:00..2025-07-10T10:00");
  v1::Event barred = ev_.Score("A2", "D1", "H1", 13, "2025-03-11T10:00");
  EXPECT_EQ(Outcome(barred), "INVALID_POINTS");
  barred.mutable_score_assessed()->set_points(1);
  EXPECT_EQ(Outcome(barred), "DUPLICATE_EVENT");
}

// Standing at an institution as the decision reads it: the registration finding, else the state.
std::string StandingOf(const ledger::Ledger& l, const std::string& person, const std::string& inst,
                       const std::string& time) {
  const ledger::Standing s = ledger::StandingAt(l.FindPersonRecord(person), inst, claimgate::testing::T(time));
  return s.registration != v1::REASON_CODE_UNSPECIFIED
             ? v1::ReasonCode_Name(s.registration)
             : v1::PersonStatus::State_Name(s.sanction.state);
}

// Issue 12.1: registering again at the institution a termination ended, after the bar (SPEC §4.3).
TEST_F(LedgerFixture, ReRegistrationAfterTheBarAtTheSameInstitution) {
  Apply(ev_.Institution("H1", "hebei"));
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Commit("D1", "H1", "2025-01-02T09:30"));
  Apply(ev_.Score("A1", "D1", "H1", 12, "2025-03-01T10:00"));  // single 12: bar 3 years
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-04T00:00"), "TERMINATED");
  EXPECT_EQ(Outcome(ev_.Register("D1", "H1", "2028-03-05T09:00")), "applied");
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-05T09:10"), "NO_SERVICE_COMMITMENT");
  Apply(ev_.Commit("D1", "H1", "2028-03-05T09:30"));
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-06T00:00"), "NORMAL");
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-04T00:00"), "TERMINATED");
  EXPECT_EQ(StateAt("D1", "2028-03-06T00:00"), "NORMAL 2028-03-05T09:00..");
  EXPECT_EQ(Render("D1"),
            "D1 reg[H1 2025-01-02T09:00.. c2025-01-02T09:30; H1 2028-03-05T09:00.. "
            "c2028-03-05T09:30] term[2025-03-01T10:00 bar..2028-03-01T10:00 single:A1] "
            "pts[2025=12@2025-03-01T10:00]");
  EXPECT_TRUE(ledger_->RecomputeAllForTest().empty());
}

// The registrations a termination ended stay ended once the person registered again elsewhere.
TEST_F(LedgerFixture, RegistrationsEndedByATerminationStayEnded) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Commit("D1", "H1", "2025-01-02T09:30"));
  Apply(ev_.Score("A1", "D1", "H1", 12, "2025-03-01T10:00"));  // cumulative 12 too: bar 3 years
  Apply(ev_.Commit("D1", "H2", "2028-01-01T00:00"));           // during the bar: for the next one
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-02T00:00"), "TERMINATED");  // bar over
  Apply(ev_.Register("D1", "H2", "2028-03-05T09:00"));
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H2", "2028-03-06T00:00"), "NORMAL");
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-06T00:00"), "PRACTITIONER_NOT_REGISTERED");
  EXPECT_EQ(StandingOf(*ledger_, "D1", "H1", "2028-03-04T00:00"), "TERMINATED");
}

TEST_F(LedgerFixture, ClaimIsNotALedgerEvent) {
  EXPECT_EQ(Outcome(ev_.Claim("C1", "H1", "2025-03-10T10:00", {"D1"})), "MALFORMED");
  v1::Event empty = ev_.Base("2025-03-10T10:00");
  EXPECT_EQ(Outcome(empty), "MALFORMED");
}

TEST_F(LedgerFixture, UnknownProfileIsMalformed) {
  EXPECT_EQ(Outcome(ev_.Institution("H1", "atlantis")), "MALFORMED");
}

}  // namespace
}  // namespace claimgate::ledger
