// The decision table of SPEC §5, row by row, against a ledger built from events.
#include "gate/decision.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gate/ledger_lookup.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"
#include "tests/testing/ledger_fixture.h"

namespace claimgate::gate {
namespace {

using claimgate::testing::LedgerFixture;
using claimgate::testing::T;
using v1::AgreementChanged;
using v1::Claim;

class DecisionTest : public LedgerFixture {
 protected:
  DecisionContext Context() {
    DecisionContext ctx;
    ctx.profiles = profiles_.get();
    ctx.default_profile = &ledger_->default_profile();
    ctx.shadow = shadow_;
    ctx.status_stale = stale_;
    ctx.ledger_position = ledger_->position();
    ctx.gate_version = "test";
    return ctx;
  }
  v1::Decision DecideClaim(const v1::Claim& claim) {
    LedgerLookup lookup(ledger_.get());
    return Decide(claim, lookup, Context());
  }
  // "REJECT PRACTITIONER_SUSPENDED:D1 MISSING_TRACEABILITY_CODE:#X1"
  std::string Judge(const v1::Claim& claim) {
    const v1::Decision d = DecideClaim(claim);
    std::vector<std::string> parts = {v1::Decision::Outcome_Name(d.outcome())};
    for (const v1::Reason& r : d.reasons()) {
      std::string s = v1::ReasonCode_Name(r.code());
      if (!r.person_id().empty()) s += ":" + r.person_id();
      if (!r.item_code().empty()) s += ":#" + r.item_code();
      parts.push_back(s);
    }
    return absl::StrJoin(parts, " ");
  }
  std::string Judge(const std::string& inst, const std::string& time,
                    std::vector<std::string> persons, Claim::VisitType visit = Claim::OUTPATIENT) {
    return Judge(ev_.Claim("C", inst, time, std::move(persons), visit).claim());
  }
  // A registered, committed physician at `inst`.
  void Staff(const std::string& person, const std::string& inst) {
    Apply(ev_.Register(person, inst, "2025-01-02T09:00"));
    Apply(ev_.Commit(person, inst, "2025-01-02T10:00"));
  }
  static v1::Claim WithDrug(v1::Claim claim, std::vector<std::string> codes) {
    auto* item = claim.add_items();
    item->set_item_code("X1");
    item->set_category(Claim::Item::DRUG);
    item->set_amount_fen(1250);
    for (auto& c : codes) item->add_traceability_codes(c);
    return claim;
  }

  bool shadow_ = false;
  bool stale_ = false;
};

TEST_F(DecisionTest, EligiblePractitionerIsAccepted) {
  Staff("D1", "H1");
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}), "ACCEPT");
}

TEST_F(DecisionTest, NotRegisteredAtTheClaimsInstitution) {
  Staff("D1", "H1");
  EXPECT_EQ(Judge("H2", "2025-03-20T10:30", {"D1"}), "REJECT PRACTITIONER_NOT_REGISTERED:D1");
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"NOBODY"}),
            "REJECT PRACTITIONER_NOT_REGISTERED:NOBODY");
  EXPECT_EQ(Judge("H1", "2025-01-02T08:59", {"D1"}), "REJECT PRACTITIONER_NOT_REGISTERED:D1");
  Apply(ev_.Deregister("D1", "H1", "2025-06-01T00:00"));
  EXPECT_EQ(Judge("H1", "2025-05-31T23:59", {"D1"}), "ACCEPT");
  EXPECT_EQ(Judge("H1", "2025-06-01T00:00", {"D1"}), "REJECT PRACTITIONER_NOT_REGISTERED:D1");
}

TEST_F(DecisionTest, NoServiceCommitment) {
  Apply(ev_.Register("D1", "H1", "2025-01-02T09:00"));
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}), "REJECT NO_SERVICE_COMMITMENT:D1");
  Apply(ev_.Commit("D1", "H1", "2025-04-01T00:00"));
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}), "REJECT NO_SERVICE_COMMITMENT:D1");
  EXPECT_EQ(Judge("H1", "2025-04-01T00:00", {"D1"}), "ACCEPT");
}

TEST_F(DecisionTest, SuspendedAndTerminated) {
  Staff("D1", "H1");
  Staff("D2", "H1");
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));   // to 07-10
  Apply(ev_.Score("A2", "D2", "H1", 12, "2025-03-10T10:00"));  // terminated
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}), "REJECT PRACTITIONER_SUSPENDED:D1");
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D2"}), "REJECT PRACTITIONER_TERMINATED:D2");
  // A service rendered before the suspension began is payable, whenever it is settled.
  EXPECT_EQ(Judge("H1", "2025-03-10T09:59", {"D1", "D2"}), "ACCEPT");
  EXPECT_EQ(Judge("H1", "2025-07-10T10:00", {"D1"}), "ACCEPT");
  // A termination's ended registrations stay TERMINATED, not NOT_REGISTERED, long after.
  EXPECT_EQ(Judge("H1", "2029-01-01T00:00", {"D2"}), "REJECT PRACTITIONER_TERMINATED:D2");
}

TEST_F(DecisionTest, EmergencyAndRescueAreFlaggedNotRejected) {
  Staff("D1", "H1");
  Staff("D2", "H1");
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  Apply(ev_.Score("A2", "D2", "H1", 12, "2025-03-10T10:00"));
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}, Claim::EMERGENCY),
            "FLAG EMERGENCY_EXEMPTION:D1");
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D2"}, Claim::RESCUE), "FLAG EMERGENCY_EXEMPTION:D2");
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}, Claim::INPATIENT),
            "REJECT PRACTITIONER_SUSPENDED:D1");
  // The exemption covers sanctions only, not a missing registration.
  EXPECT_EQ(Judge("H2", "2025-03-20T10:30", {"D1"}, Claim::EMERGENCY),
            "REJECT PRACTITIONER_NOT_REGISTERED:D1");
}

TEST_F(DecisionTest, SuspensionAppliesAtEveryRegisteredInstitution) {
  Staff("D1", "H1");
  Staff("D1", "H2");
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  EXPECT_EQ(Judge("H2", "2025-03-20T10:30", {"D1"}), "REJECT PRACTITIONER_SUSPENDED:D1");
}

TEST_F(DecisionTest, EveryPractitionerIsJudgedAndEveryReasonListed) {
  Staff("D1", "H1");
  Staff("D2", "H1");
  Apply(ev_.Register("N1", "H1", "2025-01-02T09:00"));
  Apply(ev_.Score("A1", "D2", "H1", 10, "2025-03-10T10:00"));
  EXPECT_EQ(
      Judge("H1", "2025-03-20T10:30", {"D1", "D2", "N1", "X9", "D1"}),
      "REJECT PRACTITIONER_SUSPENDED:D2 NO_SERVICE_COMMITMENT:N1 PRACTITIONER_NOT_REGISTERED:X9");
  Apply(ev_.Score("A2", "N1", "H1", 9, "2025-03-10T10:00"));
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"N1"}, Claim::EMERGENCY),
            "REJECT NO_SERVICE_COMMITMENT:N1 EMERGENCY_EXEMPTION:N1");
}

TEST_F(DecisionTest, InstitutionAgreement) {
  Staff("D1", "H1");
  Staff("D2", "H1");
  Apply(ev_.Agreement("H1", AgreementChanged::SUSPENDED, {"D1"}, "2025-04-01T00:00"));
  EXPECT_EQ(Judge("H1", "2025-04-02T10:00", {"D2"}), "REJECT INSTITUTION_AGREEMENT_SUSPENDED");
  EXPECT_EQ(Judge("H1", "2025-04-02T10:00", {"D1"}),
            "REJECT PRACTITIONER_SUSPENDED:D1 INSTITUTION_AGREEMENT_SUSPENDED");
  // Not exempt for emergencies by default (profile setting institution_emergency_exempt).
  EXPECT_EQ(Judge("H1", "2025-04-02T10:00", {"D2"}, Claim::EMERGENCY),
            "REJECT INSTITUTION_AGREEMENT_SUSPENDED");
  Apply(ev_.Agreement("H1", AgreementChanged::ACTIVE, {}, "2025-05-01T00:00"));
  EXPECT_EQ(Judge("H1", "2025-05-02T10:00", {"D1", "D2"}), "ACCEPT");
  Apply(ev_.Agreement("H1", AgreementChanged::TERMINATED, {"D1"}, "2025-06-01T00:00"));
  EXPECT_EQ(Judge("H1", "2025-06-02T10:00", {"D2"}), "REJECT INSTITUTION_AGREEMENT_TERMINATED");
  EXPECT_EQ(Judge("H1", "2025-06-02T10:00", {"D1"}),
            "REJECT PRACTITIONER_TERMINATED:D1 INSTITUTION_AGREEMENT_TERMINATED");
  // The history stays answerable.
  EXPECT_EQ(Judge("H1", "2025-04-15T10:00", {"D2"}), "REJECT INSTITUTION_AGREEMENT_SUSPENDED");
}

TEST_F(DecisionTest, InstitutionEmergencyExemptionIsAProfileSetting) {
  ASSERT_TRUE(
      profiles_
          ->AddText("exempt.textproto",
                    "name: 'exempt' utc_offset_minutes: 480 institution_emergency_exempt: true")
          .ok());
  Apply(ev_.Institution("H9", "exempt"));
  Staff("D1", "H9");
  Apply(ev_.Agreement("H9", AgreementChanged::SUSPENDED, {}, "2025-04-01T00:00"));
  EXPECT_EQ(Judge("H9", "2025-04-02T10:00", {"D1"}, Claim::EMERGENCY), "FLAG EMERGENCY_EXEMPTION");
  EXPECT_EQ(Judge("H9", "2025-04-02T10:00", {"D1"}), "REJECT INSTITUTION_AGREEMENT_SUSPENDED");
}

struct MandateCase {
  v1::InstitutionRegistered::Kind kind;
  int level;
  const char* last_free;  // service time at which the mandate is not yet in force
  const char* first_due;  // first instant of the mandate
};

class TraceabilityTest : public DecisionTest, public ::testing::WithParamInterface<MandateCase> {};

TEST_P(TraceabilityTest, HebeiMandateDates) {
  const MandateCase& c = GetParam();
  Apply(ev_.Institution("I1", "hebei", c.kind, c.level, "130800"));
  Staff("D1", "I1");
  const v1::Claim before = WithDrug(ev_.Claim("C", "I1", c.last_free, {"D1"}).claim(), {});
  const v1::Claim due = WithDrug(ev_.Claim("C", "I1", c.first_due, {"D1"}).claim(), {});
  EXPECT_EQ(Judge(before), "ACCEPT");
  EXPECT_EQ(Judge(due), "REJECT MISSING_TRACEABILITY_CODE:#X1");
  EXPECT_EQ(
      Judge(WithDrug(ev_.Claim("C", "I1", c.first_due, {"D1"}).claim(), {"81234560000000000001"})),
      "ACCEPT");
}

INSTANTIATE_TEST_SUITE_P(Chengde, TraceabilityTest,
                         ::testing::Values(MandateCase{v1::InstitutionRegistered::PHARMACY, 0,
                                                       "2025-03-20T23:59:59", "2025-03-21T00:00"},
                                           MandateCase{v1::InstitutionRegistered::PRIMARY_CARE, 0,
                                                       "2025-04-30T23:59:59", "2025-05-01T00:00"},
                                           MandateCase{v1::InstitutionRegistered::CLINIC, 1,
                                                       "2025-04-30T23:59:59", "2025-05-01T00:00"},
                                           MandateCase{v1::InstitutionRegistered::HOSPITAL, 1,
                                                       "2025-04-30T23:59:59", "2025-05-01T00:00"},
                                           MandateCase{v1::InstitutionRegistered::HOSPITAL, 0,
                                                       "2025-04-30T23:59:59", "2025-05-01T00:00"},
                                           MandateCase{v1::InstitutionRegistered::HOSPITAL, 2,
                                                       "2025-05-31T23:59:59", "2025-06-01T00:00"},
                                           MandateCase{v1::InstitutionRegistered::HOSPITAL, 3,
                                                       "2025-06-30T23:59:59", "2025-07-01T00:00"}));

TEST_F(DecisionTest, TraceabilityCodeMustBeTwentyDigits) {
  Apply(ev_.Institution("PH", "hebei", v1::InstitutionRegistered::PHARMACY, 0, "130800"));
  Staff("P1", "PH");
  auto judge = [&](std::vector<std::string> codes) {
    return Judge(
        WithDrug(ev_.Claim("C", "PH", "2025-04-01T10:00", {"P1"}).claim(), std::move(codes)));
  };
  EXPECT_EQ(judge({"12345678901234567890"}), "ACCEPT");
  EXPECT_EQ(judge({"1234567890123456789"}), "REJECT MISSING_TRACEABILITY_CODE:#X1");
  EXPECT_EQ(judge({"123456789012345678901"}), "REJECT MISSING_TRACEABILITY_CODE:#X1");
  EXPECT_EQ(judge({"1234567890123456789A"}), "REJECT MISSING_TRACEABILITY_CODE:#X1");
  EXPECT_EQ(judge({""}), "REJECT MISSING_TRACEABILITY_CODE:#X1");
  EXPECT_EQ(judge({"bad", "12345678901234567890"}), "ACCEPT");  // one valid code suffices
  // The mandate is the profile's: national carries none.
  Apply(ev_.Institution("PN", "national", v1::InstitutionRegistered::PHARMACY, 0, "110000"));
  Staff("P2", "PN");
  EXPECT_EQ(Judge(WithDrug(ev_.Claim("C", "PN", "2025-08-01T10:00", {"P2"}).claim(), {})),
            "ACCEPT");
  // Service and consumable items need no code.
  EXPECT_EQ(Judge(ev_.Claim("C", "PH", "2025-08-01T10:00", {"P1"}).claim()), "ACCEPT");
}

TEST_F(DecisionTest, ShadowModeFlagsInsteadOfRejecting) {
  Staff("D1", "H1");
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  shadow_ = true;
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}),
            "FLAG PRACTITIONER_SUSPENDED:D1 SHADOW_REJECT");
  EXPECT_EQ(Judge("H1", "2025-01-20T10:30", {"D1"}), "ACCEPT");
  EXPECT_EQ(DecideClaim(ev_.Claim("C", "H1", "2025-03-20T10:30", {"D1"}).claim()).audit().mode(),
            v1::AuditRecord::SHADOW);
}

TEST_F(DecisionTest, StaleStatusIsFlagged) {
  Staff("D1", "H1");
  stale_ = true;
  EXPECT_EQ(Judge("H1", "2025-03-20T10:30", {"D1"}), "FLAG STATUS_STALE");
}

// Issue 12.4: de-duplication of practitioners and reasons holds past the small inline set, for a
// claim of thousands of items and practitioners (decision cost linear in the claim's size; the
// figures are in decision_benchmark's BM_DecideLargeClaim).
TEST_F(DecisionTest, LargeClaimListsEachPractitionerAndItemOnce) {
  Apply(ev_.Institution("P1", "hebei", v1::InstitutionRegistered::PHARMACY));
  Staff("D1", "P1");
  v1::Claim claim = ev_.Claim("C", "P1", "2025-04-01T10:00", {}).claim();
  for (int k = 0; k < 3000; ++k) {
    auto* pr = claim.add_practitioners();
    pr->set_person_id(k % 2 == 0 ? "D1" : absl::StrCat("X", k % 1000));  // X1, X3, ... each thrice
    pr->set_role(Claim::Practitioner::PRESCRIBER);
    auto* item = claim.add_items();
    item->set_item_code(absl::StrCat("I", k % 500));  // each code six times
    item->set_category(Claim::Item::DRUG);
  }
  const v1::Decision d = DecideClaim(claim);
  EXPECT_EQ(d.outcome(), v1::Decision::REJECT);
  EXPECT_EQ(d.audit().practitioners_size(), 1 + 500);
  EXPECT_EQ(d.audit().practitioners(0).person_id(), "D1");
  EXPECT_EQ(d.audit().practitioners(1).person_id(), "X1");
  int not_registered = 0, missing = 0;
  for (const v1::Reason& r : d.reasons()) {
    not_registered += r.code() == v1::PRACTITIONER_NOT_REGISTERED;
    missing += r.code() == v1::MISSING_TRACEABILITY_CODE;
  }
  EXPECT_EQ(not_registered, 500);
  EXPECT_EQ(missing, 500);
  EXPECT_EQ(d.reasons_size(), 1000);
  EXPECT_EQ(d.reasons(0).person_id(), "X1");  // in the order first found
  EXPECT_EQ(d.reasons(500).item_code(), "I0");
}

TEST_F(DecisionTest, AuditRecordCarriesEverythingToExplainTheDecision) {
  Apply(ev_.Institution("H1", "hebei", v1::InstitutionRegistered::HOSPITAL, 3, "130800"));
  Staff("D1", "H1");
  Apply(ev_.Score("A1", "D1", "H1", 9, "2025-03-10T10:00"));
  const v1::Claim claim = ev_.Claim("C1", "H1", "2025-03-20T10:30", {"D1"}).claim();
  const v1::Decision d = DecideClaim(claim);
  const v1::AuditRecord& a = d.audit();
  EXPECT_EQ(a.claim_id(), "C1");
  EXPECT_EQ(a.outcome(), v1::Decision::REJECT);
  ASSERT_EQ(a.practitioners_size(), 1);
  EXPECT_EQ(a.practitioners(0).state(), v1::PersonStatus::SUSPENDED);
  EXPECT_EQ(ledger::FromProto(a.practitioners(0).since()), T("2025-03-10T10:00"));
  EXPECT_EQ(ledger::FromProto(a.practitioners(0).until()), T("2025-07-10T10:00"));
  EXPECT_EQ(a.practitioners(0).year_points(), 9);
  EXPECT_EQ(a.practitioners(0).finding(), v1::PRACTITIONER_SUSPENDED);
  EXPECT_EQ(a.ledger_position(), ledger_->position());
  EXPECT_EQ(a.profile(), "hebei");
  EXPECT_EQ(a.profile_digest(), profiles_->Find("hebei")->digest());
  EXPECT_EQ(a.profile_digest().size(), 64u);
  EXPECT_EQ(a.claim_digest().size(), 64u);
  EXPECT_EQ(a.gate_version(), "test");
  // The claim digest depends on the claim's content only.
  v1::Claim changed = claim;
  changed.set_insured_id("OTHER");
  EXPECT_NE(DecideClaim(changed).audit().claim_digest(), a.claim_digest());
  EXPECT_EQ(DecideClaim(claim).audit().claim_digest(), a.claim_digest());
}

}  // namespace
}  // namespace claimgate::gate
