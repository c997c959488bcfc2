#include "gate/service/http_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cmath>
#include <iterator>
#include <optional>
#include <regex>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gate/json/json_writer.h"
#include "gate/service/status_api.h"
#include "httplib.h"
#include "ledger/calendar.h"
#include "prometheus/text_serializer.h"

namespace claimgate::gate {
namespace {

constexpr char kStatusPattern[] = R"(/v1/persons/([^/]+)/status)";

// When the request this thread is answering started: for the access log's latency. A lane's
// thread answers one request at a time, from Answer() to the logger, without leaving the thread.
thread_local absl::Time request_start;

void Error(httplib::Response& res, int code, absl::string_view message) {
  res.status = code;
  res.set_content(JsonText({{"error", std::string(message)}}), "application/json");
}

// The startup line's words: whether the status query is on, and when it is off, why.
std::string StatusQueryState(bool token, bool certificates) {
  if (token && certificates) return "on: a client certificate and a bearer token are required";
  if (certificates) return "on: a client certificate is required";
  if (token) return "on: a bearer token is required";
  return "off: no credential is configured (http.token_file, --http-token-file or "
         "CLAIMGATE_HTTP_TOKEN for a bearer token; http.client_ca_file for client certificates)";
}

}  // namespace

// cpp-httplib's parser, router and writer, driven one request at a time by the listener's lanes
// (process_request() is protected: this subclass is how it is reached; Server's own listening
// and thread pool are never used).
class HttpServer::Router : public httplib::Server {
 public:
  Router(prometheus::Registry* registry, const std::atomic<bool>* ready, StatusEndpoint status,
         const HttpOptions& options)
      : status_(std::move(status)),
        limiter_(options.status_rate_per_second, options.status_burst,
                 static_cast<size_t>(std::max(1, options.status_rate_clients))),
        client_certificates_(!options.tls.client_ca_file.empty()),
        max_body_bytes_(options.limits.max_body_bytes),
        log_(options.log),
        metrics_(options.metrics),
        collectables_(options.collectables),
        status_path_(kStatusPattern) {
    if (!status_.token.empty()) token_.emplace(status_.token);
    status_.token.clear();  // held as a digest only
    Routes(registry, ready);
  }

  // Reads one request from `stream`, answers it and asks the client to close.
  void Answer(httplib::Stream& stream, const SSL* tls) {
    request_start = absl::Now();
    bool closed = true;
    process_request(stream, /*close_connection=*/true, closed,
                    [tls](httplib::Request& req) { req.ssl = tls; });
  }

  bool token() const { return token_.has_value(); }
  bool enabled() const { return token_.has_value() || client_certificates_; }

 private:
  void Routes(prometheus::Registry* registry, const std::atomic<bool>* ready);
  void Status(const httplib::Request& req, httplib::Response& res);
  bool RefuseBody(const httplib::Request& req, httplib::Response& res) const;
  void AccessLog(const httplib::Request& req, const httplib::Response& res);

  StatusEndpoint status_;
  std::optional<BearerToken> token_;
  RateLimiter limiter_;
  const bool client_certificates_;
  const int max_body_bytes_;
  std::ostream* const log_;
  HttpMetrics* const metrics_;
  const std::vector<const prometheus::Collectable*> collectables_;
  const std::regex status_path_;
  absl::Mutex log_mu_;  // one access line at a time
};

void HttpServer::Router::Routes(prometheus::Registry* registry, const std::atomic<bool>* ready) {
  set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return RefuseBody(req, res) ? HandlerResponse::Handled : HandlerResponse::Unhandled;
  });
  set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (std::regex_match(req.path, status_path_)) AccessLog(req, res);
  });
  Get("/metrics", [this, registry](const httplib::Request&, httplib::Response& res) {
    std::vector<prometheus::MetricFamily> families = registry->Collect();
    for (const prometheus::Collectable* c : collectables_) {
      std::vector<prometheus::MetricFamily> more = c->Collect();
      std::move(more.begin(), more.end(), std::back_inserter(families));
    }
    res.set_content(prometheus::TextSerializer().Serialize(families),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  Get("/livez", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  Get("/readyz", [ready](const httplib::Request&, httplib::Response& res) {
    const bool r = ready->load();
    res.status = r ? 200 : 503;
    res.set_content(r ? "ready\n" : "not ready: catching up\n", "text/plain");
  });
  Get(kStatusPattern,
      [this](const httplib::Request& req, httplib::Response& res) { Status(req, res); });
}

// The endpoint takes no request bodies: 413 before any is read (cpp-httplib would read one whole
// into memory).
bool HttpServer::Router::RefuseBody(const httplib::Request& req, httplib::Response& res) const {
  int64_t length = 0;
  const bool chunked = req.has_header("Transfer-Encoding");
  if (!chunked && (!req.has_header("Content-Length") ||
                   (absl::SimpleAtoi(req.get_header_value("Content-Length"), &length) &&
                    length >= 0 && length <= max_body_bytes_))) {
    return false;
  }
  Error(res, 413, absl::StrCat("request bodies over ", max_body_bytes_, " bytes are refused"));
  return true;
}

// The order is the point: off, rate, credential, and only then the id, the time and the lookup,
// so that nothing about a person reaches a client without a credential.
void HttpServer::Router::Status(const httplib::Request& req, httplib::Response& res) {
  if (!enabled()) {
    return Error(res, 404,
                 "the status query is off: no credential is configured (http.token_file or "
                 "http.client_ca_file)");
  }
  absl::Duration wait;
  if (!limiter_.Admit(req.remote_addr, absl::Now(), &wait)) {
    res.set_header("Retry-After", std::to_string(static_cast<int64_t>(
                                      std::ceil(absl::ToDoubleSeconds(wait)))));
    return Error(res, 429, "too many requests from this address");
  }
  if (client_certificates_ &&
      (req.ssl == nullptr || SSL_get0_peer_certificate(req.ssl) == nullptr ||
       SSL_get_verify_result(req.ssl) != X509_V_OK)) {
    return Error(res, 401, "a client certificate is required");
  }
  if (token_.has_value() && !token_->Matches(req.get_header_value("Authorization"))) {
    res.set_header("WWW-Authenticate", "Bearer");
    return Error(res, 401, "a bearer token is required");
  }
  if (!status_.read) return Error(res, 404, "this process has no status store (role ledger)");
  const std::string id = req.matches[1];
  if (!ValidPersonId(id))
    return Error(res, 400, "bad person id: 1-64 characters of [A-Za-z0-9._:-]");
  absl::Time at = status_.now ? status_.now() : absl::Now();
  if (req.has_param("at")) {
    std::string value = req.get_param_value("at");
    // `?at=2025-03-20T10:30:00+08:00` as typed: a query decodes '+' to a space, and an RFC 3339
    // time has no space, so a space before the offset is read as the '+' it was.
    if (const size_t space = value.rfind(' '); space != std::string::npos && space >= 19)
      value[space] = '+';
    absl::StatusOr<absl::Time> t = ledger::ParseRfc3339(value);
    if (!t.ok()) return Error(res, 400, "bad 'at': expected an RFC 3339 time");
    at = *t;
  }
  absl::StatusOr<v1::PersonStatus> person = status_.read(id);
  if (absl::IsNotFound(person.status())) return Error(res, 404, "no such person");
  if (!person.ok()) return Error(res, 503, "the status store cannot be read");
  res.set_content(PersonStatusJson(*person, at), "application/json");
}

// Info level: the path template, never the person id (personal data).
void HttpServer::Router::AccessLog(const httplib::Request& req, const httplib::Response& res) {
  if (metrics_ != nullptr)
    metrics_->status_requests.Add({{"code", std::to_string(res.status)}}).Increment();
  if (log_ == nullptr) return;
  const std::string line = absl::StrFormat(
      "claimgate http: %s /v1/persons/{id}/status %d client=%s latency_ms=%.3f\n", req.method,
      res.status, req.remote_addr, absl::ToDoubleMilliseconds(absl::Now() - request_start));
  absl::MutexLock lock(&log_mu_);
  *log_ << line << std::flush;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address,
                                                              prometheus::Registry* registry,
                                                              const std::atomic<bool>* ready,
                                                              StatusEndpoint status,
                                                              HttpOptions options) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http-address ", address, ": expected HOST:PORT"));
  }
  const HttpTls& tls = options.tls;
  if (tls.cert_file.empty() != tls.key_file.empty())
    return absl::InvalidArgumentError("http.tls_cert_file and http.tls_key_file go together");
  if (!tls.client_ca_file.empty() && tls.cert_file.empty())
    return absl::InvalidArgumentError("http.client_ca_file needs http.tls_cert_file");
  const bool has_store = static_cast<bool>(status.read);
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->router_ = std::make_unique<Router>(registry, ready, std::move(status), options);
  HttpMetrics* metrics = options.metrics;
  auto listener = HttpListener::Start(
      address.substr(0, colon), port, options.limits, tls,
      [router = s->router_.get()](httplib::Stream& request, const SSL* ssl) {
        router->Answer(request, ssl);
      },
      [metrics](HttpDrop why) {
        if (metrics != nullptr) metrics->dropped.Add({{"reason", HttpDropName(why)}}).Increment();
      });
  if (absl::IsInvalidArgument(listener.status())) return listener.status();  // TLS settings
  if (!listener.ok()) {
    return absl::Status(listener.status().code(), absl::StrCat("--http-address ", address, ": ",
                                                               listener.status().message()));
  }
  s->listener_ = std::move(*listener);
  if (options.log != nullptr && has_store) {
    *options.log << "claimgate: GET /v1/persons/{id}/status is "
                 << StatusQueryState(s->router_->token(), !tls.client_ca_file.empty()) << "\n";
  }
  return s;
}

HttpServer::~HttpServer() = default;

}  // namespace claimgate::gate
