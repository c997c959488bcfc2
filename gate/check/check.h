// `claimgate check` (SPEC §7): reads JSON Lines in file order, applies ledger events, decides
// claims, writes one decision a claim to `out` in input order and each refused line to `err`. A bad
// line never stops the run.
#ifndef CLAIMGATE_GATE_CHECK_CHECK_H_
#define CLAIMGATE_GATE_CHECK_CHECK_H_

#include <cstdint>
#include <istream>
#include <map>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "gate/clock.h"
#include "gate/codes.h"
#include "gate/decision.h"
#include "ledger/profile.h"

namespace claimgate::gate {

struct CheckOptions {
  std::string default_profile = "national";
  bool shadow = false;
  std::string source_file;          // named in each audit record's source
  std::ostream* notices = nullptr;  // ledger notices as JSON lines, when set
  // Where the settled traceability codes (SPEC §8.3) are kept: empty, in memory (fast; grows with
  // the input); else a code store in this directory (memory bounded by `codes_cache_bytes`; a
  // province's year of claims). The directory may hold a store from an earlier run: its codes
  // count as settled before this input.
  std::string codes_dir;
  uint64_t codes_cache_bytes = 256ull << 20;
  // Claim lines read by the fast reader (gate/replay/json_lines.h) and decision lines written
  // straight from the decision (gate/decision_json.h); false: Protobuf's message and JSON printer
  // for every line (the same bytes; tests compare the two).
  bool fast_path = true;
  // False: the in-memory ledger and code book are left to the process's exit instead of freed
  // entry by entry (the command line, which exits next: 0.5 s of a million-line run). A code store
  // (codes_dir) is always closed.
  bool free_state = true;
};

// What a run saw; the demo prints it as a table.
struct CheckSummary {
  int64_t lines = 0;
  int64_t ledger_events = 0;
  int64_t ledger_refused = 0;
  int64_t claims = 0;
  int64_t reversals = 0;  // claim_reversed lines applied (SPEC §8.3)
  int64_t malformed = 0;
  std::map<std::string, int64_t> outcomes;  // ACCEPT / REJECT / FLAG
  std::map<std::string, int64_t> reasons;   // reason code -> claims citing it
  std::map<std::string, int64_t> refusals;  // ledger error -> events
  std::map<std::string, int64_t> notices;   // notice code -> count
};

// Runs the check. Errors only for a failure of the environment (unknown default profile, unreadable
// input); bad input lines are refused on `err` and the run goes on.
absl::StatusOr<CheckSummary> RunCheck(std::istream& in, std::ostream& out, std::ostream& err,
                                      const ledger::ProfileSet& profiles,
                                      const CheckOptions& options, Clock& clock);

// A claim_reversed event (SPEC §8.3) against the file path's code book: its decision line (outcome
// REVERSED, the released codes in the audit record). False when the claim is unknown or reversed
// before (refused UNKNOWN_CLAIM); an error when the book cannot be read or written.
absl::StatusOr<bool> Reverse(const v1::Event& event, const DecisionContext& ctx,
                             ClaimCodeBook& book, v1::Decision* out);

// A fixed-width table of the summary (claims by outcome and reason, ledger refusals, notices).
std::string FormatSummary(const CheckSummary& summary);

// The gate's version string, as recorded in every audit record.
const std::string& GateVersion();

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_CHECK_CHECK_H_
