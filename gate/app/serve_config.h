// The configuration of `claimgate serve`: its YAML file, the flags that override it, the ranges of
// the settings, and the topics it creates. Values only: no Kafka client, no service runs here
// (serve.h wires the process).
#ifndef CLAIMGATE_GATE_APP_SERVE_CONFIG_H_
#define CLAIMGATE_GATE_APP_SERVE_CONFIG_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gate/service/gate_service.h"
#include "gate/service/http_server.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/topics.h"
#include "ledger/service/ledger_service.h"

namespace claimgate::gate {

struct ServeOptions {
  ServeOptions() { gate.duplicate_codes = true; }
  // all: ledger, gate and code owner; ledger; gate: gate and code owner; codes: code owner only.
  std::string role = "all";
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
//   topics:   {ledger_events, claims, person_status, institution_status, insured_status,
//              decisions, audit, notices, dlq, code_checks, code_results}
//                                               the keys of kafka::TopicTable()
//   profile, mode (enforce|shadow), create_topics, claims_partitions, status_partitions
//   gate:     {group_id, transactional_id, staleness_seconds, hot_tier_bytes, block_cache_bytes,
//              write_buffer_bytes, max_batch, max_claim_bytes, duplicate_codes,
//              owner_timeout_seconds, batch_linger_ms}
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

// The command line of `claimgate serve` (serve_command.cc declares the flags and their help).
struct ServeFlags {
  ServeOptions options;  // --role and --http-address are written here; the file keeps --role
  std::string bootstrap;
  std::string state_dir = "claimgate-state";
  std::string config_path;
  std::string input_format = "protobuf";
  std::string output_format = "protobuf";
  std::string profile = "national";
  std::string mode = "enforce";
  std::string instance = "0";
  bool no_create_topics = false;
  std::string http_token_file;
  std::string http_token_env;  // the value of CLAIMGATE_HTTP_TOKEN; empty when unset
  // Of --profile, --mode, --instance and --http-token-file, those given: they win over the file.
  std::set<std::string> given;
};

// The options of a run. Precedence: flags given on the command line, then the configuration file,
// then defaults; the stores' paths under the state directory. Not yet validated (the state
// directory is made first; then ValidateServeOptions). LoadServeConfig's error for a bad file.
absl::StatusOr<ServeOptions> ApplyServeFlags(const ServeFlags& flags);

// The SPEC §2 topics as `serve` creates them: the table of ledger/kafka/topics.h, with the names
// and partition counts of `options`.
std::vector<kafka::TopicSpec> ServeTopicSpecs(const ServeOptions& options);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_APP_SERVE_CONFIG_H_
