// The operations endpoint (cpp-httplib, Debian's libcpp-httplib-dev): /metrics (Prometheus text
// exposition of the registry), /livez (the process answers; never depends on Kafka), /readyz (200
// once every service of the process is caught up, else 503), and the status query. Edge code: its
// own threads; it reads the registry, an atomic readiness flag and the thread-safe status reader.
#ifndef CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_
#define CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prometheus/registry.h"
#include "proto/claimgate/v1/status.pb.h"

namespace httplib {
class Server;
}

namespace claimgate::gate {

// GET /v1/persons/{id}/status?at=RFC3339: the published status (status_api.h). Without `read`, the
// path answers 404.
struct StatusEndpoint {
  // Thread-safe: called from the server's threads. NotFound for an unknown person.
  std::function<absl::StatusOr<v1::PersonStatus>(absl::string_view person_id)> read;
  std::function<absl::Time()> now;  // `at` when the request gives none
  std::string token;                // non-empty: requests need "Authorization: Bearer <token>"
};

class HttpServer {
 public:
  // Listens on "HOST:PORT" (port 0: any free port, see port()). `registry` and `ready` must
  // outlive the server. InvalidArgument for a bad address, Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address,
                                                           prometheus::Registry* registry,
                                                           const std::atomic<bool>* ready,
                                                           StatusEndpoint status = {});
  ~HttpServer();  // stops listening and joins the thread

  int port() const { return port_; }

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_
