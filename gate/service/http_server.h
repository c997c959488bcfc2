// The operations endpoint: /metrics (Prometheus text exposition of the registry), /livez (the
// process answers; never depends on Kafka), /readyz (200 once every service of the process is
// caught up, else 503), open to anyone; and the status query, personal data, off unless a
// credential is configured. Requests are parsed and routed by cpp-httplib (Debian's
// libcpp-httplib-dev) over our own connection layer (http_listener.h), which bounds what slow,
// idle or flooding clients can hold and keeps the probes answering under such abuse. Edge code:
// its own threads; it reads the registry, an atomic readiness flag and the thread-safe status
// reader.
#ifndef CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_
#define CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_listener.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"
#include "proto/claimgate/v1/status.pb.h"

namespace claimgate::gate {

// GET /v1/persons/{id}/status?at=RFC3339: the published status (status_api.h). Off (404 saying
// why) unless a credential is configured: `token`, or client certificates (HttpOptions::tls
// client_ca_file); with both, a request needs both. Without `read`, the path answers 404.
struct StatusEndpoint {
  // Thread-safe: called from the server's threads. NotFound for an unknown person.
  std::function<absl::StatusOr<v1::PersonStatus>(absl::string_view person_id)> read;
  std::function<absl::Time()> now;  // `at` when the request gives none
  std::string token;                // non-empty: requests need "Authorization: Bearer <token>"
};

struct HttpOptions {
  HttpLimits limits;
  HttpTls tls;
  // The status query's rate limit per client address (a token bucket); beyond it 429.
  double status_rate_per_second = 5;
  double status_burst = 20;
  int status_rate_clients = 4096;  // buckets kept
  // The startup line about the status query and its access log (one line a request: method, path
  // template, code, client address, latency; never the person id). Null: none. Must outlive the
  // server.
  std::ostream* log = nullptr;
  HttpMetrics* metrics = nullptr;  // null: not counted. Must outlive the server.
  // Collected for /metrics after the registry (series computed when scraped). Must outlive the
  // server.
  std::vector<const prometheus::Collectable*> collectables;
};

class HttpServer {
 public:
  // Listens on "HOST:PORT" (port 0: any free port, see port()). `registry` and `ready` must
  // outlive the server. InvalidArgument for a bad address or TLS settings (naming the file or
  // key), Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address,
                                                           prometheus::Registry* registry,
                                                           const std::atomic<bool>* ready,
                                                           StatusEndpoint status = {},
                                                           HttpOptions options = {});
  ~HttpServer();  // stops listening, closes every connection and joins the threads
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return listener_->port(); }

 private:
  class Router;
  HttpServer() = default;

  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpListener> listener_;  // after router_: stops first
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_
