// Settled traceability codes (SPEC §8.3, docs/duplicate-codes.md): which claim first settled a
// drug box's code. The decision asks a CodeLookup; after it, the caller settles the claim's new
// codes (SettlingCodes) in whatever book it keeps: an in-memory one for the file path (CodeBook), a
// RocksDB one owned by code for the streaming path.
#ifndef CLAIMGATE_GATE_CODES_H_
#define CLAIMGATE_GATE_CODES_H_

#include <cstdint>
#include <string>
#include <vector>

#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
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

// When a code settled by `claim` under `profile` is forgotten (SPEC §8.3: code_retention_years
// calendar years from its service time, in the profile's zone).
absl::Time ExpiryOf(const ClaimView& claim, const ledger::Profile& profile);

// Who owns what on the streaming path (docs/duplicate-codes.md): the `code-checks` partition of a
// code, and of a claim id's record, among `partitions`. FNV-1a, so that every gate and owner agrees
// whatever its platform or library.
int32_t CodeOwnerPartition(absl::string_view code, int partitions);
int32_t ClaimOwnerPartition(absl::string_view claim_id, int partitions);

// The file path's book (`claimgate check` sees every claim of its input, in order): what the
// decision asks before a claim, what a decided claim settled, what a reversal releases.
class ClaimCodeBook : public CodeLookup {
 public:
  // Before deciding `claim`: makes its codes' settlers answerable by FindSettled().
  virtual absl::Status Prepare(const ClaimView& claim) = 0;
  // After deciding it: records the claim as decided and `codes` (DecisionResult::settled_codes)
  // as settled by it, replacing an expired holder; codes it holds already stay as they are.
  virtual absl::Status Record(const ClaimView& claim,
                              absl::Span<const absl::string_view> codes,
                              const ledger::Profile& profile) = 0;
  // Releases the codes the claim settled (and still holds), in the order settled; nullopt when
  // the claim is unknown or reversed before.
  virtual absl::StatusOr<std::optional<std::vector<std::string>>> Reverse(
      absl::string_view claim_id) = 0;
};

// The book in memory: fast, and growing with the codes and claims of the input. The maps' keys and
// the claims' lists view bytes kept in chunks that never move (one allocation per 64 KiB instead
// of one per code and claim: issue 17); a reversal's bytes stay until the book goes.
class CodeBook final : public ClaimCodeBook {
 public:
  const SettledCode* FindSettled(absl::string_view code) const override;
  absl::Status Prepare(const ClaimView& /*claim*/) override { return absl::OkStatus(); }
  absl::Status Record(const ClaimView& claim, absl::Span<const absl::string_view> codes,
                      const ledger::Profile& profile) override;
  absl::StatusOr<std::optional<std::vector<std::string>>> Reverse(
      absl::string_view claim_id) override;

 private:
  using Held = absl::InlinedVector<absl::string_view, 2>;
  // `held`: the claim's list in claims_ (nothing is inserted into claims_ while it is used).
  void SettleOne(const ClaimView& claim, absl::string_view code, const ledger::Profile& profile,
                 Held* held);
  // A copy of `bytes` in the chunks; Unkeep gives back the last one kept.
  absl::string_view Keep(absl::string_view bytes);
  void Unkeep(absl::string_view kept) {
    next_ -= kept.size();
    free_ += kept.size();
  }

  // Code -> its place in settled_. The records are appended in the order first settled and stay
  // where they were written (a code's re-settling rewrites its record in place; a reversal leaves
  // its record unreachable), so the table stays a view and a number a code, and grows by moving
  // those alone.
  absl::flat_hash_map<absl::string_view, size_t> codes_;
  static constexpr size_t kSettledChunk = 4096;
  std::vector<std::unique_ptr<SettledCode[]>> settled_;
  size_t settled_count_ = 0;
  SettledCode& Settled(size_t i) const { return settled_[i / kSettledChunk][i % kSettledChunk]; }
  // Claim id -> the codes it settled (decided claims only; removed when reversed).
  absl::flat_hash_map<absl::string_view, Held> claims_;
  std::vector<std::unique_ptr<char[]>> chunks_;
  char* next_ = nullptr;  // the last chunk's first free byte
  size_t free_ = 0;       // and how many are free
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_CODES_H_
