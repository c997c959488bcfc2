// The JSON Lines interchange (SPEC §7) and structural validation.
#include "ledger/codec.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/calendar.h"

namespace claimgate::ledger {
namespace {

absl::Status Parse(const std::string& line) {
  v1::Event e;
  return ParseEventJson(line, &e);
}

TEST(CodecTest, ParsesTheSpecExample) {
  v1::Event e;
  ASSERT_TRUE(
      ParseEventJson(
          R"({"event_id":"L4","time":"2025-03-10T10:00:00+08:00","score_assessed":{"assessment_id":"A1",)"
          R"("person_id":"D001","institution_id":"H001","points":9,"responsibility":"MAIN",)"
          R"("violation":"OVER_TREATMENT","basis":"ADMINISTRATIVE_PENALTY","decision_id":"P-2025-17"}})",
          &e)
          .ok());
  EXPECT_EQ(e.event_id(), "L4");
  EXPECT_EQ(FromProto(e.time()), *ParseRfc3339("2025-03-10T02:00:00Z"));
  EXPECT_EQ(e.score_assessed().points(), 9);
  EXPECT_EQ(e.score_assessed().responsibility(), v1::ScoreAssessed::MAIN);
  EXPECT_EQ(BodyName(e), "score_assessed");
  EXPECT_TRUE(IsLedgerEvent(e));
}

TEST(CodecTest, RefusesMalformedLines) {
  EXPECT_FALSE(Parse("").ok());
  EXPECT_FALSE(Parse("not json").ok());
  EXPECT_FALSE(Parse("[1,2]").ok());
  EXPECT_FALSE(Parse(R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00"})").ok());  // no body
  EXPECT_FALSE(Parse(R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","martian":{}})").ok());
  EXPECT_FALSE(
      Parse(
          R"({"time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})")
          .ok());
  EXPECT_FALSE(
      Parse(R"({"event_id":"E","commitment_signed":{"person_id":"D","institution_id":"H"}})").ok());
  EXPECT_FALSE(
      Parse(
          R"({"event_id":"E","time":"2025-01-01T00:00:00","commitment_signed":{"person_id":"D","institution_id":"H"}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D"}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","sanction_shortened":{"person_id":"D","days":0}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","agreement_changed":{"institution_id":"H"}})")
          .ok());
  // Two bodies: protobuf's oneof refuses it.
  EXPECT_FALSE(
      Parse(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"},"person_registered":{"person_id":"D","institution_id":"H"}})")
          .ok());
}

TEST(CodecTest, ClaimNeedsItsKeyFields) {
  const std::string head =
      R"({"event_id":"C","time":"2025-03-20T11:00:00+08:00","claim":{"claim_id":"C")";
  const std::string ok_rest =
      R"(,"institution_id":"H","service_time":"2025-03-20T10:30:00+08:00","visit_type":"OUTPATIENT","practitioners":[{"person_id":"D"}]}})";
  EXPECT_TRUE(Parse(head + ok_rest).ok());
  EXPECT_FALSE(
      Parse(
          R"({"event_id":"C","time":"2025-03-20T11:00:00+08:00","claim":{"institution_id":"H","service_time":"2025-03-20T10:30:00+08:00","visit_type":"OUTPATIENT","practitioners":[{"person_id":"D"}]}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          head +
          R"(,"service_time":"2025-03-20T10:30:00+08:00","visit_type":"OUTPATIENT","practitioners":[{"person_id":"D"}]}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          head +
          R"(,"institution_id":"H","visit_type":"OUTPATIENT","practitioners":[{"person_id":"D"}]}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          head +
          R"(,"institution_id":"H","service_time":"2025-03-20T10:30:00+08:00","practitioners":[{"person_id":"D"}]}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          head +
          R"(,"institution_id":"H","service_time":"2025-03-20T10:30:00+08:00","visit_type":"OUTPATIENT","practitioners":[]}})")
          .ok());
  EXPECT_FALSE(
      Parse(
          head +
          R"(,"institution_id":"H","service_time":"2025-03-20T10:30:00+08:00","visit_type":"OUTPATIENT","practitioners":[{"role":"PRESCRIBER"}]}})")
          .ok());
}

TEST(CodecTest, UnknownFieldsAreIgnoredForForwardCompatibility) {
  EXPECT_TRUE(
      Parse(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","trace":"x","commitment_signed":{"person_id":"D","institution_id":"H","channel":"web"}})")
          .ok());
}

TEST(CodecTest, JsonRoundTripUsesProtoFieldNames) {
  v1::Event e;
  ASSERT_TRUE(
      ParseEventJson(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","agreement_changed":{"institution_id":"H","state":"SUSPENDED","responsible_person_ids":["D1","D2"]}})",
          &e)
          .ok());
  const std::string json = ToJson(e);
  EXPECT_NE(json.find("\"responsible_person_ids\":[\"D1\",\"D2\"]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"state\":\"SUSPENDED\""), std::string::npos) << json;
  v1::Event back;
  ASSERT_TRUE(ParseEventJson(json, &back).ok());
  EXPECT_EQ(back.SerializeAsString(), e.SerializeAsString());
}

TEST(CodecTest, BinaryRoundTrip) {
  v1::Event e;
  ASSERT_TRUE(
      ParseEventJson(
          R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})",
          &e)
          .ok());
  auto back = ParseEventBinary(e.SerializeAsString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->SerializeAsString(), e.SerializeAsString());
  EXPECT_FALSE(ParseEventBinary("\xff\xff\xff").ok());
}

// Issue 12 item 5: a time outside google.protobuf.Timestamp's range (years 1-9999 in UTC) once its
// offset is applied, or one with text after it, is refused at the input, in JSON and in binary.
TEST(CodecTest, TimesOutsideYears1To9999AreMalformed) {
  const std::string claim =
      R"("claim":{"claim_id":"C","institution_id":"H","visit_type":"OUTPATIENT","practitioners":[{"person_id":"D"}],"service_time":)";
  auto line = [&](absl::string_view time, absl::string_view service_time) {
    return absl::StrCat(R"({"event_id":"C","time":")", time, R"(",)", claim, "\"", service_time,
                        "\"}}");
  };
  EXPECT_TRUE(Parse(line("2025-03-20T11:00:00+08:00", "2025-03-20T10:30:00+08:00")).ok());
  EXPECT_TRUE(Parse(line("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z")).ok());
  for (const auto& [time, service_time] :
       std::vector<std::pair<std::string, std::string>>{
           {"2025-03-20T11:00:00+08:00", "9999-12-31T23:59:59-12:00"},
           {"9999-12-31T23:59:59-00:01", "2025-03-20T10:30:00+08:00"},
           {"0001-01-01T00:00:00+00:01", "2025-03-20T10:30:00+08:00"},
           {"2025-03-20T11:00:00+08:00", R"(2025-03-20T10:30:00Z\u0000garbage)"},
           {R"(2025-03-20T11:00:00Z\u0000)", "2025-03-20T10:30:00+08:00"}}) {
    const absl::Status s = Parse(line(time, service_time));
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << time << " " << service_time << ": " << s;
  }
  v1::Event e;
  ASSERT_TRUE(ParseEventJson(line("2025-03-20T11:00:00+08:00", "2025-03-20T10:30:00+08:00"), &e)
                  .ok());
  e.mutable_claim()->mutable_service_time()->set_seconds(253402300800);  // 10000-01-01
  EXPECT_FALSE(ParseEventBinary(e.SerializeAsString()).ok());
  e.mutable_claim()->mutable_service_time()->set_seconds(0);
  e.mutable_time()->set_nanos(-1);
  EXPECT_FALSE(ParseEventBinary(e.SerializeAsString()).ok());
  e.mutable_time()->set_nanos(0);
  e.mutable_time()->set_seconds(-62135596801);  // 0000-12-31T23:59:59Z
  EXPECT_FALSE(ParseEventBinary(e.SerializeAsString()).ok());
}

// Issue 12 item 6: one reading of every line. A key twice in one object (at any depth, escaped or
// under its lowerCamelCase alias, which Protobuf reads as the same field) is refused, as is text
// after the object and JSON that RFC 8259 does not allow but Protobuf's parser lets through.
TEST(CodecTest, DuplicateKeysTrailingTextAndLaxJsonAreMalformed) {
  const std::string ok =
      R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})";
  ASSERT_TRUE(Parse(ok).ok());
  ASSERT_TRUE(Parse(" " + ok + " \t").ok());
  for (const std::string& bad : std::vector<std::string>{
           R"({"event_id":"E","event_id":"F","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})",
           R"({"event_id":"E","eventId":"F","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})",
           R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","person_id":"X","institution_id":"H"}})",
           R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"},"trace":{"a":1,"a":2}})",
           R"({"event_id":"E","ev\u0065nt_id":"F","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})",
           R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","claim":null,"commitment_signed":{"person_id":"D","institution_id":"H"},"claim":null})",
           ok + " trailing",
           ok + ok,
           R"({'event_id':"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H"}})",
           R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","institution_id":"H",}})",
           "{\"event_id\":\"E\x01\",\"time\":\"2025-01-01T00:00:00+08:00\",\"commitment_signed\":{\"person_id\":\"D\",\"institution_id\":\"H\"}}",
           "{\"event_id\":\"E\xff\",\"time\":\"2025-01-01T00:00:00+08:00\",\"commitment_signed\":{\"person_id\":\"D\",\"institution_id\":\"H\"}}",
       }) {
    const absl::Status s = Parse(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << bad << ": " << s;
  }
  const absl::Status dup = Parse(
      R"({"event_id":"E","time":"2025-01-01T00:00:00+08:00","commitment_signed":{"person_id":"D","personId":"X","institution_id":"H"}})");
  EXPECT_NE(dup.message().find("personId"), std::string::npos) << dup;
}

}  // namespace
}  // namespace claimgate::ledger
