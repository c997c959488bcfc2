// `claimgate audit verify FILE`: the hash chains of a file of decisions (as `claimgate check`
// writes them) or of bare audit records (one JSON AuditRecord a line, e.g. the claim-audit topic
// dumped with kcat).
#ifndef CLAIMGATE_GATE_AUDIT_AUDIT_FILE_H_
#define CLAIMGATE_GATE_AUDIT_AUDIT_FILE_H_

#include <istream>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/decision.pb.h"
#include "gate/audit/audit_chain.h"

namespace claimgate::gate {

// One line: a Decision with its audit record, or a bare AuditRecord. InvalidArgument otherwise.
// `decision` is cleared; for a bare record only its `audit` is set and `bare` is true.
absl::Status ParseAuditLine(absl::string_view line, v1::Decision* decision, bool* bare);

// Feeds every line of `in` to `verifier` ("line N" as the place). A line that does not parse, or a
// decision that contradicts its own audit record, is a break. DataLoss when reading fails.
absl::Status VerifyAuditLines(std::istream& in, ChainVerifier* verifier);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_AUDIT_AUDIT_FILE_H_
