// Replay from files (issue 6): against the record, random streams with appeals, adjustments and
// late assessments replay with zero differences; against the ledger now, after an appended
// revocation, the list is exactly the claims a decider that knew everything would decide
// differently (the oracle: `check` with every claim moved after every ledger event). The fast JSON
// reader reads every line as Protobuf's parser does.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gate/audit/audit_file.h"
#include "gate/check/check.h"
#include "gate/clock.h"
#include "gate/json/json_writer.h"
#include "gate/replay/json_lines.h"
#include "gate/replay/replay_files.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "ledger/profile.h"
#include "tests/testing/random_events.h"

namespace claimgate::gate {
namespace {

using claimgate::testing::Random;

const ledger::ProfileSet& Profiles() {
  static const ledger::ProfileSet* set = ledger::ProfileSet::Builtin()->release();
  return *set;
}

// Files under the test's own name: ctest runs the tests of this binary in parallel.
std::string Write(const std::string& name, const std::vector<std::string>& lines) {
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".", name);
  std::ofstream out(path);
  for (const std::string& l : lines) out << l << '\n';
  return path;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// `claimgate check` of a file: its decision lines.
std::vector<std::string> Check(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out, err;
  FixedClock clock(*ledger::ParseRfc3339("2026-01-01T00:00:00Z"));
  CheckOptions options;
  options.source_file = path;
  EXPECT_TRUE(RunCheck(in, out, err, Profiles(), options, clock).ok());
  return Lines(out.str());
}

struct Replayed {
  ReplayTally tally;
  std::vector<std::string> lines;
};

Replayed Replay(const std::string& events, const std::string& decisions, Against against,
                bool csv = false) {
  ReplayOptions options;
  options.against = against;
  options.csv = csv;
  options.threads = 2;
  std::stringstream out;
  absl::StatusOr<ReplayTally> tally = ReplayFiles(events, decisions, options, Profiles(), out);
  EXPECT_TRUE(tally.ok()) << tally.status();
  return Replayed{tally.ok() ? *tally : ReplayTally(), Lines(out.str())};
}

// claim id -> outcome of a decisions file (or of replay's difference lines: the replayed one).
std::map<std::string, std::string> Outcomes(const std::vector<std::string>& lines,
                                            bool replayed = false) {
  std::map<std::string, std::string> out;
  for (const std::string& l : lines) {
    const size_t id = l.find("\"claim_id\":\"") + 12;
    const size_t at =
        replayed ? l.find("\"replayed\":{\"outcome\":\"") + 23 : l.find("\"outcome\":\"") + 11;
    out[l.substr(id, l.find('"', id) - id)] = l.substr(at, l.find('"', at) - at);
  }
  return out;
}

// A random year: ledger events with appeals, adjustments and late assessments, and claims among
// them. Returns the JSON lines; `assessments` gets the assessment ids by points, highest first.
std::vector<std::string> RandomYear(uint32_t seed, std::vector<std::string>* assessments) {
  Random r(seed);
  std::vector<v1::Event> events = claimgate::testing::RandomStream(r, 160);
  std::vector<std::pair<int, std::string>> by_points;
  for (const v1::Event& e : events) {
    if (e.has_score_assessed())
      by_points.emplace_back(-e.score_assessed().points(), e.score_assessed().assessment_id());
  }
  std::sort(by_points.begin(), by_points.end());
  for (const auto& [unused, id] : by_points) assessments->push_back(id);
  int k = 0;
  for (v1::Claim& claim : claimgate::testing::RandomClaims(r, 120)) {
    v1::Event e;
    e.set_event_id(absl::StrCat("CE", ++k));
    // Submitted up to an hour after the service, or up to half an hour before it (SPEC §8.4).
    ledger::SetProto(ledger::FromProto(claim.service_time()) + absl::Minutes(r.Int(-30, 60)),
                     e.mutable_time());
    for (v1::Claim::Item& item : *claim.mutable_items()) item.set_amount_fen(r.Int(1, 100000));
    *e.mutable_claim() = claim;
    events.insert(events.begin() + r.Int(3, static_cast<int>(events.size())), e);
  }
  std::vector<std::string> lines;
  for (const v1::Event& e : events) lines.push_back(ledger::ToJson(e));
  return lines;
}

std::vector<std::string> ClaimsLast(const std::vector<std::string>& lines) {
  std::vector<std::string> ledger, claims;
  for (const std::string& l : lines)
    (l.find("\"claim\":{") != std::string::npos ? claims : ledger).push_back(l);
  ledger.insert(ledger.end(), claims.begin(), claims.end());
  return ledger;
}

// The oracle for --against current: claims whose outcome changes when decided after every
// ledger event, with their new outcome.
std::map<std::string, std::string> Oracle(const std::string& name,
                                          const std::vector<std::string>& events,
                                          const std::vector<std::string>& recorded) {
  const auto now = Outcomes(Check(Write(name, ClaimsLast(events))));
  std::map<std::string, std::string> changed;
  for (const auto& [id, outcome] : Outcomes(recorded)) {
    if (now.at(id) != outcome) changed[id] = now.at(id);
  }
  return changed;
}

TEST(ReplayTest, RandomStreamsReplayAgainstTheRecordWithZeroDifferences) {
  int claims = 0;
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    std::vector<std::string> assessments;
    const std::string events = Write("events.jsonl", RandomYear(seed, &assessments));
    const std::vector<std::string> decided = Check(events);
    const Replayed r = Replay(events, Write("decisions.jsonl", decided), Against::kRecorded);
    EXPECT_EQ(r.tally.differ(), 0)
        << "seed " << seed << ": " << (r.lines.empty() ? "" : r.lines[0]);
    EXPECT_EQ(r.tally.errors(), 0) << "seed " << seed;
    EXPECT_EQ(r.tally.same(), static_cast<int64_t>(decided.size()));
    claims += static_cast<int>(decided.size());
  }
  EXPECT_GT(claims, 2000);
}

TEST(ReplayTest, AfterARevocationCurrentListsExactlyTheClaimsItChanged) {
  int changed_by_revocation = 0;
  for (uint32_t seed = 1; seed <= 25; ++seed) {
    std::vector<std::string> assessments;
    std::vector<std::string> events = RandomYear(seed, &assessments);
    const std::string path = Write("events.jsonl", events);
    const std::vector<std::string> decided = Check(path);
    const std::string decisions = Write("decisions.jsonl", decided);

    // Before: late and revised events already make some claims differ.
    const Replayed before = Replay(path, decisions, Against::kCurrent);
    const auto expected_before = Oracle("oracle.jsonl", events, decided);
    EXPECT_EQ(Outcomes(before.lines, true), expected_before) << "seed " << seed;

    // Append a revocation (the first assessment, heaviest first, whose revocation changes what a
    // decider knowing everything would say); the decisions stay as recorded.
    for (const std::string& assessment : assessments) {
      v1::Event revoke;
      revoke.set_event_id("REVOKE");
      revoke.mutable_time()->set_seconds(1798732800);  // 2027
      revoke.mutable_assessment_revoked()->set_assessment_id(assessment);
      revoke.mutable_assessment_revoked()->set_reason("appeal upheld");
      std::vector<std::string> appended = events;
      appended.push_back(ledger::ToJson(revoke));
      const auto expected_after = Oracle("oracle.jsonl", appended, decided);
      if (expected_after == expected_before) continue;
      const Replayed after = Replay(Write("events.jsonl", appended), decisions, Against::kCurrent);
      EXPECT_EQ(Outcomes(after.lines, true), expected_after) << "seed " << seed;
      EXPECT_EQ(after.tally.differ(), static_cast<int64_t>(expected_after.size()));
      EXPECT_EQ(after.tally.errors(), 0);
      ++changed_by_revocation;
      break;
    }
  }
  // The test can fail: the revocations changed the list for many seeds.
  std::cout << "revocations that changed the list: " << changed_by_revocation << " of 25 seeds\n";
  EXPECT_GE(changed_by_revocation, 5);
}

TEST(ReplayTest, SpecExampleRevocationRefundsTheRejectedClaim) {
  std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/tests/golden/spec_example.jsonl");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> events = Lines(text.str());
  const std::string path = Write("spec.jsonl", events);
  const std::string decisions = Write("spec.decisions.jsonl", Check(path));
  EXPECT_EQ(Replay(path, decisions, Against::kCurrent).tally.differ(), 0);

  events.push_back(
      R"({"event_id":"L5","time":"2025-04-01T09:00:00+08:00","assessment_revoked":{"assessment_id":"A1","reason":"appeal upheld"}})");
  const std::string revoked = Write("spec.revoked.jsonl", events);
  const Replayed r = Replay(revoked, decisions, Against::kCurrent);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(
      r.lines[0],
      absl::StrCat(
          R"({"claim_id":"C1","institution_id":"H001","service_time":"2025-03-20T10:30:00+08:00",)",
          R"("source":{"file":")", path,
          R"(","offset":5},"recorded":{"outcome":"REJECT","reasons":[{"code":"PRACTITIONER_SUSPENDED","person_id":"D001"}]},)",
          R"("replayed":{"outcome":"ACCEPT","reasons":[]},"action":"REFUND","amount_fen":1250})"));
  EXPECT_NE(
      r.tally.SummaryJson(Against::kCurrent, 0).find(R"("refund":{"claims":1,"amount_fen":1250})"),
      std::string::npos);
  EXPECT_NE(
      r.tally.SummaryJson(Against::kCurrent, 0)
          .find(
              R"({"institution_id":"H001","recoup_claims":0,"recoup_fen":0,"refund_claims":1,"refund_fen":1250})"),
      std::string::npos);
  const Replayed csv = Replay(revoked, decisions, Against::kCurrent, /*csv=*/true);
  ASSERT_EQ(csv.lines.size(), 2u);
  EXPECT_EQ(csv.lines[0], DifferenceCsvHeader());
  EXPECT_EQ(csv.lines[1],
            absl::StrCat("C1,H001,2025-03-20T10:30:00+08:00,REJECT,ACCEPT,REFUND,1250,"
                         "PRACTITIONER_SUSPENDED:D001,,",
                         path, ":5,"));
  // Against the record nothing changes: the revocation came after the decisions.
  EXPECT_EQ(Replay(revoked, decisions, Against::kRecorded).tally.differ(), 0);
}

// Release 2 (SPEC §8): the new findings replay byte for byte against the record; against now, a
// revoked insured suspension refunds, and a reversal after the fact clears the duplicates of the
// reversed claim's codes.
TEST(ReplayTest, Release2FindingsReplayAndAReversalAfterTheFactIsListed) {
  std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/tests/golden/release2.jsonl");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> events = Lines(text.str());
  const std::string path = Write("release2.jsonl", events);
  const std::string decisions = Write("release2.decisions.jsonl", Check(path));
  const Replayed recorded = Replay(path, decisions, Against::kRecorded);
  EXPECT_EQ(recorded.tally.replayed(), 7);  // the REVERSED line decides no claim
  EXPECT_EQ(recorded.tally.differ(), 0) << absl::StrJoin(recorded.lines, "\n");

  // The file ends with the revocation of P9's suspension: C1 is refunded, C2 loses its flag.
  auto actions = [](const std::vector<std::string>& lines) {
    std::map<std::string, std::string> out;
    for (const std::string& l : lines) {
      const size_t id = l.find("\"claim_id\":\"") + 12;
      const size_t at = l.find("\"action\":\"") + 10;
      out[l.substr(id, l.find('"', id) - id)] = l.substr(at, l.find('"', at) - at);
    }
    return out;
  };
  const Replayed now = Replay(path, decisions, Against::kCurrent);
  EXPECT_EQ(actions(now.lines),
            (std::map<std::string, std::string>{{"C1", "REFUND"}, {"C2", "NONE"}}));

  // C2 settled 81234560000000000001 first; reversed after C3 and C7 were flagged for it.
  events.push_back(
      R"({"event_id":"V9","time":"2025-09-02T09:00:00+08:00","claim_reversed":{"claim_id":"C2","reason":"refund"}})");
  const Replayed reversed = Replay(Write("release2.reversed.jsonl", events), decisions,
                                   Against::kCurrent);
  EXPECT_EQ(actions(reversed.lines),
            (std::map<std::string, std::string>{
                {"C1", "REFUND"}, {"C2", "NONE"}, {"C3", "NONE"}, {"C7", "NONE"}}));
  for (const std::string& line : reversed.lines) {
    if (line.find(R"("claim_id":"C7")") == std::string::npos) continue;
    EXPECT_NE(
        line.find(
            R"("recorded":{"outcome":"FLAG","reasons":[{"code":"DUPLICATE_TRACEABILITY_CODE","traceability_code":"81234560000000000001"}]},"replayed":{"outcome":"ACCEPT","reasons":[]})"),
        std::string::npos)
        << line;
  }
}

TEST(ReplayTest, AgainstTheRecordAnEditedLedgerOrDecisionIsADifference) {
  std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/tests/golden/spec_example.jsonl");
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<std::string> events = Lines(text.str());
  const std::string path = Write("spec.jsonl", events);
  const std::vector<std::string> decided = Check(path);
  const std::string decisions = Write("spec.decisions.jsonl", decided);

  // The assessment's points rewritten after the fact (9 -> 3): C1 no longer replays as recorded.
  std::vector<std::string> edited = events;
  edited[3].replace(edited[3].find("\"points\":9"), 10, "\"points\":3");
  const Replayed ledger_edit =
      Replay(Write("spec.edited.jsonl", edited), decisions, Against::kRecorded);
  // Every audit record cites the points (C1 is now ACCEPT; C2 and C3 record other intervals).
  ASSERT_EQ(ledger_edit.tally.differ(), 3);
  EXPECT_EQ(Outcomes(ledger_edit.lines, true).at("C1"), "ACCEPT");
  EXPECT_NE(ledger_edit.lines[0].find("\"differences\":["), std::string::npos);

  // A decision's outcome rewritten (in the decision and its audit record alike).
  std::vector<std::string> forged = decided;
  for (size_t at; (at = forged[1].find("\"ACCEPT\"")) != std::string::npos;)
    forged[1].replace(at, 8, "\"REJECT\"");
  const Replayed decision_edit =
      Replay(path, Write("spec.forged.jsonl", forged), Against::kRecorded);
  ASSERT_EQ(decision_edit.tally.differ(), 1);
  EXPECT_NE(decision_edit.lines[0].find("\"claim_id\":\"C2\""), std::string::npos);
  EXPECT_NE(decision_edit.lines[0].find("outcome"), std::string::npos);

  // A decision that names a line holding no claim is an error, not a silent skip.
  std::vector<std::string> misplaced = decided;
  misplaced[0].replace(misplaced[0].find("\"offset\":\"5\""), 12, "\"offset\":\"2\"");
  const Replayed error = Replay(path, Write("spec.misplaced.jsonl", misplaced), Against::kRecorded);
  EXPECT_EQ(error.tally.errors(), 1);
  EXPECT_NE(error.lines[0].find("no claim at line 2"), std::string::npos);
}

// The fast reader against Protobuf's parser, line by line, on random claims and decisions.
TEST(ReplayTest, FastJsonReaderReadsAsProtobufDoes) {
  JsonLineReader reader;
  int claims = 0, decisions = 0;
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    std::vector<std::string> assessments;
    const std::vector<std::string> events = RandomYear(seed, &assessments);
    for (const std::string& line : events) {
      v1::Event e;
      ASSERT_TRUE(ledger::ParseEventJson(line, &e).ok());
      ASSERT_EQ(reader.Classify(line) == LineKind::kClaim, e.has_claim()) << line;
      if (!e.has_claim()) continue;
      ClaimView fast, slow;
      std::string error, fast_bytes, slow_bytes;
      ASSERT_TRUE(reader.ReadClaim(line, &fast, &error)) << error;
      ViewClaim(e.claim(), e.event_id(), &slow);
      CanonicalClaimBytes(fast, &fast_bytes);
      CanonicalClaimBytes(slow, &slow_bytes);
      ASSERT_EQ(fast_bytes, slow_bytes) << line;
      ASSERT_EQ(fast.event_id, slow.event_id);
      ASSERT_EQ(fast.service_time, slow.service_time);
      ++claims;
    }
    for (const std::string& line : Check(Write("events.jsonl", events))) {
      v1::Decision fast, slow;
      bool bare = false;
      std::string error;
      ASSERT_TRUE(reader.ReadDecision(line, &fast, &error)) << error;
      ASSERT_TRUE(ParseAuditLine(line, &slow, &bare).ok());
      ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(fast, slow)) << line;
      ++decisions;
    }
  }
  EXPECT_EQ(reader.slow(), 0);  // every line claimgate writes takes the fast path
  EXPECT_GT(claims, 1000);
  EXPECT_EQ(reader.fast(), claims + decisions);
  // Shapes it does not take go to Protobuf's parser and read the same.
  ClaimView view;
  std::string error;
  ASSERT_TRUE(reader.ReadClaim(
      R"({"eventId":"E1","time":"2025-01-01T00:00:00.5Z","claim":{"claimId":"C1","institutionId":"H1","serviceTime":"2025-01-01T00:00:00Z","visitType":2,"practitioners":[{"personId":"D1"}]}})",
      &view, &error))
      << error;
  EXPECT_EQ(view.claim_id, "C1");
  EXPECT_EQ(view.visit_type, 2);
  EXPECT_EQ(reader.slow(), 1);
  EXPECT_FALSE(reader.ReadClaim(R"({"event_id":"E1","claim":{}})", &view, &error));
}

// Issue 12 item 6: `check` applies a line whose `"claim":null` precedes a ledger body (Protobuf
// reads the body), so replay must too; reading it as a claim dropped the assessment and replay
// reported C1 (REJECT, suspended) as a RECOUP-worthy ACCEPT.
TEST(ReplayTest, AClaimNullBeforeALedgerBodyReplaysAsCheckReadIt) {
  std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/tests/golden/spec_example.jsonl");
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> events = Lines(text.str());
  for (const char* key : {"\"claim\":null,", "\"cl\\u0061im\":null,"}) {
    std::vector<std::string> edited = events;
    edited[3].insert(edited[3].find("\"score_assessed\""), key);
    const std::string path = Write("null.jsonl", edited);
    const std::vector<std::string> decided = Check(path);
    ASSERT_EQ(Outcomes(decided).at("C1"), "REJECT") << edited[3];
    const Replayed replayed = Replay(path, Write("null.decisions.jsonl", decided),
                                     Against::kRecorded);
    EXPECT_EQ(replayed.tally.differ(), 0) << key << ": " << absl::StrJoin(replayed.lines, "\n");
    EXPECT_EQ(replayed.tally.errors(), 0);
  }
}

// The binary, as README's auditing section runs it: exit statuses and where each line goes.
TEST(ReplayBinaryTest, AuditVerifyAndReplayExitStatuses) {
  const std::string bin = std::string(CLAIMGATE_BINARY_DIR) + "/gate/claimgate";
  const std::string dir = ::testing::TempDir() + "/replay_binary";
  std::filesystem::create_directories(dir);
  const std::string in = std::string(CLAIMGATE_SOURCE_DIR) + "/tests/golden/spec_example.jsonl";
  auto run = [](const std::string& cmd) {
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  auto read = [](const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  ASSERT_EQ(run(absl::StrCat(bin, " check ", in, " > ", dir, "/d.jsonl 2>/dev/null")), 0);
  EXPECT_EQ(run(absl::StrCat(bin, " audit verify ", dir, "/d.jsonl > ", dir, "/v.txt")), 0);
  EXPECT_NE(read(dir + "/v.txt").find(R"("verified":3,"chains":1,"breaks":0,"ok":true)"),
            std::string::npos);
  // The second decision deleted: exit 1, the link named.
  ASSERT_EQ(run(absl::StrCat("sed 2d ", dir, "/d.jsonl > ", dir, "/cut.jsonl")), 0);
  EXPECT_EQ(run(absl::StrCat(bin, " audit verify ", dir, "/cut.jsonl > ", dir, "/v.txt")), 1);
  EXPECT_NE(read(dir + "/v.txt").find("missing: seq 1 (line 1) is followed by seq 3"),
            std::string::npos);

  EXPECT_EQ(run(absl::StrCat(bin, " replay --against recorded --events ", in, " --decisions ", dir,
                             "/d.jsonl > ", dir, "/r.txt 2>/dev/null")),
            0);
  EXPECT_EQ(
      read(dir + "/r.txt").rfind(R"({"against":"recorded","replayed":3,"same":3,"differ":0)", 0),
      0u);
  // Against the record an edited decision is a failure; against now, differences are the product.
  ASSERT_EQ(run(absl::StrCat("sed '2s/ACCEPT/REJECT/g' ", dir, "/d.jsonl > ", dir, "/x.jsonl")), 0);
  EXPECT_EQ(run(absl::StrCat(bin, " replay --against recorded --events ", in, " --decisions ", dir,
                             "/x.jsonl > /dev/null 2>&1")),
            1);
  EXPECT_EQ(run(absl::StrCat(bin, " replay --against current --events ", in, " --decisions ", dir,
                             "/x.jsonl --format csv > ", dir, "/c.csv 2> ", dir, "/c.err")),
            0);
  EXPECT_EQ(read(dir + "/c.csv").substr(0, DifferenceCsvHeader().size()), DifferenceCsvHeader());
  EXPECT_NE(read(dir + "/c.csv").find("C2,H001,"), std::string::npos);
  EXPECT_NE(read(dir + "/c.err").find(R"("differ":1)"), std::string::npos);
  // Bad usage: both sources, or neither.
  EXPECT_EQ(run(absl::StrCat(bin, " replay --against current > /dev/null 2>&1")), 2);
  EXPECT_EQ(run(absl::StrCat(bin, " replay --against current --events ", in,
                             " --bootstrap-servers 127.0.0.1:1 > /dev/null 2>&1")),
            2);
}

// A difference with everything a difference line can hold.
ReplayDifference FullDifference() {
  ReplayDifference d;
  d.claim_id = "C1";
  d.institution_id = "H001";
  d.service_time = *ledger::ParseRfc3339("2025-03-20T10:30:00+08:00");
  d.amount_fen = 1250;
  d.source.set_topic("claims");
  d.source.set_partition(2);
  d.source.set_offset(41);
  d.recorded = v1::Decision::REJECT;
  d.replayed = v1::Decision::ACCEPT;
  v1::Reason& person = d.recorded_reasons.emplace_back();
  person.set_code(v1::PRACTITIONER_SUSPENDED);
  person.set_person_id("D001");
  v1::Reason& item = d.replayed_reasons.emplace_back();
  item.set_code(v1::MISSING_TRACEABILITY_CODE);
  item.set_item_code("X1");
  d.replayed_reasons.emplace_back().set_code(v1::SHADOW_REJECT);
  d.action = Action::kRefund;
  d.fields = {"modified: outcome: REJECT -> ACCEPT", "added: reasons[1]"};
  return d;
}

// The JSON replay writes, byte for byte: a difference, one that could not be replayed, and the
// summary (the writer of these lines changed in issue 15 item 11; the bytes must not).
TEST(ReplayJsonTest, DifferenceErrorAndSummaryBytes) {
  const ReplayDifference d = FullDifference();
  EXPECT_EQ(DifferenceJson(d),
            R"({"claim_id":"C1","institution_id":"H001",)"
            R"("service_time":"2025-03-20T10:30:00+08:00",)"
            R"("source":{"topic":"claims","partition":2,"offset":41},)"
            R"("recorded":{"outcome":"REJECT","reasons":[{"code":"PRACTITIONER_SUSPENDED",)"
            R"("person_id":"D001"}]},"replayed":{"outcome":"ACCEPT","reasons":[{"code":)"
            R"("MISSING_TRACEABILITY_CODE","item_code":"X1"},{"code":"SHADOW_REJECT"}]},)"
            R"("action":"REFUND","amount_fen":1250,"differences":["modified: outcome: REJECT -> )"
            R"(ACCEPT","added: reasons[1]"]})");
  ReplayDifference error;
  error.claim_id = "C\"9\"";
  error.source.set_file("in.jsonl");
  error.source.set_offset(7);
  error.error = "no claim at line 7 of the events file";
  EXPECT_EQ(DifferenceJson(error),
            R"({"claim_id":"C\"9\"","source":{"file":"in.jsonl","offset":7},)"
            R"("error":"no claim at line 7 of the events file"})");

  ReplayTally tally;
  EXPECT_EQ(tally.SummaryJson(Against::kCurrent, 1.001),
            R"({"against":"current","replayed":0,"same":0,"differ":0,"errors":0,)"
            R"("reasons_changed":0,"recoup":{"claims":0,"amount_fen":0},"refund":{"claims":0,)"
            R"("amount_fen":0},"by_outcome_change":{},"institutions":[],"seconds":1.001})");
  tally.Same();
  tally.ReasonsChanged();
  tally.Differ(d);
  tally.Differ(error);
  ReplayDifference recoup = FullDifference();
  recoup.institution_id = "H002";
  recoup.recorded = v1::Decision::FLAG;
  recoup.replayed = v1::Decision::REJECT;
  recoup.action = Action::kRecoup;
  recoup.amount_fen = 300;
  tally.Differ(recoup);
  EXPECT_EQ(tally.SummaryJson(Against::kRecorded, 12.3456),
            R"({"against":"recorded","replayed":4,"same":1,"differ":2,"errors":1,)"
            R"("reasons_changed":1,"recoup":{"claims":1,"amount_fen":300},"refund":{"claims":1,)"
            R"("amount_fen":1250},"by_outcome_change":{"FLAG->REJECT":1,"REJECT->ACCEPT":1},)"
            R"("institutions":[{"institution_id":"H001","recoup_claims":0,"recoup_fen":0,)"
            R"("refund_claims":1,"refund_fen":1250},{"institution_id":"H002","recoup_claims":1,)"
            R"("recoup_fen":300,"refund_claims":0,"refund_fen":0}],"seconds":12.346})");
}

// Issue 15 item 11: bytes that are not UTF-8 (a claim id, an institution id, a person id, a field
// report, an error) come out as U+FFFD, and every line parses as JSON.
TEST(ReplayJsonTest, InvalidUtf8NeverReachesTheOutput) {
  ReplayDifference d = FullDifference();
  d.claim_id = "C\xff" "1";
  d.institution_id = "H\xc3";
  d.recorded_reasons[0].set_person_id("D\xfe");
  d.fields = {"modified: claim_id: \"\xff\""};
  const std::string line = DifferenceJson(d);
  EXPECT_TRUE(Json::accept(line)) << line;
  EXPECT_EQ(Json::parse(line)["claim_id"], "C\xEF\xBF\xBD" "1");
  ReplayDifference error;
  error.claim_id = "C\xff";
  error.source.set_file("in\xff.jsonl");
  error.error = "line 6 holds claim C\xff, not C2";
  EXPECT_TRUE(Json::accept(DifferenceJson(error))) << DifferenceJson(error);
  ReplayTally tally;
  tally.Differ(d);
  tally.Differ(error);
  const std::string summary = tally.SummaryJson(Against::kCurrent, 1);
  EXPECT_TRUE(Json::accept(summary)) << summary;
  EXPECT_NE(summary.find(R"({"institution_id":"H)" "\xEF\xBF\xBD" "\""), std::string::npos)
      << summary;
}

}  // namespace
}  // namespace claimgate::gate
