// `claimgate replay --events IN.jsonl --decisions D.jsonl`: the file source of replay. The events
// file holds the ledger events and claims (SPEC §7) that `claimgate check` decided; the decisions
// file is what check wrote. Each decision's audit record names its claim's line (source.offset).
//
// Two passes: the ledger events are applied in file order into a LedgerHistory; then the decisions
// are re-decided in parallel chunks (the history is read-only by then), each claim read from its
// line. Output keeps the decisions' order.
#ifndef CLAIMGATE_GATE_REPLAY_REPLAY_FILES_H_
#define CLAIMGATE_GATE_REPLAY_REPLAY_FILES_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "gate/replay/replay.h"
#include "ledger/profile.h"

namespace claimgate::gate {

struct ReplayOptions {
  Against against = Against::kRecorded;
  bool csv = false;                          // the differing claims as CSV rows (else JSON lines)
  std::string default_profile = "national";  // as `check --profile`
  int threads = 2;
  // A JSON progress line every `progress_seconds` on `progress` (null: none).
  std::ostream* progress = nullptr;
  double progress_seconds = 5;
};

// Replays every decision of `decisions_path` against the events of `events_path`, writing one
// line per differing claim to `out` (a CSV header first with `csv`). The caller prints the
// summary. NotFound / DataLoss when a file cannot be read.
absl::StatusOr<ReplayTally> ReplayFiles(const std::string& events_path,
                                        const std::string& decisions_path,
                                        const ReplayOptions& options,
                                        const ledger::ProfileSet& profiles, std::ostream& out);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_REPLAY_REPLAY_FILES_H_
