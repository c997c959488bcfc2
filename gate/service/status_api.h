// The published status of one person as of a time, as JSON: the answer of
// `GET /v1/persons/{id}/status?at=RFC3339` (SPEC §4, publication to registration platforms); and
// what guards it, since a person's sanction status is personal data: the bearer token, the token
// file it comes from, and the per-client rate limit.
#ifndef CLAIMGATE_GATE_SERVICE_STATUS_API_H_
#define CLAIMGATE_GATE_SERVICE_STATUS_API_H_

#include <array>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/claimgate/v1/status.pb.h"

namespace claimgate::gate {

// A person id the endpoint accepts: 1-64 characters of [A-Za-z0-9._:-].
bool ValidPersonId(absl::string_view id);

// {"person_id", "at", "state", "since", "until", "year", "year_points", "registrations": [{
// "institution_id", "role", "standing", "registered_since", "registered_until"}],
// "ledger_position"}; absent bounds are null; times in UTC ("2025-03-10T02:00:00Z"), as in the
// decisions and audit records.
std::string PersonStatusJson(const v1::PersonStatus& person, absl::Time at);

// A bearer token held as its SHA-256 digest. Matches() compares digests with CRYPTO_memcmp, so the
// time it takes tells neither how much of a guess was right nor how long the token is.
class BearerToken {
 public:
  explicit BearerToken(absl::string_view token);
  // `authorization`: an Authorization header's value, "Bearer <token>" (the scheme in any case).
  bool Matches(absl::string_view authorization) const;

 private:
  std::array<unsigned char, 32> digest_;
};

// The token in `path` (a mounted secret): the file without trailing whitespace. InvalidArgument
// naming the file when it cannot be read, holds no token, more than 4 KiB or more than one line.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Token buckets per client address: `burst` requests at once, refilled at `per_second`. At most
// `max_clients` buckets; at the bound the full buckets go (a full bucket is a new one), or when
// none is full the longest unused one. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst, size_t max_clients);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // True when `client` may make a request at `now` (taking a token); false with `*retry_after`,
  // the wait until it may.
  bool Admit(absl::string_view client, absl::Time now, absl::Duration* retry_after);
  size_t clients() const;

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  double Refilled(const Bucket& b, absl::Time now) const;
  void MakeRoom(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double per_second_, burst_;
  const size_t max_clients_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_STATUS_API_H_
