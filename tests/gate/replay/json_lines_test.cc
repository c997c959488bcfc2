// The fast JSON reader (gate/json_lines.cc) against the authority, ledger::ParseEventJson and
// ParseAuditLine (Protobuf's parser behind the strict JSON check), on the lines issue 12 item 6
// found them reading differently. tests/fuzz/ runs the same comparison on fuzzed lines.
#include "gate/replay/json_lines.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gate/audit/audit_file.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"

namespace claimgate::gate {
namespace {

const char kClaimBody[] =
    R"({"claim_id":"C1","kind":"SETTLEMENT","institution_id":"H001","service_time":"2025-03-20T10:30:00+08:00","visit_type":"OUTPATIENT","insured_id":"P9","practitioners":[{"person_id":"D001","role":"PRESCRIBER"}],"items":[{"item_code":"X1","category":"DRUG","amount_fen":1250,"traceability_codes":["81234560000000000001"]}]})";

std::string ClaimLine(absl::string_view body = kClaimBody) {
  return absl::StrCat(R"({"event_id":"C1","time":"2025-03-20T11:00:00+08:00","claim":)", body, "}");
}

// What the fast reader and Protobuf's parser make of a line: "refused", or the claim's canonical
// bytes with its event id and service time.
std::string Fast(JsonLineReader& reader, const std::string& line) {
  ClaimView view;
  std::string error, bytes;
  if (!reader.ReadClaim(line, &view, &error)) return "refused";
  CanonicalClaimBytes(view, &bytes);
  return absl::StrCat(view.event_id, "|", absl::FormatTime(view.service_time), "|", bytes);
}

std::string Slow(const std::string& line) {
  v1::Event event;
  if (!ledger::ParseEventJson(line, &event).ok() || !event.has_claim()) return "refused";
  ClaimView view;
  std::string bytes;
  ViewClaim(event.claim(), event.event_id(), &view);
  CanonicalClaimBytes(view, &bytes);
  return absl::StrCat(view.event_id, "|", absl::FormatTime(view.service_time), "|", bytes);
}

TEST(JsonLinesTest, ClaimsReadAsProtobufReadsThem) {
  const std::string good = ClaimLine();
  const std::vector<std::string> lines = {
      good,
      good + " trailing",
      good + good,
      good + R"({"event_id":"C2"})",
      absl::StrReplaceAll(good, {{R"("amount_fen":1250)", R"("amount_fen":" 1250")"}}),
      absl::StrReplaceAll(good, {{R"("amount_fen":1250)", R"("amount_fen":"1250 ")"}}),
      absl::StrReplaceAll(good, {{R"("amount_fen":1250)", R"("amount_fen":"1250")"}}),
      absl::StrReplaceAll(good, {{R"("amount_fen":1250)", R"("amount_fen":"+1250")"}}),
      absl::StrReplaceAll(good, {{R"("claim":)", R"("cl\u0061im":)"}}),
      absl::StrReplaceAll(good, {{R"("event_id":"C1")", R"("event_id":"C1","event_id":"C2")"}}),
      absl::StrReplaceAll(good, {{R"("claim_id":"C1")", R"("claim_id":"C1","claim_id":"C9")"}}),
      absl::StrReplaceAll(good, {{R"("claim_id":"C1")", R"("claim_id":"C1","claimId":"C9")"}}),
      absl::StrReplaceAll(good, {{R"("role":"PRESCRIBER")",
                                  R"("role":"PRESCRIBER","role":"DISPENSER")"}}),
      absl::StrReplaceAll(good, {{R"("service_time":"2025-03-20T10:30:00+08:00")",
                                  R"("service_time":"9999-12-31T23:59:59-12:00")"}}),
      absl::StrReplaceAll(good, {{R"("service_time":"2025-03-20T10:30:00+08:00")",
                                  R"("service_time":"2025-03-20T10:30:00Z\u0000garbage")"}}),
      absl::StrReplaceAll(good, {{R"("time":"2025-03-20T11:00:00+08:00")",
                                  R"("time":"0001-01-01T00:00:00+00:01")"}}),
  };
  JsonLineReader reader;
  for (const std::string& line : lines) EXPECT_EQ(Fast(reader, line), Slow(line)) << line;
  EXPECT_NE(Slow(good), "refused");
}

// `"claim":null` sets nothing in Protobuf: the body that follows decides what the line is.
TEST(JsonLinesTest, ClassifyAgreesWithProtobufOnWhatALineIs) {
  const std::string ledger_body =
      R"("commitment_signed":{"person_id":"D001","institution_id":"H001"})";
  const std::vector<std::string> ledger_lines = {
      absl::StrCat(R"({"event_id":"L9","time":"2025-03-20T11:00:00+08:00","claim":null,)",
                   ledger_body, "}"),
      absl::StrCat(R"({"event_id":"L9","time":"2025-03-20T11:00:00+08:00","cl\u0061im":null,)",
                   ledger_body, "}"),
  };
  JsonLineReader reader;
  for (const std::string& line : ledger_lines) {
    v1::Event event;
    ASSERT_TRUE(ledger::ParseEventJson(line, &event).ok()) << line;
    ASSERT_TRUE(ledger::IsLedgerEvent(event));
    EXPECT_NE(reader.Classify(line), LineKind::kClaim) << line;
  }
  EXPECT_EQ(reader.Classify(ClaimLine()), LineKind::kClaim);
}

// An audit record with a second "outcome" inserted before the real one: a reader that keeps the
// first key sees ACCEPT, Protobuf keeps the last; the chain would verify. Refused on every path.
TEST(JsonLinesTest, ADuplicateKeyInADecisionIsRefusedOnBothPaths) {
  const std::string line =
      R"({"claim_id":"C1","outcome":"REJECT","reasons":[{"code":"PRACTITIONER_SUSPENDED","person_id":"D001"}],"audit":{"claim_id":"C1","event_id":"C1","outcome":"ACCEPT","outcome":"REJECT","reasons":[{"code":"PRACTITIONER_SUSPENDED","person_id":"D001"}],"ledger_position":"4","profile":"hebei","source":{"offset":"5","file":"x.jsonl"},"processing_time":"2026-01-01T00:00:00Z","service_time":"2025-03-20T02:30:00Z","mode":"ENFORCE","chain_seq":"1"}})";
  const std::string clean = absl::StrReplaceAll(line, {{R"("outcome":"ACCEPT",)", ""}});
  JsonLineReader reader;
  v1::Decision fast, slow;
  bool bare = false;
  std::string error;
  ASSERT_TRUE(reader.ReadDecision(clean, &fast, &error)) << error;
  ASSERT_TRUE(ParseAuditLine(clean, &slow, &bare).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(fast, slow));

  EXPECT_FALSE(reader.ReadDecision(line, &fast, &error));
  EXPECT_NE(error.find("outcome"), std::string::npos) << error;
  const absl::Status s = ParseAuditLine(line, &slow, &bare);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  // The bare audit record alike.
  const size_t at = line.find(R"("audit":)") + 8;
  const std::string record = line.substr(at, line.size() - at - 1);
  EXPECT_FALSE(ParseAuditLine(record, &slow, &bare).ok());
  EXPECT_FALSE(reader.ReadDecision(record, &fast, &error));
}

}  // namespace
}  // namespace claimgate::gate
