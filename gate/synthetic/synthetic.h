// Synthetic populations and event streams for benchmarks and load tests: institutions by kind and
// level, persons per institution with a multi-site share, assessments at a configurable rate, and
// claims whose practitioners follow a Zipf popularity over persons. Deterministic for a given seed.
#ifndef CLAIMGATE_GATE_SYNTHETIC_SYNTHETIC_H_
#define CLAIMGATE_GATE_SYNTHETIC_SYNTHETIC_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "claimgate/v1/events.pb.h"
#include "claimgate/v1/status.pb.h"

namespace claimgate::synthetic {

struct SyntheticOptions {
  int64_t institutions = 1000;
  int64_t persons = 10000;
  double multi_site_share = 0.1;    // persons registered at a second institution
  double uncommitted_share = 0.01;  // registrations without a service commitment
  double assessment_rate = 0.02;    // share of stream events that are score assessments
  int max_practitioners = 3;        // practitioners per claim: 1..max
  double zipf_exponent = 1.0;       // claim popularity over persons
  double suspended_share = 0.02;    // persons with a suspension in the year (status generator)
  double terminated_share = 0.005;  // persons terminated in the year (status generator)
  uint64_t seed = 42;
};

// Draws ranks 1..n with P(k) ~ k^-s, by inverting the continuous power law (fast, O(1) a draw).
class ZipfSampler {
 public:
  ZipfSampler(int64_t n, double s);
  int64_t operator()(std::mt19937_64& rng) const;

 private:
  int64_t n_;
  double s_;
  double h_n_;
};

// Emits the population's ledger events (institutions, registrations, commitments) and then
// `stream_events` events through 2025: claims, with score assessments interleaved at
// `assessment_rate`.
void GenerateStream(const SyntheticOptions& options, int64_t stream_events,
                    const std::function<void(const v1::Event&)>& emit);

// Emits the status records a ledger would publish for such a population (without running the
// ledger): registrations (with commitments), suspensions and terminations at the configured shares,
// year totals.
void GenerateStatuses(const SyntheticOptions& options,
                      const std::function<void(v1::InstitutionStatus&&)>& institution,
                      const std::function<void(v1::PersonStatus&&)>& person);

// A claim event for `practitioners` (person indexes) at the home institution of the first,
// serialized.
std::string ClaimEventBytes(const SyntheticOptions& options, int64_t claim_index,
                            const std::vector<int64_t>& practitioners, std::mt19937_64& rng);

std::string PersonId(int64_t index);
std::string InstitutionId(int64_t index);

}  // namespace claimgate::synthetic

#endif  // CLAIMGATE_GATE_SYNTHETIC_SYNTHETIC_H_
