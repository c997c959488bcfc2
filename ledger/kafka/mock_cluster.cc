// Owning wrapper of rd_kafka_mock_cluster_t.
#include "ledger/kafka/mock_cluster.h"

#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"

// librdkafka 2.0.2's mock broker accepts connections without TCP_NODELAY, so Nagle's algorithm on
// its side meets the client's delayed ACK (40 ms on Linux): a transaction on the mock took 45-90 ms
// whatever its size (docs/streaming.md, "Latency"). Apache Kafka sets TCP_NODELAY on its sockets;
// to measure like against it, this process's accept() sets it on every accepted TCP socket. The
// mock broker is the only server in the processes that link this file (tests, benchmarks, demo,
// mock-broker); the real accept() does the work.
extern "C" int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  using AcceptFn = int (*)(int, struct sockaddr*, socklen_t*);
  static const AcceptFn real = reinterpret_cast<AcceptFn>(dlsym(RTLD_NEXT, "accept"));
  const int s = real(fd, addr, len);
  if (s >= 0) {
    int on = 1;
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on,
                     sizeof(on));  // not TCP (a UNIX socket): no-op
  }
  return s;
}

namespace claimgate::kafka {

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1) return absl::InvalidArgumentError("mock cluster needs at least one broker");
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return absl::InternalError(absl::StrCat("mock cluster handle: ", errstr));
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    rd_kafka_destroy(rk);
    return absl::InternalError("rd_kafka_mock_cluster_new failed");
  }
  std::unique_ptr<MockCluster> m(new MockCluster());
  m->rk_ = rk;
  m->cluster_ = cluster;
  m->bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster);
  return m;
}

absl::Status MockCluster::CreateTopic(const std::string& name, int partitions) {
  const rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_, name.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("mock topic ", name, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

}  // namespace claimgate::kafka
