// The ledger service's Prometheus metrics, declared here and nowhere else (names in
// deploy/metrics.txt; no person, claim or insured ids as labels). Counters carry `_total` in their
// names: prometheus-cpp 1.0 does not add it.
#ifndef CLAIMGATE_LEDGER_SERVICE_LEDGER_METRICS_H_
#define CLAIMGATE_LEDGER_SERVICE_LEDGER_METRICS_H_

#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace claimgate::ledger {

// Families both services register (same name, help and labels: prometheus-cpp merges them).
prometheus::Family<prometheus::Gauge>& ReadyFamily(prometheus::Registry& registry);
prometheus::Family<prometheus::Counter>& TransactionsFamily(prometheus::Registry& registry);
// claimgate_build_info{version} 1.
void RegisterBuildInfo(prometheus::Registry& registry, const std::string& version);

struct LedgerMetrics {
  explicit LedgerMetrics(prometheus::Registry& registry);

  prometheus::Family<prometheus::Counter>& events_applied;  // {type}: the event body's name
  prometheus::Family<prometheus::Counter>& refusals;        // {code}
  prometheus::Counter& committed;
  prometheus::Counter& aborted;
  prometheus::Gauge& ready;
  prometheus::Gauge& position;  // ledger events applied (the next ledger-events offset)
  prometheus::Family<prometheus::Gauge>& persons;           // {state}
  prometheus::Family<prometheus::Gauge>& restricted_ratio;  // {institution_kind, state}
};

}  // namespace claimgate::ledger

#endif  // CLAIMGATE_LEDGER_SERVICE_LEDGER_METRICS_H_
