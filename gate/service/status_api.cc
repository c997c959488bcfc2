#include "gate/service/status_api.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gate/json/json_writer.h"
#include "ledger/calendar.h"
#include "ledger/status_query.h"

namespace claimgate::gate {
namespace {

// In UTC, as the decisions and audit records write their times (docs/assumptions.md H5); `?at=`
// takes any offset.
Json TimeOrNull(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return nullptr;
  return ledger::FormatUtc(t);
}

std::array<unsigned char, 32> Sha256(absl::string_view bytes) {
  std::array<unsigned char, 32> digest{};
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return digest;
}

}  // namespace

bool ValidPersonId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string PersonStatusJson(const v1::PersonStatus& person, absl::Time at) {
  const ledger::StateAt state = ledger::PersonStateAt(person, at);
  const int year = ledger::Calendar().YearOf(at);
  Json registrations = Json::array();
  for (const auto& r : person.registrations()) {
    const ledger::Standing standing = ledger::StandingAt(&person, r.institution_id(), at);
    registrations.push_back(
        {{"institution_id", r.institution_id()},
         {"role", v1::PersonRegistered::Role_Name(r.role())},
         {"standing", standing.registration != v1::REASON_CODE_UNSPECIFIED
                          ? v1::ReasonCode_Name(standing.registration)
                          : v1::PersonStatus::State_Name(standing.sanction.state)},
         {"registered_since", r.has_since() ? TimeOrNull(ledger::FromProto(r.since())) : nullptr},
         {"registered_until", r.has_until() ? TimeOrNull(ledger::FromProto(r.until())) : nullptr}});
  }
  return JsonText({{"person_id", person.person_id()},
                   {"at", TimeOrNull(at)},
                   {"state", v1::PersonStatus::State_Name(state.state)},
                   {"since", TimeOrNull(state.since)},
                   {"until", TimeOrNull(state.until)},
                   {"year", year},
                   {"year_points", ledger::YearTotalAt(person, year, at)},
                   {"registrations", std::move(registrations)},
                   {"ledger_position", person.ledger_position()}});
}

BearerToken::BearerToken(absl::string_view token) : digest_(Sha256(token)) {}

bool BearerToken::Matches(absl::string_view authorization) const {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  const std::array<unsigned char, 32> given = Sha256(authorization.substr(kScheme.size()));
  return CRYPTO_memcmp(given.data(), digest_.data(), digest_.size()) == 0;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("token file ", path, ": cannot read"));
  std::string token(4097, '\0');
  in.read(token.data(), static_cast<std::streamsize>(token.size()));
  token.resize(static_cast<size_t>(in.gcount()));
  if (token.size() > 4096)
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, ": more than 4 KiB"));
  token = std::string(absl::StripTrailingAsciiWhitespace(token));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, ": empty"));
  if (std::any_of(token.begin(), token.end(), [](char c) { return c == '\n' || c == '\r'; }))
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, ": more than one line"));
  return token;
}

RateLimiter::RateLimiter(double per_second, double burst, size_t max_clients)
    : per_second_(per_second), burst_(std::max(1.0, burst)), max_clients_(max_clients) {}

double RateLimiter::Refilled(const Bucket& b, absl::Time now) const {
  return std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.updated) * per_second_);
}

bool RateLimiter::Admit(absl::string_view client, absl::Time now, absl::Duration* retry_after) {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) MakeRoom(now);
    it = buckets_.emplace(std::string(client), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = Refilled(b, now);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return true;
  }
  *retry_after = per_second_ > 0 ? absl::Seconds((1 - b.tokens) / per_second_) : absl::Hours(1);
  return false;
}

void RateLimiter::MakeRoom(absl::Time now) {
  absl::erase_if(buckets_, [&](const auto& kv) { return Refilled(kv.second, now) >= burst_; });
  if (buckets_.size() < max_clients_) return;
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                 [](const auto& a, const auto& b) {
                                   return a.second.updated < b.second.updated;
                                 });
  buckets_.erase(oldest);
}

size_t RateLimiter::clients() const {
  absl::MutexLock lock(&mu_);
  return buckets_.size();
}

}  // namespace claimgate::gate
