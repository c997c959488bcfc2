// Differential fuzzer (a): an events line read by the fast reader (gate/json_lines, simdjson) and by
// the authority (ledger::ParseEventJson: the strict JSON check, then Protobuf's parser). They must
// agree on whether the line is a claim and on every field of it; Classify must not call a line a
// claim that Protobuf reads as something else; and the strict check must refuse exactly what an
// independent judge (simdjson's DOM, every object's keys) refuses, plus the times and field-name
// aliases only the message type knows about. The input is also tried as a time: whatever the one
// time reader (ledger::ParseRfc3339Parts) accepts, Protobuf's own Timestamp reader reads the same.
// And the strict check's builder (issue 17) reads every line as Protobuf's parser does.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "claimgate/v1/events.pb.h"
#include "gate/claim_view.h"
#include "gate/replay/json_lines.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/digest.h"
#include "ledger/strict_json.h"
#include "tests/fuzz/oracle.h"

namespace claimgate::fuzz {
namespace {

std::string Render(const gate::ClaimView& view) {
  std::string bytes;
  gate::CanonicalClaimBytes(view, &bytes);
  return absl::StrCat(view.event_id, "|", absl::FormatTime(view.service_time), "|", bytes);
}

void FastAgreesWithStrict(gate::JsonLineReader& reader, absl::string_view line,
                          const absl::Status& strict, const v1::Event& event) {
  const bool strict_claim = strict.ok() && event.has_claim();
  gate::ClaimView fast;
  std::string error;
  const bool fast_claim = reader.ReadClaim(line, &fast, &error);
  Require(fast_claim == strict_claim,
          absl::StrCat("ReadClaim says ", fast_claim, ", ParseEventJson ", strict_claim, " (",
                       strict.message(), ")"),
          line);
  if (fast_claim) {
    gate::ClaimView slow;
    gate::ViewClaim(event.claim(), event.event_id(), &slow);
    Require(Render(fast) == Render(slow), "ReadClaim reads another claim than Protobuf", line);
  }
  const gate::LineKind kind = reader.Classify(line);
  Require(kind != gate::LineKind::kClaim || !strict.ok() || event.has_claim(),
          "Classify says claim, Protobuf reads a ledger event", line);
  Require(kind != gate::LineKind::kBlank || !strict.ok(), "Classify says blank", line);
}

void BuilderAgreesWithProtobuf(absl::string_view line) {
  v1::Event built, parsed;
  const absl::Status a = ledger::ParseStrictJson(line, &built, /*ignore_unknown_fields=*/true);
  const absl::Status b =
      ledger::ParseStrictJsonWithProtobuf(line, &parsed, /*ignore_unknown_fields=*/true);
  Require(a.ok() == b.ok(),
          absl::StrCat("the builder says ", a.ToString(), ", Protobuf ", b.ToString()), line);
  if (a.ok()) {
    Require(ledger::DeterministicBytes(built) == ledger::DeterministicBytes(parsed),
            "the builder reads another event than Protobuf", line);
  }
}

void StrictAgreesWithJudge(absl::string_view line, const absl::Status& strict) {
  const Json judged = JudgeJson(line);
  if (judged == Json::kUnknown) return;
  if (strict.ok()) {
    Require(judged == Json::kOneObject, "the strict reader took what the judge refuses", line);
    return;
  }
  if (judged != Json::kOneObject) return;
  // JSON the judge takes: refused only for what the schema knows (or Protobuf's own refusals).
  v1::Event lax;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(std::string(line), &lax, options).ok()) return;
  if (!ledger::ValidateEvent(lax).ok()) return;
  const absl::string_view m = strict.message();
  Require(m.find("RFC 3339") != m.npos || m.find("name one field") != m.npos ||
              m.find("nested deeper") != m.npos,
          absl::StrCat("the strict reader refused a line Protobuf and the judge take: ", m), line);
}

void TimeReadersAgree(absl::string_view text) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  if (!ledger::ParseRfc3339Parts(text, &seconds, &nanos)) return;
  google::protobuf::Timestamp ts;
  Require(google::protobuf::util::TimeUtil::FromString(std::string(text), &ts),
          "Protobuf's Timestamp reader refuses a time ParseRfc3339Parts takes", text);
  Require(ts.seconds() == seconds && ts.nanos() == nanos, "the two time readers read two instants",
          text);
  Require(ledger::ParseRfc3339(text).ok(), "ParseRfc3339 and ParseRfc3339Parts disagree", text);
}

}  // namespace
}  // namespace claimgate::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  claimgate::fuzz::SilenceProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace claimgate;
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  if (line.find('\n') != line.npos) return 0;  // one line, as the readers get them
  static gate::JsonLineReader* reader = new gate::JsonLineReader();  // reused, as replay does
  v1::Event event;
  const absl::Status strict = ledger::ParseEventJson(line, &event);
  fuzz::FastAgreesWithStrict(*reader, line, strict, event);
  fuzz::StrictAgreesWithJudge(line, strict);
  fuzz::BuilderAgreesWithProtobuf(line);
  fuzz::TimeReadersAgree(line);
  return 0;
}
