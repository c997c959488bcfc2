#include "gate/service/http_listener.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace claimgate::gate {

struct HttpListener::Connection {
  int fd = -1;
  SSL* ssl = nullptr;  // owned
  bool handshaken = false;
  std::string buffer;  // what has arrived: the head, perhaps the start of a body
  size_t scanned = 0;  // buffer[0, scanned) holds no complete head
  absl::Time accepted, last_byte;
  std::string remote_ip, local_ip;
  int remote_port = 0, local_port = 0;
  short events = POLLIN;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (ssl != nullptr) {
      SSL_shutdown(ssl);  // one attempt: a close_notify, never a wait for the peer's
      SSL_free(ssl);
    }
    if (fd >= 0) close(fd);
  }
};

namespace {

enum class Io { kDone, kWantRead, kWantWrite, kClosed };

Io SslResult(SSL* ssl, int r) {
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    default:
      return Io::kClosed;
  }
}

// One non-blocking read of at most `n` bytes into `p` (the count in `*got`).
Io ReadSome(int fd, SSL* ssl, char* p, size_t n, size_t* got) {
  *got = 0;
  if (ssl != nullptr) {
    ERR_clear_error();
    const int r = SSL_read(ssl, p, static_cast<int>(std::min<size_t>(n, 1 << 20)));
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return Io::kDone;
    }
    return SslResult(ssl, r);
  }
  for (;;) {
    const ssize_t r = recv(fd, p, n, 0);
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return Io::kDone;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::kWantRead;
    return Io::kClosed;
  }
}

// One non-blocking write of at most `n` bytes from `p` (the count in `*put`).
Io WriteSome(int fd, SSL* ssl, const char* p, size_t n, size_t* put) {
  *put = 0;
  if (ssl != nullptr) {
    ERR_clear_error();
    const int r = SSL_write(ssl, p, static_cast<int>(std::min<size_t>(n, 1 << 20)));
    if (r > 0) {
      *put = static_cast<size_t>(r);
      return Io::kDone;
    }
    return SslResult(ssl, r);
  }
  for (;;) {
    const ssize_t r = send(fd, p, n, MSG_NOSIGNAL);
    if (r >= 0) {
      *put = static_cast<size_t>(r);
      return Io::kDone;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWantWrite;
    return Io::kClosed;
  }
}

// Waits until `fd` is ready for `events` or `deadline` passes; true when ready.
bool WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(ms, 1000)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

// SSL_write() writes to the socket with write(2), which raises SIGPIPE on a connection the peer
// has closed; our threads block it (it stays pending, harmlessly) and see EPIPE instead.
void BlockSigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void Address(const sockaddr_storage& a, std::string* ip, int* port) {
  char text[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text));
    *port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text));
    *port = ntohs(v6->sin6_port);
  }
  *ip = text;
}

std::string OpensslError() {
  char text[256] = {0};
  ERR_error_string_n(ERR_get_error(), text, sizeof(text));
  return text;
}

// The server's TLS context: the certificate and key, and the client CAs when set.
absl::StatusOr<SSL_CTX*> MakeTlsContext(const HttpTls& tls) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + OpensslError());
  auto fail = [ctx](const std::string& what) {
    const std::string message = absl::StrCat(what, ": ", OpensslError());
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(message);
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1)
    return fail("http.tls_cert_file " + tls.cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("http.tls_key_file " + tls.key_file);
  if (SSL_CTX_check_private_key(ctx) != 1)
    return fail("http.tls_key_file " + tls.key_file + " does not match http.tls_cert_file");
  if (!tls.client_ca_file.empty()) {
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr || SSL_CTX_load_verify_locations(ctx, tls.client_ca_file.c_str(),
                                                          nullptr) != 1) {
      if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return fail("http.client_ca_file " + tls.client_ca_file);
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    // Without SSL_VERIFY_FAIL_IF_NO_PEER_CERT: a certificate that is presented must verify, but
    // probes present none; the status query checks that one was (http_server.cc).
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

absl::StatusOr<int> Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(port).c_str(), &hints,
                  &found) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve '", host, "'"));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: SO_REUSEPORT would let a second process bind the same address silently.
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return absl::UnavailableError("cannot bind");
  return fd;
}

// The head's lane: the request line's path without its query.
enum class LaneOf { kProbe, kMetrics, kApi };
LaneOf Classify(absl::string_view head) {
  const absl::string_view line = head.substr(0, head.find("\r\n"));
  const size_t space = line.find(' ');
  if (space == absl::string_view::npos) return LaneOf::kApi;
  absl::string_view target = line.substr(space + 1);
  target = target.substr(0, target.find_first_of(" ?"));
  const absl::string_view method = line.substr(0, space);
  if (method != "GET" && method != "HEAD") return LaneOf::kApi;
  if (target == "/livez" || target == "/readyz") return LaneOf::kProbe;
  if (target == "/metrics") return LaneOf::kMetrics;
  return LaneOf::kApi;
}

// The request of one connection, as the stream cpp-httplib parses and answers on: the bytes the
// poll loop has read first, then the socket, within the request's deadlines and byte budget.
class Exchange : public httplib::Stream {
 public:
  Exchange(int fd, SSL* ssl, std::string* buffer, absl::Time read_deadline,
           absl::Duration write_timeout, size_t budget, const std::string* remote_ip,
           int remote_port, const std::string* local_ip, int local_port)
      : fd_(fd),
        ssl_(ssl),
        buffer_(buffer),
        read_deadline_(read_deadline),
        write_timeout_(write_timeout),
        budget_(budget),
        remote_ip_(remote_ip),
        local_ip_(local_ip),
        remote_port_(remote_port),
        local_port_(local_port) {}

  bool is_readable() const override {
    return consumed_ < buffer_->size() || (ssl_ != nullptr && SSL_pending(ssl_) > 0) ||
           WaitFor(fd_, POLLIN, read_deadline_);
  }
  bool is_writable() const override {
    return WaitFor(fd_, POLLOUT, absl::Now() + write_timeout_);
  }
  ssize_t read(char* p, size_t n) override {
    if (consumed_ < buffer_->size()) {
      const size_t k = std::min(n, buffer_->size() - consumed_);
      std::copy_n(buffer_->data() + consumed_, k, p);
      consumed_ += k;
      return static_cast<ssize_t>(k);
    }
    if (consumed_ >= budget_) return -1;  // more than any request we answer may hold
    n = std::min(n, budget_ - consumed_);
    for (;;) {
      size_t got = 0;
      switch (ReadSome(fd_, ssl_, p, n, &got)) {
        case Io::kDone:
          consumed_ += got;
          return static_cast<ssize_t>(got);
        case Io::kWantRead:
          if (!WaitFor(fd_, POLLIN, read_deadline_)) return -1;
          break;
        case Io::kWantWrite:
          if (!WaitFor(fd_, POLLOUT, read_deadline_)) return -1;
          break;
        case Io::kClosed:
          return 0;
      }
    }
  }
  ssize_t write(const char* p, size_t n) override {
    // One deadline for the whole answer, however slowly the client reads it.
    if (write_deadline_ == absl::InfiniteFuture()) write_deadline_ = absl::Now() + write_timeout_;
    size_t done = 0;
    while (done < n) {
      size_t put = 0;
      switch (WriteSome(fd_, ssl_, p + done, n - done, &put)) {
        case Io::kDone:
          done += put;
          break;
        case Io::kWantWrite:
          if (!WaitFor(fd_, POLLOUT, write_deadline_)) return -1;
          break;
        case Io::kWantRead:
          if (!WaitFor(fd_, POLLIN, write_deadline_)) return -1;
          break;
        case Io::kClosed:
          return -1;
      }
    }
    return static_cast<ssize_t>(n);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = *remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = *local_ip_;
    port = local_port_;
  }
  // cpp-httplib compares this with FD_SETSIZE for its select(), and answers 500 beyond; this
  // stream polls by itself, and a process with a RocksDB store has descriptors past 1024.
  socket_t socket() const override { return 0; }

 private:
  const int fd_;
  SSL* const ssl_;
  const std::string* const buffer_;
  const absl::Time read_deadline_;
  const absl::Duration write_timeout_;
  const size_t budget_;
  const std::string* const remote_ip_;
  const std::string* const local_ip_;
  const int remote_port_, local_port_;
  size_t consumed_ = 0;
  absl::Time write_deadline_ = absl::InfiniteFuture();
};

}  // namespace

// Threads that answer complete requests of one kind, with a bounded queue.
class HttpListener::Lane {
 public:
  Lane(int threads, int max_queued, std::function<void(std::unique_ptr<Connection>)> serve)
      : max_queued_(max_queued), serve_(std::move(serve)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Lane() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
      queue_.clear();  // closes what no thread has taken
    }
    for (std::thread& t : threads_) t.join();
  }
  // Takes `c` unless the queue is full (then `c` is left as it was).
  bool Offer(std::unique_ptr<Connection>& c) {
    absl::MutexLock lock(&mu_);
    if (static_cast<int>(queue_.size()) >= max_queued_) return false;
    queue_.push_back(std::move(c));
    return true;
  }

 private:
  void Run() {
    BlockSigpipe();
    for (;;) {
      std::unique_ptr<Connection> c;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](Lane* l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(l->mu_) {
              return l->stopping_ || !l->queue_.empty();
            },
            this));
        if (stopping_) return;
        c = std::move(queue_.front());
        queue_.pop_front();
      }
      serve_(std::move(c));
    }
  }

  const int max_queued_;
  const std::function<void(std::unique_ptr<Connection>)> serve_;
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Connection>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

const char* HttpDropName(HttpDrop drop) {
  switch (drop) {
    case HttpDrop::kConnectionLimit:
      return "connection_limit";
    case HttpDrop::kEvicted:
      return "evicted";
    case HttpDrop::kIdleTimeout:
      return "idle_timeout";
    case HttpDrop::kReadTimeout:
      return "read_timeout";
    case HttpDrop::kHeadTooLarge:
      return "head_too_large";
    case HttpDrop::kTooManyHeaders:
      return "too_many_headers";
    case HttpDrop::kBusy:
      return "busy";
    case HttpDrop::kTls:
      return "tls_handshake";
    case HttpDrop::kAcceptFailed:
      return "accept_failed";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<HttpListener>> HttpListener::Start(
    const std::string& host, int port, const HttpLimits& limits, const HttpTls& tls,
    Handler handler, DropCounter drops) {
  std::unique_ptr<HttpListener> l(new HttpListener());
  l->limits_ = limits;
  l->handler_ = std::move(handler);
  l->drops_ = std::move(drops);
  if (!tls.cert_file.empty()) {
    absl::StatusOr<SSL_CTX*> ctx = MakeTlsContext(tls);
    if (!ctx.ok()) return ctx.status();
    l->tls_ = *ctx;
  }
  absl::StatusOr<int> fd = Listen(host, port);
  if (!fd.ok()) return fd.status();
  l->listen_fd_ = *fd;
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(l->listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  std::string ip;
  Address(bound, &ip, &l->port_);
  l->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (l->wake_fd_ < 0) return absl::InternalError("eventfd failed");
  auto serve = [raw = l.get()](std::unique_ptr<Connection> c) { raw->Serve(std::move(c)); };
  l->probes_ = std::make_unique<Lane>(1, 16, serve);
  l->metrics_ = std::make_unique<Lane>(1, 8, serve);
  l->api_ = std::make_unique<Lane>(std::max(1, limits.workers), limits.max_queued, serve);
  l->loop_ = std::thread([raw = l.get()] { raw->Loop(); });
  return l;
}

HttpListener::~HttpListener() {
  stopping_ = true;
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  if (loop_.joinable()) loop_.join();
  reading_.clear();
  probes_.reset();  // after the loop: it is what fills the lanes
  metrics_.reset();
  api_.reset();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (tls_ != nullptr) SSL_CTX_free(tls_);
}

void HttpListener::Loop() {
  BlockSigpipe();
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    const absl::Time before = absl::Now();
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({before >= accept_paused_until_ ? listen_fd_ : -1, POLLIN, 0});
    for (const auto& c : reading_) fds.push_back({c->fd, c->events, 0});
    // A quarter second: the granularity of the idle and read deadlines.
    if (poll(fds.data(), fds.size(), 250) < 0 && errno != EINTR) break;
    if (stopping_.load()) break;
    const absl::Time now = absl::Now();
    std::vector<std::unique_ptr<Connection>> still;
    for (size_t i = 0; i < reading_.size(); ++i) {
      std::unique_ptr<Connection>& c = reading_[i];
      if (fds[i + 2].revents != 0) Progress(c, now);
      if (c != nullptr && now - c->last_byte > limits_.idle_timeout) {
        Refuse(c, 408, HttpDrop::kIdleTimeout);
      } else if (c != nullptr && now - c->accepted > limits_.read_timeout) {
        Refuse(c, 408, HttpDrop::kReadTimeout);
      }
      if (c != nullptr) still.push_back(std::move(c));
    }
    reading_.swap(still);
    if (fds[1].revents != 0) Accept(now);
  }
}

void HttpListener::Accept(absl::Time now) {
  for (int i = 0; i < 64; ++i) {  // a bounded batch, then the connections already open get a turn
    sockaddr_storage remote{};
    socklen_t len = sizeof(remote);
    const int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&remote), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        drops_(HttpDrop::kAcceptFailed);  // the listen socket stays readable: do not spin on it
        accept_paused_until_ = now + absl::Milliseconds(100);
      }
      return;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->accepted = c->last_byte = now;
    Address(remote, &c->remote_ip, &c->remote_port);
    sockaddr_storage local{};
    len = sizeof(local);
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    Address(local, &c->local_ip, &c->local_port);
    if (static_cast<int>(reading_.size()) + in_lanes_.load() >= limits_.max_connections) {
      // The oldest unfinished request has had the longest to send its head: it goes, so that
      // held-open connections cannot lock the others (a probe among them) out.
      auto oldest = std::min_element(reading_.begin(), reading_.end(), [](auto& a, auto& b) {
        return a->accepted < b->accepted;
      });
      if (oldest == reading_.end()) {
        Refuse(c, 503, HttpDrop::kConnectionLimit);
        continue;
      }
      Refuse(*oldest, 503, HttpDrop::kEvicted);
      reading_.erase(oldest);
    }
    if (tls_ != nullptr) {
      c->ssl = SSL_new(tls_);
      if (c->ssl == nullptr || SSL_set_fd(c->ssl, fd) != 1) {
        drops_(HttpDrop::kTls);
        continue;
      }
      SSL_set_accept_state(c->ssl);
    }
    reading_.push_back(std::move(c));
  }
}

// Reads what has arrived (after the TLS handshake); hands the connection to a lane once its head
// is complete, refuses it when the head is too large, resets `c` when the client went away.
void HttpListener::Progress(std::unique_ptr<Connection>& c, absl::Time now) {
  if (c->ssl != nullptr && !c->handshaken) {
    ERR_clear_error();
    const int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
      const Io io = SslResult(c->ssl, r);
      if (io == Io::kClosed) {
        drops_(HttpDrop::kTls);
        c.reset();
      } else {
        c->events = io == Io::kWantWrite ? POLLOUT : POLLIN;
      }
      return;
    }
    c->handshaken = true;
    c->last_byte = now;
  }
  const size_t limit = static_cast<size_t>(limits_.max_header_bytes);
  bool eof = false;
  while (c->buffer.size() <= limit) {
    const size_t old = c->buffer.size();
    c->buffer.resize(old + std::min<size_t>(limit + 1 - old, 4096));
    size_t got = 0;
    const Io io = ReadSome(c->fd, c->ssl, c->buffer.data() + old, c->buffer.size() - old, &got);
    c->buffer.resize(old + got);
    if (io == Io::kDone) {
      c->last_byte = now;
      continue;
    }
    eof = io == Io::kClosed;
    c->events = io == Io::kWantWrite ? POLLOUT : POLLIN;
    break;
  }
  const size_t head_end = c->buffer.find("\r\n\r\n", c->scanned >= 3 ? c->scanned - 3 : 0);
  if (head_end == std::string::npos || head_end + 4 > limit) {
    c->scanned = c->buffer.size();
    if (c->buffer.size() > limit) {
      Refuse(c, 431, HttpDrop::kHeadTooLarge);
    } else if (eof) {
      c.reset();  // the client went away before finishing its request: nothing to answer
    }
    return;
  }
  Dispatch(c, head_end);
}

void HttpListener::Dispatch(std::unique_ptr<Connection>& c, size_t head_end) {
  const absl::string_view head(c->buffer.data(), head_end);
  // Lines after the request line; cpp-httplib itself reads any number of them.
  if (std::count(head.begin(), head.end(), '\n') > limits_.max_headers)
    return Refuse(c, 431, HttpDrop::kTooManyHeaders);
  Lane* lane = api_.get();
  switch (Classify(head)) {
    case LaneOf::kProbe:
      lane = probes_.get();
      break;
    case LaneOf::kMetrics:
      lane = metrics_.get();
      break;
    case LaneOf::kApi:
      break;
  }
  ++in_lanes_;
  if (!lane->Offer(c)) {
    --in_lanes_;
    Refuse(c, 503, HttpDrop::kBusy);
  }
}

// One attempt at a short answer without a body, then the connection is closed.
void HttpListener::Refuse(std::unique_ptr<Connection>& c, int code, HttpDrop why) {
  drops_(why);
  if (c->ssl == nullptr || c->handshaken) {
    const char* reason = code == 408   ? "Request Timeout"
                         : code == 431 ? "Request Header Fields Too Large"
                                       : "Service Unavailable";
    const std::string answer = absl::StrCat("HTTP/1.1 ", code, " ", reason,
                                            "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    size_t put = 0;
    WriteSome(c->fd, c->ssl, answer.data(), answer.size(), &put);
  }
  c.reset();
}

void HttpListener::Serve(std::unique_ptr<Connection> c) {
  const size_t budget = static_cast<size_t>(limits_.max_header_bytes) +
                        static_cast<size_t>(std::max(0, limits_.max_body_bytes));
  Exchange exchange(c->fd, c->ssl, &c->buffer, c->accepted + limits_.read_timeout,
                    limits_.write_timeout, budget, &c->remote_ip, c->remote_port, &c->local_ip,
                    c->local_port);
  handler_(exchange, c->ssl);
  c.reset();
  --in_lanes_;
}

}  // namespace claimgate::gate
