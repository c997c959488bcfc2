// The ledger with its past kept: every version of every status record, by the ledger position that
// produced it. Replay (docs/audit.md) looks a person up "as the record stood at position p" — the
// position an audit record names for the status it used — or as it stands now. Pure, like the
// ledger it wraps.
#ifndef CLAIMGATE_LEDGER_HISTORY_H_
#define CLAIMGATE_LEDGER_HISTORY_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/status.pb.h"
#include "ledger/ledger.h"
#include "ledger/person_record.h"
#include "ledger/profile.h"

namespace claimgate::ledger {

class LedgerHistory {
 public:
  // Any position at or beyond the newest: the records as they stand now.
  static constexpr int64_t kNow = std::numeric_limits<int64_t>::max();

  // As Ledger::Create.
  static absl::StatusOr<std::unique_ptr<LedgerHistory>> Create(const ProfileSet* profiles,
                                                               absl::string_view default_profile);

  // Applies the next ledger event (Ledger::Apply) and keeps the records it changed.
  ApplyResult Apply(const v1::Event& event);
  int64_t position() const { return ledger_->position(); }
  const Ledger& ledger() const { return *ledger_; }

  // The record as it stood at ledger position `position`: the newest version produced at or before
  // it; null when there was none yet. Pointers stay valid until the next Apply(); lookups are
  // thread-safe between Apply() calls.
  const PersonRecord* PersonAt(absl::string_view person_id, int64_t position) const;
  const v1::InstitutionStatus* InstitutionAt(absl::string_view institution_id,
                                             int64_t position) const;
  const v1::InsuredStatus* InsuredAt(absl::string_view insured_id, int64_t position) const;

  // Versions kept in all (for progress lines and memory estimates).
  int64_t versions() const { return versions_; }

 private:
  template <typename Record>
  struct Versions {
    std::vector<int64_t> positions;  // ascending
    std::vector<Record> records;
    const Record* At(int64_t position) const;
  };

  explicit LedgerHistory(std::unique_ptr<Ledger> ledger) : ledger_(std::move(ledger)) {}

  std::unique_ptr<Ledger> ledger_;
  absl::flat_hash_map<std::string, Versions<PersonRecord>> persons_;
  absl::flat_hash_map<std::string, Versions<v1::InstitutionStatus>> institutions_;
  absl::flat_hash_map<std::string, Versions<v1::InsuredStatus>> insured_;
  int64_t versions_ = 0;
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_HISTORY_H_
