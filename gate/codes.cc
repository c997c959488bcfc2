#include "gate/codes.h"

#include <algorithm>
#include <cstring>

#include "gate/decision.h"

namespace claimgate::gate {

bool CodeSettles(const ClaimView& claim, const ClaimView::Item& item, absl::string_view code,
                 const ledger::Profile& profile) {
  return claim.kind == v1::Claim::SETTLEMENT && profile.SettlesCodes(item.category) &&
         IsValidTraceabilityCode(code);
}

namespace {

uint64_t Fnv1a(absl::string_view bytes, uint64_t salt) {
  uint64_t h = 14695981039346656037ull ^ salt;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

int32_t CodeOwnerPartition(absl::string_view code, int partitions) {
  return static_cast<int32_t>(Fnv1a(code, 0) % static_cast<uint64_t>(partitions));
}

int32_t ClaimOwnerPartition(absl::string_view claim_id, int partitions) {
  // Salted: claim ids and codes share no structure that should land them together.
  return static_cast<int32_t>(Fnv1a(claim_id, 0x636c61696dull) % static_cast<uint64_t>(partitions));
}

const SettledCode* CodeBook::FindSettled(absl::string_view code) const {
  auto it = codes_.find(code);
  return it == codes_.end() ? nullptr : &Settled(it->second);
}

absl::Time ExpiryOf(const ClaimView& claim, const ledger::Profile& profile) {
  return profile.calendar().AddYears(claim.service_time, profile.code_retention_years());
}

absl::string_view CodeBook::Keep(absl::string_view bytes) {
  if (bytes.empty()) return {};
  if (bytes.size() > free_) {
    constexpr size_t kChunk = 64 << 10;
    const size_t size = std::max(kChunk, bytes.size());
    chunks_.push_back(std::make_unique<char[]>(size));
    next_ = chunks_.back().get();
    free_ = size;
  }
  char* at = next_;
  std::memcpy(at, bytes.data(), bytes.size());
  next_ += bytes.size();
  free_ -= bytes.size();
  return absl::string_view(at, bytes.size());
}

absl::Status CodeBook::Record(const ClaimView& claim, absl::Span<const absl::string_view> codes,
                              const ledger::Profile& profile) {
  const absl::string_view id = Keep(claim.claim_id);
  auto [it, inserted] = claims_.try_emplace(id);
  if (!inserted) Unkeep(id);
  for (absl::string_view code : codes) SettleOne(claim, code, profile, &it->second);
  return absl::OkStatus();
}

void CodeBook::SettleOne(const ClaimView& claim, absl::string_view code,
                         const ledger::Profile& profile, Held* held) {
  const absl::string_view kept = Keep(code);
  auto [it, inserted] = codes_.try_emplace(kept, settled_count_);
  if (inserted) {
    if (settled_count_ % kSettledChunk == 0)
      settled_.push_back(std::make_unique<SettledCode[]>(kSettledChunk));
    ++settled_count_;
  } else {
    Unkeep(kept);
  }
  SettledCode& s = Settled(it->second);
  if (s.claim_id == claim.claim_id) return;  // held already (a claim decided again)
  if (!s.claim_id.empty()) {
    // An expired holder gives the code up.
    auto holder = claims_.find(s.claim_id);
    if (holder != claims_.end()) {
      Held& list = holder->second;
      list.erase(std::remove(list.begin(), list.end(), code), list.end());
    }
  }
  s.claim_id.assign(claim.claim_id.data(), claim.claim_id.size());
  s.institution_id.assign(claim.institution_id.data(), claim.institution_id.size());
  s.service_time = claim.service_time;
  s.expires = ExpiryOf(claim, profile);
  held->push_back(it->first);
}

absl::StatusOr<std::optional<std::vector<std::string>>> CodeBook::Reverse(
    absl::string_view claim_id) {
  auto it = claims_.find(claim_id);
  if (it == claims_.end()) return std::nullopt;
  std::vector<std::string> released(it->second.begin(), it->second.end());
  claims_.erase(it);
  for (const std::string& code : released) codes_.erase(code);
  return released;
}

}  // namespace claimgate::gate
