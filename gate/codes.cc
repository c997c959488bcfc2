#include "gate/codes.h"

#include <algorithm>

#include "gate/decision.h"

namespace claimgate::gate {

bool CodeSettles(const ClaimView& claim, const ClaimView::Item& item, absl::string_view code,
                 const ledger::Profile& profile) {
  return claim.kind == v1::Claim::SETTLEMENT && profile.SettlesCodes(item.category) &&
         IsValidTraceabilityCode(code);
}

const SettledCode* CodeBook::FindSettled(absl::string_view code) const {
  auto it = codes_.find(code);
  return it == codes_.end() ? nullptr : &it->second;
}

void CodeBook::NoteDecided(absl::string_view claim_id) {
  claims_.try_emplace(claim_id);
}

void CodeBook::SettleOne(const ClaimView& claim, absl::string_view code,
                         const ledger::Profile& profile) {
  SettledCode& s = codes_[code];
  if (s.claim_id == claim.claim_id) return;  // held already (a claim decided again)
  if (!s.claim_id.empty()) {
    // An expired holder gives the code up.
    auto it = claims_.find(s.claim_id);
    if (it != claims_.end()) {
      auto& list = it->second;
      list.erase(std::remove(list.begin(), list.end(), code), list.end());
    }
  }
  s = SettledCode{std::string(claim.claim_id), std::string(claim.institution_id),
                  claim.service_time,
                  profile.calendar().AddYears(claim.service_time, profile.code_retention_years())};
  claims_[claim.claim_id].emplace_back(code);
}

bool CodeBook::Reverse(absl::string_view claim_id, std::vector<std::string>* released) {
  auto it = claims_.find(claim_id);
  if (it == claims_.end()) return false;
  *released = std::move(it->second);
  claims_.erase(it);
  for (const std::string& code : *released) codes_.erase(code);
  return true;
}

}  // namespace claimgate::gate
