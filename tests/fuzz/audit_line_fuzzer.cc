// Differential fuzzer (c): a decisions line (a Decision with its audit record, or a bare
// AuditRecord) read by the fast reader (JsonLineReader::ReadDecision) and by the audit reader
// audit verify and replay use (ParseAuditLine: the strict JSON check, then Protobuf's parser). They
// must agree on whether it reads and on every field; what the audit reader takes, the independent
// judge takes (no key twice) and Protobuf's lax parser reads the same way.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "claimgate/v1/decision.pb.h"
#include "gate/audit/audit_file.h"
#include "gate/replay/json_lines.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/oracle.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  claimgate::fuzz::SilenceProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace claimgate;
  using google::protobuf::util::MessageDifferencer;
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  if (line.find('\n') != line.npos) return 0;
  static gate::JsonLineReader* reader = new gate::JsonLineReader();
  v1::Decision slow, fast;
  bool bare = false;
  const absl::Status audit = gate::ParseAuditLine(line, &slow, &bare);
  std::string error;
  const bool fast_ok = reader->ReadDecision(line, &fast, &error);
  fuzz::Require(fast_ok == audit.ok(),
                absl::StrCat("ReadDecision says ", fast_ok, ", ParseAuditLine ", audit.ok(), " (",
                             audit.message(), ")"),
                line);
  if (!audit.ok()) return 0;
  fuzz::Require(MessageDifferencer::Equals(fast, slow), "the two readers read two decisions", line);
  const fuzz::Json judged = fuzz::JudgeJson(line);
  fuzz::Require(judged == fuzz::Json::kOneObject || judged == fuzz::Json::kUnknown,
                "the audit reader took what the judge refuses", line);
  // The strict check refuses; it never changes what a line means.
  v1::Decision lax;
  google::protobuf::Message* target =
      bare ? static_cast<google::protobuf::Message*>(lax.mutable_audit()) : &lax;
  fuzz::Require(google::protobuf::util::JsonStringToMessage(std::string(line), target).ok() &&
                    MessageDifferencer::Equals(lax, slow),
                "Protobuf's own parser reads the line otherwise", line);
  return 0;
}
