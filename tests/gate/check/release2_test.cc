// The release 2 rules (SPEC §8), row by row, through the file path (`claimgate check`): ledger
// events and claims as JSON lines in, each decision, refusal and notice out as one short string.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gate/check/check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/strict_json.h"

namespace claimgate::gate {
namespace {

constexpr char kCode1[] = "81234560000000000001";
constexpr char kCode2[] = "81234560000000000002";
constexpr char kCode3[] = "81234560000000000003";

// A claim line. `extra` is spliced into the claim body (e.g. R"("insured_region":"110000",)").
struct ClaimSpec {
  std::string id = {};
  std::string service_time = {};  // RFC 3339 with offset
  std::string kind = "SETTLEMENT";
  std::string visit = "OUTPATIENT";
  std::string insured = "P9";
  std::vector<std::string> codes = {};  // on one item of `category`
  std::string submitted = {};  // the event time; empty: service time + 30 minutes
  std::string extra = {};
  std::string person = "D1";
  std::string category = "DRUG";
};

// Each row runs twice: the code book in memory and in a code store on disk (`--codes-dir`).
class Release2Test : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto profiles = ledger::ProfileSet::Builtin();
    ASSERT_TRUE(profiles.ok());
    profiles_ = std::move(*profiles);
  }

  // A profile named `name`: the national tables plus `settings` (Protobuf text).
  void AddProfile(const std::string& name, const std::string& settings) {
    std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/ledger/profiles/national.textproto");
    std::stringstream text;
    text << in.rdbuf();
    std::string body = text.str();
    const size_t at = body.find("name: \"national\"");
    ASSERT_NE(at, std::string::npos);
    body.replace(at, 16, absl::StrCat("name: \"", name, "\""));
    // The settings given replace the file's lines for the same fields.
    std::vector<std::string> kept;
    for (absl::string_view line : absl::StrSplit(body, '\n')) {
      bool replaced = false;
      for (absl::string_view setting : absl::StrSplit(settings, '\n', absl::SkipEmpty())) {
        const absl::string_view field = setting.substr(0, setting.find_first_of(": {"));
        replaced |= absl::StartsWith(line, absl::StrCat(field, ":")) ||
                    absl::StartsWith(line, absl::StrCat(field, " {"));
      }
      if (!replaced) kept.emplace_back(line);
    }
    body = absl::StrJoin(kept, "\n");
    ASSERT_TRUE(profiles_->AddText(name, absl::StrCat(body, "\n", settings)).ok());
  }

  // H1 (region 130800) under `profile`, with D1 registered and committed.
  void Base(const std::string& profile = "national") {
    Line(absl::StrFormat(
        R"({"event_id":"B1","time":"2025-01-02T08:00:00+08:00","institution_registered":{"institution_id":"H1","kind":"HOSPITAL","level":3,"region":"130800","profile":"%s"}})",
        profile));
    Staff("D1", "B");
  }
  void Staff(const std::string& person, const std::string& event_prefix) {
    Line(absl::StrFormat(
        R"({"event_id":"%s2%s","time":"2025-01-02T09:00:00+08:00","person_registered":{"person_id":"%s","institution_id":"H1","role":"PHYSICIAN"}})",
        event_prefix, person, person));
    Line(absl::StrFormat(
        R"({"event_id":"%s3%s","time":"2025-01-02T09:30:00+08:00","commitment_signed":{"person_id":"%s","institution_id":"H1"}})",
        event_prefix, person, person));
  }
  void Line(const std::string& line) { lines_.push_back(line); }
  void Event(const std::string& id, const std::string& time, const std::string& body) {
    Line(absl::StrFormat(R"({"event_id":"%s","time":"%s",%s})", id, time, body));
  }
  void Claim(const ClaimSpec& c) {
    std::string items;
    if (!c.codes.empty()) {
      std::vector<std::string> quoted;
      for (const std::string& code : c.codes) quoted.push_back(absl::StrCat("\"", code, "\""));
      items = absl::StrFormat(
          R"(,"items":[{"item_code":"X1","category":"%s","amount_fen":1250,"traceability_codes":[%s]}])",
          c.category, absl::StrJoin(quoted, ","));
    }
    std::string submitted = c.submitted;
    if (submitted.empty()) {
      submitted = ledger::FormatRfc3339(*ledger::ParseRfc3339(c.service_time) + absl::Minutes(30));
    }
    Line(absl::StrFormat(
        R"({"event_id":"E%s","time":"%s","claim":{"claim_id":"%s","kind":"%s","institution_id":"H1","service_time":"%s","visit_type":"%s",%s"insured_id":"%s","practitioners":[{"person_id":"%s","role":"PRESCRIBER"}]%s}})",
        c.id, submitted, c.id, c.kind, c.service_time, c.visit, c.extra, c.insured, c.person,
        items));
  }
  void Reverse(const std::string& claim_id, const std::string& event_id) {
    Event(event_id, "2026-01-01T00:00:00+08:00",
          absl::StrFormat(R"("claim_reversed":{"claim_id":"%s","reason":"refund"})", claim_id));
  }

  // Runs check over the lines; one string per decision ("C1 REJECT
  // INSURED_SETTLEMENT_SUSPENDED:P9"),
  // refusal ("!E5 UNKNOWN_DECISION") and notice other than EVENT_REFUSED ("notice ...").
  std::vector<std::string> Run() {
    std::stringstream in(absl::StrJoin(lines_, "\n"));
    std::ostringstream out, err, notices;
    CheckOptions options;
    options.source_file = "release2.jsonl";
    options.notices = &notices;
    if (GetParam()) {
      // Tests run in parallel processes: a directory of this process's own.
      options.codes_dir =
          absl::StrCat(::testing::TempDir(), "/release2_codes_", getpid(), "_", ++runs_);
      std::filesystem::remove_all(options.codes_dir);
      options.codes_cache_bytes = 8 << 20;
    }
    FixedClock clock(*ledger::ParseRfc3339("2026-01-01T00:00:00+08:00"));
    auto summary = RunCheck(in, out, err, *profiles_, options, clock);
    EXPECT_TRUE(summary.ok()) << summary.status();
    std::vector<std::string> got;
    for (absl::string_view line : absl::StrSplit(out.str(), '\n', absl::SkipEmpty())) {
      v1::Decision d;
      EXPECT_TRUE(ledger::ParseStrictJson(line, &d, false).ok()) << line;
      std::vector<std::string> parts = {d.claim_id(), v1::Decision::Outcome_Name(d.outcome())};
      for (const v1::Reason& r : d.reasons()) {
        std::string s = v1::ReasonCode_Name(r.code());
        for (const std::string* detail :
             {&r.person_id(), &r.item_code(), &r.insured_id(), &r.traceability_code()}) {
          if (!detail->empty()) absl::StrAppend(&s, ":", *detail);
        }
        parts.push_back(s);
      }
      for (const auto& dup : d.audit().duplicate_codes()) {
        const absl::Time first = ledger::FromProto(dup.first_service_time());
        parts.push_back(absl::StrCat("first=", dup.first_claim_id(), "@",
                                     dup.first_institution_id(), "/",
                                     ledger::FormatRfc3339(first)));
      }
      if (!d.audit().settled_codes().empty()) {
        parts.push_back(absl::StrCat("settles=", absl::StrJoin(d.audit().settled_codes(), ",")));
      }
      if (!d.audit().released_codes().empty()) {
        parts.push_back(absl::StrCat("releases=", absl::StrJoin(d.audit().released_codes(), ",")));
      }
      got.push_back(absl::StrJoin(parts, " "));
    }
    for (absl::string_view line : absl::StrSplit(err.str(), '\n', absl::SkipEmpty())) {
      v1::Refusal r;
      EXPECT_TRUE(ledger::ParseStrictJson(line, &r, false).ok()) << line;
      got.push_back(absl::StrCat("!", r.event_id(), " ", v1::LedgerError_Name(r.error())));
    }
    for (absl::string_view line : absl::StrSplit(notices.str(), '\n', absl::SkipEmpty())) {
      v1::LedgerNotice n;
      EXPECT_TRUE(ledger::ParseStrictJson(line, &n, false).ok()) << line;
      if (n.notice() == "EVENT_REFUSED") continue;
      got.push_back(absl::StrCat("notice ", n.notice(), " ", n.institution_id(), " ", n.year(),
                                 " ", n.year_total()));
    }
    return got;
  }

  std::unique_ptr<ledger::ProfileSet> profiles_;
  std::vector<std::string> lines_;
  static inline int runs_ = 0;
};

using ::testing::ElementsAre;

// §8.1 -----------------------------------------------------------------------------------------

TEST_P(Release2Test, SuspendedInsuredIsRejectedWithinTheHalfOpenInterval) {
  Base();
  Event("I1", "2025-01-31T10:00:00+08:00",
        R"("insured_settlement_suspended":{"insured_id":"P9","months":3,"decision_id":"S1"})");
  Claim({.id = "C1", .service_time = "2025-01-31T09:59:59+08:00"});
  Claim({.id = "C2", .service_time = "2025-01-31T10:00:00+08:00"});
  // 31 Jan + 3 months clamps to 30 Apr, same clock time.
  Claim({.id = "C3", .service_time = "2025-04-30T09:59:59+08:00", .kind = "PRESCRIPTION"});
  Claim({.id = "C4", .service_time = "2025-04-30T10:00:00+08:00"});
  Claim({.id = "C5", .service_time = "2025-03-01T10:00:00+08:00", .insured = "P8"});
  EXPECT_THAT(Run(), ElementsAre("C1 ACCEPT", "C2 REJECT INSURED_SETTLEMENT_SUSPENDED:P9",
                                 "C3 REJECT INSURED_SETTLEMENT_SUSPENDED:P9", "C4 ACCEPT",
                                 "C5 ACCEPT"));
}

TEST_P(Release2Test, EmergencyOfASuspendedInsuredIsFlaggedUnlessTheProfileSaysOtherwise) {
  AddProfile("strict", "insured_emergency_exempt: false");
  Base();
  Event("I1", "2025-02-01T10:00:00+08:00",
        R"("insured_settlement_suspended":{"insured_id":"P9","months":3,"decision_id":"S1"})");
  Claim({.id = "C1", .service_time = "2025-03-01T10:00:00+08:00", .visit = "EMERGENCY"});
  Claim({.id = "C2", .service_time = "2025-03-01T10:00:00+08:00", .visit = "RESCUE"});
  Event("B9", "2025-03-02T08:00:00+08:00",
        R"("institution_registered":{"institution_id":"H1","kind":"HOSPITAL","level":3,"region":"130800","profile":"strict"})");
  Claim({.id = "C3", .service_time = "2025-03-03T10:00:00+08:00", .visit = "EMERGENCY"});
  EXPECT_THAT(Run(), ElementsAre("C1 FLAG EMERGENCY_EXEMPTION:P9", "C2 FLAG EMERGENCY_EXEMPTION:P9",
                                 "C3 REJECT INSURED_SETTLEMENT_SUSPENDED:P9"));
}

TEST_P(Release2Test, InsuredMonthsOutsideThreeToTwelveAreRefused) {
  Base();
  for (int months : {2, 13, 0, -3}) {
    Event(absl::StrCat("I", months + 10), "2025-02-01T10:00:00+08:00",
          absl::StrFormat(
              R"("insured_settlement_suspended":{"insured_id":"P9","months":%d,"decision_id":"S%d"})",
              months, months + 10));
  }
  Event("I3", "2025-02-01T10:00:00+08:00",
        R"("insured_settlement_suspended":{"insured_id":"P7","months":12,"decision_id":"S3"})");
  Claim({.id = "C1", .service_time = "2025-03-01T10:00:00+08:00"});
  Claim({.id = "C2", .service_time = "2026-01-31T10:00:00+08:00", .insured = "P7"});
  Claim({.id = "C3", .service_time = "2026-02-01T10:00:00+08:00", .insured = "P7"});
  EXPECT_THAT(Run(), ElementsAre("C1 ACCEPT", "C2 REJECT INSURED_SETTLEMENT_SUSPENDED:P7",
                                 "C3 ACCEPT", "!I12 INVALID_MONTHS", "!I23 INVALID_MONTHS",
                                 "!I10 INVALID_MONTHS", "!I7 INVALID_MONTHS"));
}

TEST_P(Release2Test, OverlappingInsuredSuspensionsDoNotStackAndRevokingOneLeavesTheOther) {
  Base();
  Event("I1", "2025-01-10T10:00:00+08:00",
        R"("insured_settlement_suspended":{"insured_id":"P9","months":6,"decision_id":"S1"})");
  Event("I2", "2025-02-01T10:00:00+08:00",
        R"("insured_settlement_suspended":{"insured_id":"P9","months":3,"decision_id":"S2"})");
  Claim({.id = "C1", .service_time = "2025-07-10T09:00:00+08:00"});  // the later end wins
  Claim({.id = "C2", .service_time = "2025-07-10T10:00:00+08:00"});
  Event("I3", "2025-08-01T10:00:00+08:00", R"("insured_suspension_revoked":{"decision_id":"S1"})");
  // As if S1 had never been: only S2's [1 Feb, 1 May) remains.
  Claim({.id = "C3", .service_time = "2025-01-20T10:00:00+08:00"});
  Claim({.id = "C4", .service_time = "2025-04-30T10:00:00+08:00"});
  Claim({.id = "C5", .service_time = "2025-05-01T10:00:00+08:00"});
  Event("I4", "2025-08-02T10:00:00+08:00", R"("insured_suspension_revoked":{"decision_id":"S1"})");
  Event("I5", "2025-08-02T10:00:00+08:00", R"("insured_suspension_revoked":{"decision_id":"NO"})");
  Event("I6", "2025-08-02T10:00:00+08:00",
        R"("insured_settlement_suspended":{"insured_id":"P5","months":3,"decision_id":"S2"})");
  EXPECT_THAT(Run(), ElementsAre("C1 REJECT INSURED_SETTLEMENT_SUSPENDED:P9", "C2 ACCEPT",
                                 "C3 ACCEPT", "C4 REJECT INSURED_SETTLEMENT_SUSPENDED:P9",
                                 "C5 ACCEPT", "!I4 UNKNOWN_DECISION", "!I5 UNKNOWN_DECISION",
                                 "!I6 DUPLICATE_EVENT"));
}

// §8.2 -----------------------------------------------------------------------------------------

TEST_P(Release2Test, InstitutionSettlementSuspensionRunsFromSuspendedToResumed) {
  Base();
  Event("S1", "2025-03-01T00:00:00+08:00",
        R"("settlement_suspended":{"institution_id":"H1","scope":"ALL","decision_id":"K1"})");
  Event("S2", "2025-03-05T00:00:00+08:00",
        R"("settlement_suspended":{"institution_id":"H1","scope":"ALL","decision_id":"K2"})");
  Claim({.id = "C1", .service_time = "2025-02-28T23:59:59+08:00"});
  Claim({.id = "C2", .service_time = "2025-03-06T10:00:00+08:00"});  // two in force: one finding
  Claim({.id = "C3", .service_time = "2025-03-06T10:00:00+08:00", .visit = "EMERGENCY"});
  Event("S3", "2025-03-10T00:00:00+08:00", R"("settlement_resumed":{"decision_id":"K1"})");
  Event("S4", "2025-03-12T00:00:00+08:00", R"("settlement_resumed":{"decision_id":"K2"})");
  Claim({.id = "C4", .service_time = "2025-03-11T23:59:59+08:00"});
  Claim({.id = "C5", .service_time = "2025-03-12T00:00:00+08:00"});
  Event("S5", "2025-03-13T00:00:00+08:00", R"("settlement_resumed":{"decision_id":"K2"})");
  Event("S6", "2025-03-13T00:00:00+08:00", R"("settlement_resumed":{"decision_id":"NONE"})");
  EXPECT_THAT(Run(), ElementsAre("C1 ACCEPT", "C2 REJECT INSTITUTION_SETTLEMENT_SUSPENDED",
                                 "C3 FLAG EMERGENCY_EXEMPTION",
                                 "C4 REJECT INSTITUTION_SETTLEMENT_SUSPENDED", "C5 ACCEPT",
                                 "!S5 UNKNOWN_DECISION", "!S6 UNKNOWN_DECISION"));
}

TEST_P(Release2Test, NonlocalSuspensionAffectsOnlyClaimsOfInsuredFromAnotherRegion) {
  AddProfile("strict", "settlement_suspension_emergency_exempt: false");
  Base("strict");
  Event("S1", "2025-03-01T00:00:00+08:00",
        R"("settlement_suspended":{"institution_id":"H1","scope":"NONLOCAL","decision_id":"K1"})");
  Claim({.id = "C1", .service_time = "2025-03-06T10:00:00+08:00",
         .extra = R"("insured_region":"110000",)"});
  Claim({.id = "C2", .service_time = "2025-03-06T10:00:00+08:00",
         .extra = R"("insured_region":"130800",)"});
  Claim({.id = "C3", .service_time = "2025-03-06T10:00:00+08:00"});
  Claim({.id = "C4", .service_time = "2025-03-06T10:00:00+08:00", .visit = "RESCUE",
         .extra = R"("insured_region":"110000",)"});
  EXPECT_THAT(Run(), ElementsAre("C1 REJECT INSTITUTION_SETTLEMENT_SUSPENDED", "C2 ACCEPT",
                                 "C3 ACCEPT", "C4 REJECT INSTITUTION_SETTLEMENT_SUSPENDED"));
}

// §8.3 -----------------------------------------------------------------------------------------

TEST_P(Release2Test, ACodeSettledByAPaidSettlementIsADuplicateForAnotherClaim) {
  Base();
  Claim({.id = "P1", .service_time = "2025-03-01T10:00:00+08:00", .kind = "PRESCRIPTION",
         .codes = {kCode1}});  // settles nothing
  Claim({.id = "R1", .service_time = "2025-03-01T10:00:00+08:00", .codes = {kCode1},
         .person = "NOBODY"});  // rejected: settles nothing
  Claim({.id = "C1", .service_time = "2025-03-02T10:00:00+08:00", .codes = {kCode1}});
  Claim({.id = "C1", .service_time = "2025-03-02T10:00:00+08:00", .codes = {kCode1}});  // again
  Claim({.id = "C2", .service_time = "2025-03-03T10:00:00+08:00",
         .codes = {kCode1, kCode1, kCode2}});
  Claim({.id = "P2", .service_time = "2025-03-04T10:00:00+08:00", .kind = "PRESCRIPTION",
         .codes = {kCode1}});  // only SETTLEMENT claims are checked
  Claim({.id = "C3", .service_time = "2025-03-05T10:00:00+08:00", .codes = {"123", kCode3}});
  EXPECT_THAT(
      Run(),
      ElementsAre("P1 ACCEPT", "R1 REJECT PRACTITIONER_NOT_REGISTERED:NOBODY",
                  std::string("C1 ACCEPT settles=") + kCode1,
                  std::string("C1 ACCEPT settles=") + kCode1,
                  absl::StrCat("C2 FLAG DUPLICATE_TRACEABILITY_CODE:", kCode1,
                               " first=C1@H1/2025-03-02T10:00:00+08:00 settles=", kCode2),
                  "P2 ACCEPT", absl::StrCat("C3 ACCEPT settles=", kCode3)));
}

TEST_P(Release2Test, DuplicateActionRejectSettlesNothingAndConsumablesJoinByProfile) {
  AddProfile("strict",
             "duplicate_code_action: REJECT\n"
             "traceability_categories: DRUG\ntraceability_categories: CONSUMABLE");
  Base("strict");
  Claim({.id = "C1", .service_time = "2025-03-02T10:00:00+08:00", .codes = {kCode1},
         .category = "CONSUMABLE"});
  Claim({.id = "C2", .service_time = "2025-03-03T10:00:00+08:00", .codes = {kCode1, kCode2},
         .category = "CONSUMABLE"});
  Claim({.id = "C3", .service_time = "2025-03-04T10:00:00+08:00", .codes = {kCode2}});
  Claim({.id = "C4", .service_time = "2025-03-04T10:00:00+08:00", .visit = "EMERGENCY",
         .codes = {kCode1}, .category = "SERVICE"});
  EXPECT_THAT(Run(), ElementsAre(absl::StrCat("C1 ACCEPT settles=", kCode1),
                                 absl::StrCat("C2 REJECT DUPLICATE_TRACEABILITY_CODE:", kCode1,
                                              " first=C1@H1/2025-03-02T10:00:00+08:00"),
                                 absl::StrCat("C3 ACCEPT settles=", kCode2), "C4 ACCEPT"));
}

TEST_P(Release2Test, AReversalReleasesOnlyTheCodesItsClaimSettled) {
  Base();
  Claim({.id = "C1", .service_time = "2025-03-02T10:00:00+08:00", .codes = {kCode1}});
  Claim({.id = "C2", .service_time = "2025-03-03T10:00:00+08:00", .codes = {kCode1, kCode2}});
  Reverse("C2", "V1");
  Claim({.id = "C3", .service_time = "2025-03-04T10:00:00+08:00", .codes = {kCode1, kCode2}});
  Reverse("C1", "V2");
  Claim({.id = "C4", .service_time = "2025-03-05T10:00:00+08:00", .codes = {kCode1}});
  Reverse("C1", "V3");
  Reverse("NOPE", "V4");
  const std::string first = " first=C1@H1/2025-03-02T10:00:00+08:00";
  EXPECT_THAT(Run(),
              ElementsAre(absl::StrCat("C1 ACCEPT settles=", kCode1),
                          absl::StrCat("C2 FLAG DUPLICATE_TRACEABILITY_CODE:", kCode1, first,
                                       " settles=", kCode2),
                          absl::StrCat("C2 REVERSED releases=", kCode2),
                          absl::StrCat("C3 FLAG DUPLICATE_TRACEABILITY_CODE:", kCode1, first,
                                       " settles=", kCode2),
                          absl::StrCat("C1 REVERSED releases=", kCode1),
                          absl::StrCat("C4 ACCEPT settles=", kCode1), "!V3 UNKNOWN_CLAIM",
                          "!V4 UNKNOWN_CLAIM"));
}

TEST_P(Release2Test, ASettledCodeIsForgottenAfterTheRetentionYears) {
  AddProfile("short", "code_retention_years: 1");
  Base();
  Claim({.id = "C1", .service_time = "2025-03-02T10:00:00+08:00", .codes = {kCode1}});
  Claim({.id = "C2", .service_time = "2028-03-02T09:59:59+08:00", .codes = {kCode1}});
  Claim({.id = "C3", .service_time = "2028-03-02T10:00:00+08:00", .codes = {kCode1}});
  Claim({.id = "C4", .service_time = "2028-03-03T10:00:00+08:00", .codes = {kCode1}});
  EXPECT_THAT(Run(), ElementsAre(absl::StrCat("C1 ACCEPT settles=", kCode1),
                                 absl::StrCat("C2 FLAG DUPLICATE_TRACEABILITY_CODE:", kCode1,
                                              " first=C1@H1/2025-03-02T10:00:00+08:00"),
                                 absl::StrCat("C3 ACCEPT settles=", kCode1),
                                 absl::StrCat("C4 FLAG DUPLICATE_TRACEABILITY_CODE:", kCode1,
                                              " first=C3@H1/2028-03-02T10:00:00+08:00")));
}

// §8.4 -----------------------------------------------------------------------------------------

TEST_P(Release2Test, AServiceTimeLaterThanTheSubmissionAllowsIsFlagged) {
  AddProfile("lenient", "future_service_tolerance { seconds: 3600 }");
  Base();
  Claim({.id = "C1", .service_time = "2025-03-02T10:10:00+08:00",
         .submitted = "2025-03-02T10:00:00+08:00"});
  Claim({.id = "C2", .service_time = "2025-03-02T10:10:01+08:00",
         .submitted = "2025-03-02T10:00:00+08:00"});
  Claim({.id = "C3", .service_time = "2025-03-02T02:10:01Z",
         .submitted = "2025-03-02T10:00:00+08:00", .person = "NOBODY"});
  Event("B9", "2025-03-02T08:00:00+08:00",
        R"("institution_registered":{"institution_id":"H1","kind":"HOSPITAL","level":3,"region":"130800","profile":"lenient"})");
  Claim({.id = "C4", .service_time = "2025-03-02T11:00:00+08:00",
         .submitted = "2025-03-02T10:00:00+08:00"});
  Claim({.id = "C5", .service_time = "2025-03-02T11:00:01+08:00",
         .submitted = "2025-03-02T10:00:00+08:00"});
  EXPECT_THAT(Run(),
              ElementsAre("C1 ACCEPT", "C2 FLAG SERVICE_TIME_AFTER_SUBMISSION",
                          "C3 REJECT PRACTITIONER_NOT_REGISTERED:NOBODY "
                          "SERVICE_TIME_AFTER_SUBMISSION",
                          "C4 ACCEPT", "C5 FLAG SERVICE_TIME_AFTER_SUBMISSION"));
}

// §8.5 -----------------------------------------------------------------------------------------

TEST_P(Release2Test, TheSanctionRatioNoticeComesOnceForAnInstitutionAndYear) {
  AddProfile("ratio", "sanctioned_staff_ratio: 0.5");
  Base("ratio");
  Staff("D2", "B");
  Staff("D3", "B");
  Staff("D4", "B");
  // Four registered in 2025: the notice once sanctions exceed 2.
  auto assess = [&](const std::string& id, const std::string& person, const std::string& time) {
    Event(id, time,
          absl::StrFormat(
              R"("score_assessed":{"assessment_id":"A%s","person_id":"%s","institution_id":"H1","points":9,"responsibility":"MAIN","violation":"OVER_TREATMENT","basis":"AGREEMENT_HANDLING","decision_id":"P%s"})",
              id, person, id));
  };
  assess("1", "D1", "2025-02-01T10:00:00+08:00");
  assess("2", "D2", "2025-03-01T10:00:00+08:00");
  assess("3", "D3", "2025-04-01T10:00:00+08:00");
  assess("4", "D4", "2025-05-01T10:00:00+08:00");
  assess("5", "D1", "2026-02-01T10:00:00+08:00");
  std::vector<std::string> notices;
  for (const std::string& s : Run()) {
    if (absl::StartsWith(s, "notice INSTITUTION_SANCTION")) notices.push_back(s);
  }
  EXPECT_THAT(notices, ElementsAre("notice INSTITUTION_SANCTION_RATIO_EXCEEDED H1 2025 3"));
}

INSTANTIATE_TEST_SUITE_P(Books, Release2Test, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "OnDisk" : "InMemory"; });

}  // namespace
}  // namespace claimgate::gate
