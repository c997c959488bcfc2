// The audit hash chain (docs/audit.md): `claimgate check` writes one chain; editing, deleting,
// inserting or reordering any one record, or contradicting a record in its decision, is reported
// at the first broken link.
#include "gate/audit/audit_chain.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gate/audit/audit_file.h"
#include "gate/check/check.h"
#include "gate/clock.h"
#include "gate/json/json_writer.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/profile.h"

namespace claimgate::gate {
namespace {

// The demo year (docs/examples): 97 decisions in one chain.
std::vector<std::string> DecisionLines() {
  auto profiles = ledger::ProfileSet::Builtin();
  EXPECT_TRUE(profiles.ok());
  std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/docs/examples/demo-2025.jsonl");
  std::stringstream out, err;
  FixedClock clock(*ledger::ParseRfc3339("2026-01-01T00:00:00Z"));
  CheckOptions options;
  options.source_file = "year.jsonl";
  EXPECT_TRUE(RunCheck(in, out, err, **profiles, options, clock).ok());
  std::vector<std::string> lines = absl::StrSplit(out.str(), '\n', absl::SkipEmpty());
  return lines;
}

ChainVerifier Verify(const std::vector<std::string>& lines, bool partial = false) {
  std::stringstream in;
  for (const std::string& l : lines) in << l << '\n';
  ChainVerifier verifier(partial);
  EXPECT_TRUE(VerifyAuditLines(in, &verifier).ok());
  return verifier;
}

TEST(AuditChainTest, CheckWritesOneIntactChain) {
  const std::vector<std::string> lines = DecisionLines();
  ASSERT_GE(lines.size(), 8u);
  const ChainVerifier v = Verify(lines);
  EXPECT_EQ(v.breaks(), 0) << v.SummaryJson();
  EXPECT_EQ(v.records(), static_cast<int64_t>(lines.size()));
  ASSERT_EQ(v.chains().size(), 1u);
  EXPECT_EQ(v.chains()[0].first_seq, 1);
  EXPECT_EQ(v.chains()[0].last_seq, static_cast<int64_t>(lines.size()));
}

TEST(AuditChainTest, EveryEditOfAnAuditRecordIsDetected) {
  const std::vector<std::string> lines = DecisionLines();
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::vector<std::string> edited = lines;
    // Change the recorded year points, a digit of the claim digest or the processing time.
    std::string& l = edited[i];
    const size_t at = l.find("\"processing_time\":\"2026");
    ASSERT_NE(at, std::string::npos);
    l.replace(at + 19, 4, "2027");
    const ChainVerifier v = Verify(edited);
    ASSERT_TRUE(v.first_break().has_value()) << "line " << i + 1;
    EXPECT_EQ(v.first_break()->where, "line " + std::to_string(i + 2));
    EXPECT_NE(v.first_break()->problem.find("altered"), std::string::npos);
  }
}

TEST(AuditChainTest, DeletionInsertionAndReorderingAreDetected) {
  const std::vector<std::string> lines = DecisionLines();
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> deleted = lines;
    deleted.erase(deleted.begin() + static_cast<long>(i));
    const ChainVerifier v = Verify(deleted);
    if (i + 1 == lines.size()) {
      // The newest record's deletion leaves an intact, shorter chain: only the head (kept by
      // whoever holds it, docs/audit.md) shows it.
      EXPECT_EQ(v.breaks(), 0);
      EXPECT_NE(v.chains()[0].head_hash, Verify(lines).chains()[0].head_hash);
      continue;
    }
    ASSERT_TRUE(v.first_break().has_value()) << "deleted line " << i + 1;
    EXPECT_NE(v.first_break()->problem.find("missing"), std::string::npos)
        << v.first_break()->problem;
  }
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::vector<std::string> swapped = lines;
    std::swap(swapped[i], swapped[i + 1]);
    const ChainVerifier v = Verify(swapped);
    ASSERT_TRUE(v.first_break().has_value()) << "swapped line " << i + 1;
    EXPECT_EQ(v.first_break()->where, "line " + std::to_string(i + 1));
  }
  std::vector<std::string> duplicated = lines;
  duplicated.insert(duplicated.begin() + 3, lines[2]);
  const ChainVerifier v = Verify(duplicated);
  ASSERT_TRUE(v.first_break().has_value());
  EXPECT_EQ(v.first_break()->where, "line 4");
  EXPECT_NE(v.first_break()->problem.find("out of order"), std::string::npos);
}

TEST(AuditChainTest, ADecisionContradictingItsAuditRecordIsABreak) {
  std::vector<std::string> lines = DecisionLines();
  size_t i = 0;
  while (i < lines.size() && lines[i].rfind("{\"claim_id\":\"C", 0) != 0) ++i;
  std::string& l = lines[i];
  const size_t outcome = l.find("\"outcome\":\"");
  const size_t end = l.find('"', outcome + 11);
  const std::string was = l.substr(outcome + 11, end - outcome - 11);
  l.replace(outcome + 11, was.size(), was == "ACCEPT" ? "REJECT" : "ACCEPT");
  const ChainVerifier v = Verify(lines);
  ASSERT_TRUE(v.first_break().has_value());
  EXPECT_NE(v.first_break()->problem.find("its audit record"), std::string::npos);
}

TEST(AuditChainTest, AnExcerptIsAcceptedOnlyWhenPartial) {
  std::vector<std::string> lines = DecisionLines();
  lines.erase(lines.begin(), lines.begin() + 3);
  EXPECT_EQ(Verify(lines).breaks(), 1);
  const ChainVerifier partial = Verify(lines, /*partial=*/true);
  EXPECT_EQ(partial.breaks(), 0);
  EXPECT_EQ(partial.chains()[0].first_seq, 4);
}

// What a chain alone cannot show, a kept head does: the newest records cut off, or the whole chain
// recomputed after an edit.
TEST(AuditChainTest, AKeptHeadCatchesTruncationAndARewrittenChain) {
  const std::vector<std::string> lines = DecisionLines();
  const ChainVerifier::Chain head = Verify(lines).chains()[0];
  auto verify_against_head = [&](const std::vector<std::string>& l) {
    std::stringstream in;
    for (const std::string& line : l) in << line << '\n';
    ChainVerifier v;
    v.ExpectHead(head.key, head.last_seq, head.head_hash);
    EXPECT_TRUE(VerifyAuditLines(in, &v).ok());
    v.Finish();
    return v;
  };
  EXPECT_EQ(verify_against_head(lines).breaks(), 0);

  std::vector<std::string> cut(lines.begin(), lines.end() - 2);
  EXPECT_EQ(Verify(cut).breaks(), 0);  // the chain alone holds
  const ChainVerifier truncated = verify_against_head(cut);
  ASSERT_TRUE(truncated.first_break().has_value());
  EXPECT_NE(truncated.first_break()->problem.find("truncated"), std::string::npos);

  // An edit with every later link recomputed, as someone holding the whole trail could.
  std::vector<std::string> rewritten;
  ChainHead chain;
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::Decision d;
    bool bare = false;
    ASSERT_TRUE(ParseAuditLine(lines[i], &d, &bare).ok());
    if (i == 10) d.mutable_audit()->mutable_processing_time()->set_seconds(1);
    ChainAudit(d.mutable_audit(), &chain);
    rewritten.push_back(ledger::ToJson(d));
  }
  EXPECT_EQ(Verify(rewritten).breaks(), 0);  // internally consistent
  const ChainVerifier v = verify_against_head(rewritten);
  ASSERT_TRUE(v.first_break().has_value());
  EXPECT_NE(v.first_break()->problem.find("not to the kept head"), std::string::npos);

  std::string key, hash;
  int64_t seq = 0;
  EXPECT_TRUE(ParseKeptHead(absl::StrCat(head.key, "=", head.last_seq, ":", head.head_hash), &key,
                            &seq, &hash)
                  .ok());
  EXPECT_EQ(key, head.key);
  EXPECT_EQ(seq, head.last_seq);
  EXPECT_FALSE(ParseKeptHead("claims/0=12", &key, &seq, &hash).ok());
}

TEST(AuditChainTest, UnreadableLinesAreBreaks) {
  std::vector<std::string> lines = DecisionLines();
  lines.insert(lines.begin() + 2, "{\"not\":\"an audit record\"}");
  const ChainVerifier v = Verify(lines);
  ASSERT_TRUE(v.first_break().has_value());
  EXPECT_EQ(v.first_break()->where, "line 3");
}

// Issue 12 item 6: a second "outcome" inserted before the recorded one. Protobuf keeps the last
// key, so the record hashes as recorded; a reader that keeps the first sees ACCEPT. A duplicate key
// is a break, in a decision's audit record and in a bare record alike.
TEST(AuditChainTest, ADuplicateKeyIsABreak) {
  std::vector<std::string> lines = DecisionLines();
  const std::string audit = "\"audit\":{";
  for (const bool bare : {false, true}) {
    std::vector<std::string> forged = lines;
    if (bare) {
      for (std::string& l : forged) l = l.substr(l.find(audit) + audit.size() - 1);
      for (std::string& l : forged) l.pop_back();  // the decision's closing brace
    }
    ASSERT_EQ(Verify(forged).breaks(), 0) << forged[3];
    const size_t at = forged[3].find(bare ? "{" : audit) + (bare ? 1 : audit.size());
    forged[3].insert(at, "\"outcome\":\"ACCEPT\",");
    const ChainVerifier v = Verify(forged);
    ASSERT_TRUE(v.first_break().has_value()) << forged[3];
    EXPECT_EQ(v.first_break()->where, "line 4");
    EXPECT_NE(v.first_break()->problem.find("outcome"), std::string::npos)
        << v.first_break()->problem;
  }
}

// What `claimgate audit verify` prints, byte for byte: a chain line, and the summary with its first
// break (the writer of these lines changed in issue 15 item 11; the bytes must not).
TEST(AuditChainTest, ChainAndSummaryJsonBytes) {
  ChainVerifier::Chain c;
  c.key = "claims/2";
  c.records = 3;
  c.first_seq = 1;
  c.last_seq = 3;
  c.head_hash = "ab12";
  c.breaks = 1;
  EXPECT_EQ(ChainVerifier::ChainJson(c),
            R"({"chain":"claims/2","records":3,"first_seq":1,"last_seq":3,"head_hash":"ab12",)"
            R"("breaks":1,"expect_head":"claims/2=3:ab12"})");
  ChainVerifier v;
  EXPECT_EQ(v.SummaryJson(), R"({"verified":0,"chains":0,"breaks":0,"ok":true})");
  v.AddBroken("file:a \"b\".jsonl", "line 4", "unreadable: \\ and \x01");
  EXPECT_EQ(v.SummaryJson(),
            R"({"verified":0,"chains":0,"breaks":1,"ok":false,"first_break":{)"
            R"("chain":"file:a \"b\".jsonl","where":"line 4","seq":0,)"
            R"("problem":"unreadable: \\ and \u0001"}})");
}

// Issue 15 item 11: a chain key, a place or a problem that is not UTF-8 (a file name, a claim id
// quoted in a problem) comes out as U+FFFD, and both lines parse as JSON.
TEST(AuditChainTest, InvalidUtf8NeverReachesTheOutput) {
  ChainVerifier::Chain c;
  c.key = "file:in\xff.jsonl";
  c.head_hash = "ab\xc3";
  EXPECT_TRUE(Json::accept(ChainVerifier::ChainJson(c))) << ChainVerifier::ChainJson(c);
  ChainVerifier v;
  v.AddBroken("file:in\xff.jsonl", "line \xfe", "the decision's claim_id 'C\xff' is not 'C1'");
  const std::string summary = v.SummaryJson();
  EXPECT_TRUE(Json::accept(summary)) << summary;
  EXPECT_EQ(Json::parse(summary)["first_break"]["problem"],
            "the decision's claim_id 'C\xEF\xBF\xBD' is not 'C1'");
}

}  // namespace
}  // namespace claimgate::gate
