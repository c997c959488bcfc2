// The gate service's Prometheus metrics, declared here and nowhere else (names in
// deploy/metrics.txt; no person, claim or insured ids as labels; base units; `_total` on counters,
// which prometheus-cpp 1.0 does not add).
#ifndef CLAIMGATE_GATE_SERVICE_GATE_METRICS_H_
#define CLAIMGATE_GATE_SERVICE_GATE_METRICS_H_

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace claimgate::gate {

// The `error` of a dead letter (its header and the dead_letters label): every one the gate gives.
inline constexpr char kMalformed[] = "MALFORMED";
inline constexpr char kClaimTooLarge[] = "CLAIM_TOO_LARGE";
inline constexpr char kOutputTooLarge[] = "OUTPUT_TOO_LARGE";
// A claim_reversed of a claim never decided, or reversed before (SPEC §8.3).
inline constexpr char kUnknownClaim[] = "UNKNOWN_CLAIM";

// Every label value a gate can give its counters (outcomes, reason codes, dead-letter errors,
// hot-tier results) exists at 0 from start-up, so that increase() sees the first event.
struct GateMetrics {
  explicit GateMetrics(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& decisions;     // {outcome}
  prometheus::Family<prometheus::Counter>& reasons;       // {reason}: claims citing it
  prometheus::Family<prometheus::Counter>& dead_letters;  // {error}
  prometheus::Histogram& decision_duration;               // seconds of decision work a claim
  prometheus::Histogram& claim_to_decision;  // claim message timestamp -> transaction committed
  prometheus::Gauge& staleness;              // seconds since the status feed was confirmed current
  prometheus::Gauge& feed_confirmed;         // when it was (unix seconds; the start before that)
  prometheus::Gauge& ready;
  prometheus::Family<prometheus::Counter>& hot_tier_lookups;  // {result=hit|miss}
  prometheus::Gauge& persons;                                 // store records (RocksDB estimate)
  prometheus::Gauge& institutions;
  prometheus::Gauge& insured;  // insured persons with a suspension record (the filter's size)
  prometheus::Gauge& hot_tier_bytes;
  prometheus::Counter& committed;
  prometheus::Counter& aborted;
  prometheus::Counter& stalls;  // episodes of batches aborting without progress (GateService)
  prometheus::Counter& status_records;
  prometheus::Histogram& owner_wait;  // seconds a batch waited for the code owners' answers
};

// The code owner's (code_owner.h), in processes that run one.
struct CodeOwnerMetrics {
  explicit CodeOwnerMetrics(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& requests;  // {kind}: requests applied, once committed
  prometheus::Counter& duplicates;                    // checks answered with another claim
  prometheus::Counter& settled;                       // codes settled
};

// The operations endpoint's (http_server.h); every process that serves HTTP has them.
struct HttpMetrics {
  explicit HttpMetrics(prometheus::Registry& registry);

  // {reason}: connections closed unanswered or with a bare 408/431/503 (http_listener.h HttpDrop).
  prometheus::Family<prometheus::Counter>& dropped;
  prometheus::Family<prometheus::Counter>& status_requests;  // {code}: status query answers
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_GATE_METRICS_H_
