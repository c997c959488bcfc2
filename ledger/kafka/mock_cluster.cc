// Owning wrapper of rd_kafka_mock_cluster_t.
#include "ledger/kafka/mock_cluster.h"

#include "absl/strings/str_cat.h"
#include "ledger/kafka/logging.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"

namespace claimgate::kafka {

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1) return absl::InvalidArgumentError("mock cluster needs at least one broker");
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  logging::RouteKafkaLog(conf);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return absl::InternalError(absl::StrCat("mock cluster handle: ", errstr));
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    rd_kafka_destroy(rk);
    return absl::InternalError("rd_kafka_mock_cluster_new failed");
  }
  EnableMockNoDelay();
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
