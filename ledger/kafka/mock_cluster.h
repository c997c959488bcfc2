// librdkafka's mock cluster: a real Kafka-protocol broker set in-process on loopback, for tests,
// the benchmarks, the embedded demo and `claimgate mock-broker`. Never used in production.
//
// Known limit (librdkafka 2.0.2): the mock accepts transactions but writes no commit/abort markers,
// so a read_committed consumer also sees data of aborted transactions (docs/streaming.md).
#ifndef CLAIMGATE_LEDGER_KAFKA_MOCK_CLUSTER_H_
#define CLAIMGATE_LEDGER_KAFKA_MOCK_CLUSTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace claimgate::kafka {

// Sets TCP_NODELAY on the sockets the mock broker accepts from now on (mock_nodelay.cc), as Apache
// Kafka does on its own. Start() calls it.
void EnableMockNoDelay();

class MockCluster {
 public:
  // Starts `brokers` brokers on loopback ports chosen by the system. Internal on failure.
  static absl::StatusOr<std::unique_ptr<MockCluster>> Start(int brokers);

  // Creates a topic. The mock implements no CreateTopics request (librdkafka 2.0.2), so topics of a
  // mock cluster are made here; an unknown topic would otherwise be auto-created with the mock's
  // default partition count.
  absl::Status CreateTopic(const std::string& name, int partitions);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:PORT,127.0.0.1:PORT,..."
  const std::string& bootstrap_servers() const { return bootstrap_; }
  // For fault injection in tests (rd_kafka_mock_push_request_errors, broker down/up).
  rd_kafka_mock_cluster_s* handle() const { return cluster_; }

 private:
  MockCluster() = default;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace claimgate::kafka

#endif  // CLAIMGATE_LEDGER_KAFKA_MOCK_CLUSTER_H_
