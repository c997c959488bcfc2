#include "ledger/history.h"

#include <algorithm>
#include <utility>

namespace claimgate::ledger {

template <typename Record>
const Record* LedgerHistory::Versions<Record>::At(int64_t position) const {
  // The first version produced after `position`; the one before it is in force.
  const auto after = std::upper_bound(positions.begin(), positions.end(), position);
  if (after == positions.begin()) return nullptr;
  return &records[static_cast<size_t>(after - positions.begin()) - 1];
}

absl::StatusOr<std::unique_ptr<LedgerHistory>> LedgerHistory::Create(
    const ProfileSet* profiles, absl::string_view default_profile) {
  absl::StatusOr<std::unique_ptr<Ledger>> ledger = Ledger::Create(profiles, default_profile);
  if (!ledger.ok()) return ledger.status();
  return std::unique_ptr<LedgerHistory>(new LedgerHistory(std::move(*ledger)));
}

ApplyResult LedgerHistory::Apply(const v1::Event& event) {
  ApplyResult result = ledger_->Apply(event);
  const int64_t at = ledger_->position();
  // Each changed record's new version, by kind.
  auto keep = [&](const std::vector<std::string>& ids, auto& versions, auto find) {
    for (const std::string& id : ids) {
      auto& v = versions[id];
      v.positions.push_back(at);
      v.records.push_back(*find(id));
      ++versions_;
    }
  };
  keep(result.changed_persons, persons_,
       [this](const std::string& id) { return ledger_->FindPersonRecord(id); });
  keep(result.changed_institutions, institutions_,
       [this](const std::string& id) { return ledger_->FindInstitution(id); });
  keep(result.changed_insured, insured_,
       [this](const std::string& id) { return ledger_->FindInsured(id); });
  return result;
}

const PersonRecord* LedgerHistory::PersonAt(absl::string_view person_id, int64_t position) const {
  const auto it = persons_.find(person_id);
  return it == persons_.end() ? nullptr : it->second.At(position);
}

const v1::InstitutionStatus* LedgerHistory::InstitutionAt(absl::string_view institution_id,
                                                          int64_t position) const {
  const auto it = institutions_.find(institution_id);
  return it == institutions_.end() ? nullptr : it->second.At(position);
}

const v1::InsuredStatus* LedgerHistory::InsuredAt(absl::string_view insured_id,
                                                  int64_t position) const {
  const auto it = insured_.find(insured_id);
  return it == insured_.end() ? nullptr : it->second.At(position);
}

}  // namespace claimgate::ledger
