// Binds a state directory to the Kafka cluster and topics it was built from. A ledger store holds
// the events it applied by offset, a gate's status store the status records and the offsets it
// read: both are copies of one cluster's topics. Started against another cluster (a new mock-broker, a
// rebuilt cluster) they would pass for current and decide wrongly, so `serve` refuses instead.
#ifndef CLAIMGATE_GATE_SERVICE_STATE_BINDING_H_
#define CLAIMGATE_GATE_SERVICE_STATE_BINDING_H_

#include <atomic>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/topics.h"

namespace claimgate::gate {

// What a state directory was built from.
struct StateIdentity {
  std::string cluster_id;
  kafka::Topics topics;
};

// The binding file's text: "cluster_id=...\ntopics.claims=...\n...", one key a line.
std::string RenderStateIdentity(const StateIdentity& identity);

// The binding file of `state_dir`.
std::string StateBindingPath(const std::string& state_dir);

// Checks `state_dir` (created when missing) against `identity`:
// - no binding file yet: writes one (atomically: a temporary file, fsync, rename) and returns Ok,
//   logging one line when the directory already held state of an earlier version;
// - a binding equal to `identity`: Ok;
// - a different one: FailedPrecondition naming what differs and how to reset (docs/operations.md);
// - a binding file that cannot be read or parsed: DataLoss.
absl::Status BindStateDirectory(const std::string& state_dir, const StateIdentity& identity,
                                std::ostream& log);

// The cluster id, asked every second until a broker answers; Cancelled once `stop` is set.
absl::StatusOr<std::string> WaitForClusterId(const kafka::ClientConfig& config,
                                             const std::atomic<bool>& stop, std::ostream& log);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_STATE_BINDING_H_
