// The operations endpoint (cpp-httplib, Debian's libcpp-httplib-dev): /metrics (Prometheus text
// exposition of the registry), /livez (the process answers; never depends on Kafka), /readyz (200
// once every service of the process is caught up, else 503). Edge code: its own threads; it reads
// only the registry and an atomic readiness flag.
#ifndef CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_
#define CLAIMGATE_GATE_SERVICE_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace httplib {
class Server;
}

namespace claimgate::gate {

class HttpServer {
 public:
  // Listens on "HOST:PORT" (port 0: any free port, see port()). `registry` and `ready` must
  // outlive the server. InvalidArgument for a bad address, Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address,
                                                           prometheus::Registry* registry,
                                                           const std::atomic<bool>* ready);
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
