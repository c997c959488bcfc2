// `claimgate serve` and the embedded `claimgate demo`: the wiring of the ledger and gate services,
// their metrics and HTTP endpoint, and their lifecycle. Edge code only; the configuration is
// serve_config.h.
#ifndef CLAIMGATE_GATE_APP_SERVE_H_
#define CLAIMGATE_GATE_APP_SERVE_H_

#include <atomic>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "gate/app/serve_config.h"
#include "ledger/profile.h"

namespace claimgate::gate {

// Creates missing topics (SPEC §2; status topics compacted), then runs the configured roles until
// `stop` is set. Returns the first service error, its message prefixed with the service ("gate
// service: ..."), after logging it to `log` (the process exits non-zero for its supervisor).
absl::Status RunServe(const ServeOptions& options, const ledger::ProfileSet& profiles,
                      const std::atomic<bool>& stop, std::ostream& log);

struct DemoOptions {
  int64_t persons = 5000;
  int64_t claims = 20000;
  int duration_seconds = 120;  // upper bound on each phase: the ledger's, then the claims'
  // Empty: no HTTP endpoint. Not serve's 9464 (and compose's 9465, 9466): a demo beside a running
  // serve. When the port is taken, any free one.
  std::string http_address = "127.0.0.1:9467";
  // After the report, keep the HTTP endpoint (its /metrics) up until `stop` is set, so that
  // Prometheus can scrape the result.
  bool linger = false;
};

// The embedded default: an in-process mock cluster, a synthetic population (ledger events) and
// claim stream, the ledger and gate services, a progress line a second in each phase, and a
// summary table. `stop` (set by a signal) ends it early: Cancelled.
absl::Status RunDemo(const DemoOptions& options, const ledger::ProfileSet& profiles,
                     const std::atomic<bool>& stop, std::ostream& out);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_APP_SERVE_H_
