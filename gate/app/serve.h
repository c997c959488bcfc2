// `claimgate serve` and the embedded `claimgate demo`: wiring of the ledger and gate services,
// their configuration file, and the signal-driven lifecycle. Edge code only.
#ifndef CLAIMGATE_GATE_APP_SERVE_H_
#define CLAIMGATE_GATE_APP_SERVE_H_

#include <atomic>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gate/service/gate_service.h"
#include "gate/service/http_server.h"
#include "ledger/service/ledger_service.h"

namespace claimgate::gate {

struct ServeOptions {
  std::string role = "all";  // all | ledger | gate
  bool create_topics = true;
  int claims_partitions = 3;
  int status_partitions = 3;
  // The process's state directory (the stores are under it); bound to the cluster and topics it
  // was built from (state_binding.h). Empty: no binding (the stores' paths are set directly).
  std::string state_dir;
  ledger::LedgerServiceOptions ledger;
  GateServiceOptions gate;
  // /metrics, /livez, /readyz (http_server.h); empty: no HTTP endpoint.
  std::string http_address = "127.0.0.1:9464";
  // The status query's bearer token (http_server.h). From a file of its own, a mounted secret
  // (config `http.token_file`, --http-token-file); or, kept for existing setups, the value itself
  // (env CLAIMGATE_HTTP_TOKEN, config `http.token`, which logs a warning: whoever reads the
  // configuration reads the token). No token and no client CA: the status query is off.
  std::string http_token_file;
  std::string http_token;
  std::string http_token_source;  // "CLAIMGATE_HTTP_TOKEN" or "http.token": for the messages
  // The rest of the `http:` section: limits, TLS, the status query's rate (http_server.h).
  HttpOptions http;
};

// Reads the YAML configuration file into `options` (keys not in the file keep their values).
// clang-format off
//   kafka:    {<librdkafka property>: <value>, ...}   passed through verbatim (SASL, TLS, ...)
//             except those the runtime owns (transactional.id, group.id, isolation.level, ...)
//   topics:   {ledger_events, claims, person_status, institution_status, decisions, audit,
//              notices, dlq}
//   profile, mode (enforce|shadow), create_topics, claims_partitions, status_partitions
//   gate:     {group_id, transactional_id, staleness_seconds, hot_tier_bytes, block_cache_bytes,
//              write_buffer_bytes, max_batch, max_claim_bytes}
//   ledger:   {group_id, transactional_id, max_batch}
//   http:     {token_file, token, tls_cert_file, tls_key_file, client_ca_file, max_connections,
//              workers, idle_timeout_seconds, read_timeout_seconds, write_timeout_seconds,
//              max_header_bytes, status_rate_per_second, status_burst}
// clang-format on
// InvalidArgument naming the key for an unknown key or anything it cannot read.
// Type errors, values out of range and the librdkafka properties the runtime owns (exactly-once
// depends on them) are refused the same way.
absl::Status LoadServeConfig(const std::string& path, ServeOptions* options);

// The settings' ranges (partitions and batches from 1, staleness from 1 s, legal and distinct topic
// names, non-empty and distinct group and transactional ids): InvalidArgument naming the config
// key. LoadServeConfig applies it; `serve` again once its flags are applied.
absl::Status ValidateServeOptions(const ServeOptions& options);

// Creates missing topics (SPEC §2; status topics compacted), then runs the configured roles until
// `stop` is set. Returns the first service error, its message prefixed with the service ("gate
// service: ..."), after logging it to `log` (the process exits non-zero for its supervisor).
absl::Status RunServe(const ServeOptions& options, const ledger::ProfileSet& profiles,
                      const std::atomic<bool>& stop, std::ostream& log);

struct DemoOptions {
  int64_t persons = 5000;
  int64_t claims = 20000;
  int duration_seconds = 120;                   // upper bound on the claim phase
  std::string http_address = "127.0.0.1:9464";  // empty: no HTTP endpoint
};

// The embedded default: an in-process mock cluster, a synthetic population (ledger events) and
// claim stream, the ledger and gate services, a progress line a second, and a summary table.
absl::Status RunDemo(const DemoOptions& options, const ledger::ProfileSet& profiles,
                     std::ostream& out);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_APP_SERVE_H_
