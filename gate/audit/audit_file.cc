#include "gate/audit/audit_file.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ledger/strict_json.h"

namespace claimgate::gate {

absl::Status ParseAuditLine(absl::string_view line, v1::Decision* decision, bool* bare) {
  decision->Clear();
  *bare = false;
  // Unknown keys tell the two shapes apart; the strict reader refuses duplicate keys, which a
  // forger could use to show one outcome to a first-key reader and hash another (issue 12).
  if (ledger::ParseStrictJson(line, decision, /*ignore_unknown_fields=*/false).ok() &&
      decision->has_audit()) {
    return absl::OkStatus();
  }
  decision->Clear();
  const absl::Status s =
      ledger::ParseStrictJson(line, decision->mutable_audit(), /*ignore_unknown_fields=*/false);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("neither a decision nor an audit record: ", s.message()));
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
