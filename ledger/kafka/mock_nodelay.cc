// TCP_NODELAY on the mock broker's sockets (see EnableMockNoDelay in mock_cluster.h).
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>

#include "ledger/kafka/mock_cluster.h"

namespace claimgate::kafka {
namespace {
std::atomic<bool> mock_started{false};
}  // namespace

void EnableMockNoDelay() { mock_started.store(true, std::memory_order_relaxed); }

}  // namespace claimgate::kafka

// librdkafka 2.0.2's mock broker accepts connections without TCP_NODELAY, so Nagle's algorithm on
// its side meets the client's delayed ACK (40 ms on Linux): a transaction on the mock took 45-90 ms
// whatever its size (docs/streaming.md, "Latency"). Apache Kafka sets TCP_NODELAY on its sockets;
// to measure like against it, once a mock cluster runs in this process, accept() sets it on every
// accepted TCP socket. Until then (a `serve` process never starts one) it is the real accept()
// alone. The mock is the only caller of accept() here: the HTTP listener uses accept4().
extern "C" int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  using AcceptFn = int (*)(int, struct sockaddr*, socklen_t*);
  static const AcceptFn real = reinterpret_cast<AcceptFn>(dlsym(RTLD_NEXT, "accept"));
  const int s = real(fd, addr, len);
  if (s >= 0 && claimgate::kafka::mock_started.load(std::memory_order_relaxed)) {
    int on = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on,
                     sizeof(on));  // not TCP (a UNIX socket): no-op
  }
  return s;
}
