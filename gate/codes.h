// Settled traceability codes (SPEC §8.3, docs/duplicate-codes.md): which claim first settled a
// drug box's code. The decision asks a CodeLookup; after it, the caller settles the claim's new
// codes (SettlingCodes) in whatever book it keeps: an in-memory one for the file path (CodeBook), a
// RocksDB one owned by code for the streaming path.
#ifndef CLAIMGATE_GATE_CODES_H_
#define CLAIMGATE_GATE_CODES_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gate/claim_view.h"
#include "ledger/profile.h"

namespace claimgate::gate {

// The claim that settled a code first, and when the code is forgotten.
struct SettledCode {
  std::string claim_id;
  std::string institution_id;
  absl::Time service_time;
  absl::Time expires;  // service_time + the settling profile's code_retention_years
};

class CodeLookup {
 public:
  virtual ~CodeLookup() = default;
  // The claim that settled `code` and holds it still (not reversed); null when none. The pointer
  // stays valid for the duration of one decision. Expiry is the caller's to judge (`expires`).
  virtual const SettledCode* FindSettled(absl::string_view code) const = 0;
};

// Whether the claim's kind and this item's category take part in §8.3 (SETTLEMENT claims; items of
// the profile's traceability_categories) and `code` is a valid code.
bool CodeSettles(const ClaimView& claim, const ClaimView::Item& item, absl::string_view code,
                 const ledger::Profile& profile);

// Whether a settled code is still remembered for a claim served at `t`.
inline bool Remembered(const SettledCode& s, absl::Time t) { return t < s.expires; }

// The in-memory book of the file path (`claimgate check`), which sees every claim of its input.
class CodeBook final : public CodeLookup {
 public:
  const SettledCode* FindSettled(absl::string_view code) const override;
  // Records `codes` (DecisionResult::settled_codes) as settled by the claim, replacing an expired
  // holder; codes the claim holds already stay as they are.
  template <typename Codes>
  void Settle(const ClaimView& claim, const Codes& codes, const ledger::Profile& profile) {
    for (absl::string_view code : codes) SettleOne(claim, code, profile);
  }
  // Whether `claim_id` was decided and not reversed (a reversal needs one).
  bool Known(absl::string_view claim_id) const { return claims_.contains(claim_id); }
  void NoteDecided(absl::string_view claim_id);
  // Releases the codes the claim settled; false when the claim is unknown or already reversed.
  // `released` gets the codes, in the order settled.
  bool Reverse(absl::string_view claim_id, std::vector<std::string>* released);

 private:
  void SettleOne(const ClaimView& claim, absl::string_view code, const ledger::Profile& profile);

  absl::flat_hash_map<std::string, SettledCode> codes_;
  // Claim id -> the codes it settled (decided claims only; removed when reversed).
  absl::flat_hash_map<std::string, std::vector<std::string>> claims_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_CODES_H_
