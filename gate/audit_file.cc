#include "gate/audit_file.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace claimgate::gate {

absl::Status ParseAuditLine(absl::string_view line, v1::Decision* decision, bool* bare) {
  decision->Clear();
  *bare = false;
  google::protobuf::util::JsonParseOptions strict;  // unknown keys tell the two shapes apart
  if (google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(line.data(), line.size()), decision, strict)
          .ok() &&
      decision->has_audit()) {
    return absl::OkStatus();
  }
  decision->Clear();
  const auto s = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), decision->mutable_audit(), strict);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("neither a decision nor an audit record: ", s.message().as_string()));
  }
  *bare = true;
  return absl::OkStatus();
}

absl::Status VerifyAuditLines(std::istream& in, ChainVerifier* verifier) {
  std::string line;
  v1::Decision decision;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat("line ", number);
    bool bare = false;
    if (absl::Status s = ParseAuditLine(line, &decision, &bare); !s.ok()) {
      verifier->AddBroken("", where, s.message());
      continue;
    }
    verifier->Add(decision.audit(), where);
    if (!bare) {
      if (std::optional<std::string> problem = DecisionContradictsAudit(decision))
        verifier->AddBroken(ChainKey(decision.audit()), where, *problem);
    }
  }
  if (in.bad()) return absl::DataLossError("reading the input failed");
  return absl::OkStatus();
}

}  // namespace claimgate::gate
