// The connection layer under the operations endpoint (http_server.h). One poll loop accepts every
// connection and reads its request head without holding a thread, under deadlines and size
// bounds; only a complete head reaches a worker, in one of three lanes (/livez and /readyz,
// /metrics, everything else), each with its own threads and a bounded queue. So slow, idle or
// flooding clients cost a file descriptor and a bounded buffer each, never the thread that answers
// /livez (cpp-httplib's own server gives each connection a worker from one pool with an unbounded
// queue, for as long as the client takes). Optional TLS (OpenSSL) with optional client
// certificates. One request per connection: every answer closes it. Private to gate/service.
#ifndef CLAIMGATE_GATE_SERVICE_HTTP_LISTENER_H_
#define CLAIMGATE_GATE_SERVICE_HTTP_LISTENER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "httplib.h"

namespace claimgate::gate {

// What one client can make the endpoint hold (docs/operations.md "The HTTP endpoint under abuse").
struct HttpLimits {
  // Open connections. At the bound a new connection evicts the oldest one still sending its
  // request head; when every one is already being answered, the new one is closed.
  int max_connections = 128;
  absl::Duration idle_timeout = absl::Seconds(5);    // silence while a request arrives
  absl::Duration read_timeout = absl::Seconds(10);   // accept to whole request (TLS, head, body)
  absl::Duration write_timeout = absl::Seconds(10);  // the whole answer
  int max_header_bytes = 16 << 10;                   // request line and headers: 431 beyond
  int max_headers = 64;                              // header lines: 431 beyond
  int max_body_bytes = 0;  // the endpoint takes no bodies: 413 beyond (Content-Length or chunked)
  int workers = 4;         // threads for the status query and unknown paths
  int max_queued = 64;     // complete requests waiting for a thread of a lane: 503 beyond
};

// TLS on the listener. Empty cert_file: plain HTTP.
struct HttpTls {
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
  // PEM CA certificates: clients are asked for a certificate, and one they present must be signed
  // by these. Presenting none is allowed at the handshake (probes have none); the status query
  // then refuses the request (http_server.h).
  std::string client_ca_file;
};

// Why the listener closed a connection without a handler's answer (the metric label).
enum class HttpDrop {
  kConnectionLimit,  // at max_connections with nothing to evict
  kEvicted,          // the oldest unfinished request, at max_connections
  kIdleTimeout,      // 408
  kReadTimeout,      // 408
  kHeadTooLarge,     // 431
  kTooManyHeaders,   // 431
  kBusy,             // the lane's queue was full: 503
  kTls,              // the TLS handshake failed
  kAcceptFailed,     // accept(): out of file descriptors
};
const char* HttpDropName(HttpDrop drop);
inline constexpr HttpDrop kHttpDrops[] = {
    HttpDrop::kConnectionLimit, HttpDrop::kEvicted,        HttpDrop::kIdleTimeout,
    HttpDrop::kReadTimeout,     HttpDrop::kHeadTooLarge,   HttpDrop::kTooManyHeaders,
    HttpDrop::kBusy,            HttpDrop::kTls,            HttpDrop::kAcceptFailed};

class HttpListener {
 public:
  // Reads the request from `request` (a stream over the connection whose head has arrived) and
  // writes the answer; `tls` is the connection's TLS state, null for plain HTTP. Called on a lane's
  // thread; must be thread-safe.
  using Handler = std::function<void(httplib::Stream& request, const SSL* tls)>;
  // Called for each dropped connection, on the poll loop's thread.
  using DropCounter = std::function<void(HttpDrop)>;

  // Binds `host`:`port` (0: any free port) and starts the poll loop and the lanes.
  // InvalidArgument for TLS files it cannot load (naming the file), Unavailable when it cannot
  // bind.
  static absl::StatusOr<std::unique_ptr<HttpListener>> Start(const std::string& host, int port,
                                                             const HttpLimits& limits,
                                                             const HttpTls& tls, Handler handler,
                                                             DropCounter drops);
  ~HttpListener();  // stops accepting, closes every connection, joins every thread
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const { return port_; }

 private:
  struct Connection;
  class Lane;
  HttpListener() = default;

  void Loop();
  void Accept(absl::Time now);
  void Progress(std::unique_ptr<Connection>& c, absl::Time now);
  void Dispatch(std::unique_ptr<Connection>& c, size_t head_end);
  void Refuse(std::unique_ptr<Connection>& c, int code, HttpDrop why);
  void Serve(std::unique_ptr<Connection> c);

  HttpLimits limits_;
  Handler handler_;
  DropCounter drops_;
  SSL_CTX* tls_ = nullptr;  // owned; null: plain HTTP
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: the destructor wakes the poll loop
  int port_ = 0;
  std::atomic<bool> stopping_ = false;
  absl::Time accept_paused_until_ = absl::InfinitePast();
  // Connections still sending their head; the poll loop's thread only.
  std::vector<std::unique_ptr<Connection>> reading_;
  std::atomic<int> in_lanes_ = 0;  // connections queued or being answered
  std::unique_ptr<Lane> probes_, metrics_, api_;
  std::thread loop_;
};

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_SERVICE_HTTP_LISTENER_H_
