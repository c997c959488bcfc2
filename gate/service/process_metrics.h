// The standard process_* series other Prometheus-instrumented servers export (client_golang's and
// client_python's names): CPU seconds, resident and virtual memory, open and maximum file
// descriptors, start time. Read from /proc/self when scraped (Linux).
#ifndef CLAIMGATE_GATE_SERVICE_PROCESS_METRICS_H_
#define CLAIMGATE_GATE_SERVICE_PROCESS_METRICS_H_

#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace claimgate::gate {

class ProcessMetrics : public prometheus::Collectable {
 public:
  // The series it can read; none when /proc is not there.
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_PROCESS_METRICS_H_
