#include "gate/service/http_server.h"

#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gate/service/status_api.h"
#include "httplib.h"
#include "ledger/calendar.h"
#include "prometheus/text_serializer.h"

namespace claimgate::gate {

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address,
                                                              prometheus::Registry* registry,
                                                              const std::atomic<bool>* ready,
                                                              StatusEndpoint status) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-address ", address, ": expected HOST:PORT"));
  }
  const std::string host = address.substr(0, colon);
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->server_ = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, which would let a second
  // process bind the same address silently.
  s->server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s->server_->Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus::TextSerializer().Serialize(registry->Collect()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  s->server_->Get("/livez", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  s->server_->Get("/readyz", [ready](const httplib::Request&, httplib::Response& res) {
    const bool r = ready->load();
    res.status = r ? 200 : 503;
    res.set_content(r ? "ready\n" : "not ready: catching up\n", "text/plain");
  });
  s->server_->Get(
      R"(/v1/persons/([^/]+)/status)",
      [status = std::move(status)](const httplib::Request& req, httplib::Response& res) {
        auto error = [&res](int code, absl::string_view message) {
          res.status = code;
          res.set_content(absl::StrCat("{\"error\":\"", message, "\"}"), "application/json");
        };
        if (!status.token.empty() &&
            req.get_header_value("Authorization") != absl::StrCat("Bearer ", status.token)) {
          res.set_header("WWW-Authenticate", "Bearer");
          return error(401, "a bearer token is required");
        }
        if (!status.read) return error(404, "this process has no status store (role ledger)");
        const std::string id = req.matches[1];
        if (!ValidPersonId(id))
          return error(400, "bad person id: 1-64 characters of [A-Za-z0-9._:-]");
        absl::Time at = status.now ? status.now() : absl::Now();
        if (req.has_param("at")) {
          absl::StatusOr<absl::Time> t = ledger::ParseRfc3339(req.get_param_value("at"));
          if (!t.ok()) return error(400, "bad 'at': expected an RFC 3339 time");
          at = *t;
        }
        absl::StatusOr<v1::PersonStatus> person = status.read(id);
        if (absl::IsNotFound(person.status())) return error(404, "no such person");
        if (!person.ok()) return error(503, "the status store cannot be read");
        res.set_content(PersonStatusJson(*person, at), "application/json");
      });
  if (port == 0) {
    s->port_ = s->server_->bind_to_any_port(host);
  } else if (s->server_->bind_to_port(host, port)) {
    s->port_ = port;
  } else {
    s->port_ = -1;
  }
  if (s->port_ < 0)
    return absl::UnavailableError(absl::StrCat("--http-address ", address, ": cannot bind"));
  s->thread_ = std::thread([server = s->server_.get()] { server->listen_after_bind(); });
  // Return once it listens: stop() before that would be lost, and the destructor would wait
  // forever.
  for (int waited_ms = 0; !s->server_->is_running(); ++waited_ms) {
    if (waited_ms >= 5000) {
      s->server_->stop();
      s->thread_.join();
      return absl::UnavailableError(absl::StrCat("--http-address ", address, ": not listening"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return s;
}

HttpServer::~HttpServer() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace claimgate::gate
