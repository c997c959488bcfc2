// Replay (SPEC §6, docs/audit.md): re-decide recorded claims through the one decision core.
//
// - Against the record: each status record is looked up at the ledger position the audit record
//   names for it, with the recorded profile, mode, staleness and context. The re-made audit record
//   must equal the recorded one byte for byte (an integrity check of the whole pipeline: ledger,
//   status feed, store, decision).
// - Against the ledger as it stands now: the newest records, and no staleness. Claims whose outcome
//   changes form the recoupment (追回) and refund list, with amounts per institution.
//
// Pure: the sources (files, Kafka) are adapters that feed Replay() and the tally.
#ifndef CLAIMGATE_GATE_REPLAY_REPLAY_H_
#define CLAIMGATE_GATE_REPLAY_REPLAY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/decision.pb.h"
#include "gate/claim_view.h"
#include "gate/decision.h"
#include "ledger/history.h"
#include "ledger/profile.h"

namespace claimgate::gate {

enum class Against { kRecorded, kCurrent };

// What a changed outcome means for the money: a paid claim (ACCEPT, FLAG) now rejected is to be
// recouped; a rejected one now payable is to be paid after all.
enum class Action { kNone, kRecoup, kRefund };
absl::string_view ActionName(Action a);

// One claim that replays differently.
struct ReplayDifference {
  std::string claim_id;
  std::string institution_id;
  absl::Time service_time;
  int64_t amount_fen = 0;  // sum of the claim's items
  v1::AuditRecord::Source source;
  v1::Decision::Outcome recorded = v1::Decision::OUTCOME_UNSPECIFIED;
  v1::Decision::Outcome replayed = v1::Decision::OUTCOME_UNSPECIFIED;
  std::vector<v1::Reason> recorded_reasons, replayed_reasons;
  Action action = Action::kNone;
  std::vector<std::string> fields;  // against the record: what differs, field by field
  std::string error;                // the claim could not be replayed (not found, unreadable)
};

class Replayer {
 public:
  // `history` and `profiles` must outlive the replayer; `default_profile` governs institutions the
  // ledger does not know when the record names no profile the set has. One replayer a thread.
  Replayer(const ledger::LedgerHistory* history, const ledger::ProfileSet* profiles,
           const ledger::Profile* default_profile, Against against);

  // Re-decides `claim` (whose recorded audit record is `recorded`). True when it decides the same;
  // otherwise fills `diff`. Against the record "the same" means an identical audit record; against
  // the current ledger, the same outcome (a change of reasons alone sets *reasons_changed).
  bool Replay(const ClaimView& claim, const v1::AuditRecord& recorded, ReplayDifference* diff,
              bool* reasons_changed = nullptr);

  // Claims reversed (SPEC §8.3) by now: against the current ledger, a duplicate code whose first
  // claim is among them is a duplicate no more. Must outlive the replayer; null: none.
  void set_reversed(const absl::flat_hash_set<std::string>* reversed) { reversed_ = reversed; }

 private:
  class Lookup;
  class RecordedCodes;

  const ledger::LedgerHistory* history_;
  const ledger::ProfileSet* profiles_;
  const ledger::Profile* default_profile_;
  Against against_;
  const absl::flat_hash_set<std::string>* reversed_ = nullptr;
  DecisionContext ctx_;
  DecisionResult result_;
  std::string replayed_, recorded_;
};

// Counts and sums of a replay; Merge() combines the tallies of parallel workers.
class ReplayTally {
 public:
  void Same() { ++replayed_, ++same_; }
  void Differ(const ReplayDifference& d);
  void ReasonsChanged() { ++reasons_changed_; }
  void Merge(const ReplayTally& other);

  int64_t replayed() const { return replayed_; }
  int64_t same() const { return same_; }
  int64_t differ() const { return differ_; }
  int64_t errors() const { return errors_; }

  // {"against":..,"replayed":N,"same":N,"differ":N,"errors":N,"reasons_changed":N,
  //  "recoup":{"claims":N,"amount_fen":N},"refund":{...},"by_outcome_change":{"REJECT->ACCEPT":N},
  //  "institutions":[{"institution_id":..,"recoup_claims":..,"recoup_fen":..,"refund_claims":..,
  //  "refund_fen":..}],"seconds":S}
  std::string SummaryJson(Against against, double seconds) const;

 private:
  struct Money {
    int64_t recoup_claims = 0, recoup_fen = 0, refund_claims = 0, refund_fen = 0;
  };
  int64_t replayed_ = 0, same_ = 0, differ_ = 0, errors_ = 0, reasons_changed_ = 0;
  Money total_;
  std::map<std::string, Money> institutions_;
  std::map<std::string, int64_t> changes_;  // "RECORDED->REPLAYED" -> claims
};

// Replays one recorded claim, counts it in `tally` and, when it differs, appends its line (JSON, or
// CSV with `csv`) to `out`: what every replay source does per claim.
void ReplayOne(Replayer& replayer, const ClaimView& claim, const v1::AuditRecord& recorded,
               bool csv, ReplayTally* tally, std::string* out);
// A recorded claim that could not be replayed (its claim not found or unreadable).
void ReplayError(const v1::AuditRecord& recorded, std::string error, bool csv, ReplayTally* tally,
                 std::string* out);

// One differing claim as a JSON line / a CSV row (the header first).
std::string DifferenceJson(const ReplayDifference& d);
std::string DifferenceCsvHeader();
std::string DifferenceCsv(const ReplayDifference& d);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_REPLAY_REPLAY_H_
