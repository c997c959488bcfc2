// The Kafka adapters against librdkafka's mock cluster (a real Kafka-protocol broker on loopback):
// topic creation, a transactional producer, a read_committed consumer, and `claimgate mock-broker`.
#include "ledger/kafka/kafka.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ledger/kafka/mock_cluster.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate::kafka {
namespace {

// Produces `n` messages to `topic` in one transaction.
void ProduceInTransaction(const ClientConfig& config, const std::string& topic, int n) {
  auto producer = MakeProducer(config, "test-producer");
  ASSERT_TRUE(producer.ok()) << producer.status();
  std::unique_ptr<RdKafka::Error> err((*producer)->init_transactions(10000));
  ASSERT_EQ(err, nullptr) << err->str();
  err.reset((*producer)->begin_transaction());
  ASSERT_EQ(err, nullptr) << err->str();
  for (int i = 0; i < n; ++i) {
    const std::string key = absl::StrCat("k", i), value = absl::StrCat("v", i);
    ASSERT_EQ((*producer)->produce(topic, RdKafka::Topic::PARTITION_UA,
                                   RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
                                   value.size(), key.data(), key.size(), 0, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  err.reset((*producer)->commit_transaction(10000));
  ASSERT_EQ(err, nullptr) << err->str();
}

using claimgate::testing::Child;
using claimgate::testing::ReadTopic;
using claimgate::testing::SpawnClaimgate;

TEST(KafkaTest, TransactionalProduceAndReadCommittedConsume) {
  auto cluster = MockCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ClientConfig config{(*cluster)->bootstrap_servers(), {}};
  ASSERT_TRUE((*cluster)->CreateTopic("claims", 3).ok());
  ProduceInTransaction(config, "claims", 25);
  EXPECT_EQ(ReadTopic(config, "claims", 3).size(), 25u);
}

TEST(KafkaTest, BadPropertiesAreInvalidArguments) {
  ClientConfig config{"127.0.0.1:1", {{"no.such.property", "1"}}};
  auto producer = MakeProducer(config, "");
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument);
}

// `claimgate mock-broker` prints its bootstrap servers first, serves clients, stops on SIGTERM.
TEST(MockBrokerCommandTest, PrintsBootstrapServesAndStopsOnSigterm) {
  Child broker;
  SpawnClaimgate({"mock-broker", "--brokers", "2"}, &broker);
  const std::string bootstrap = broker.ReadLine();
  const std::vector<std::string> brokers = absl::StrSplit(bootstrap, ',');
  EXPECT_EQ(brokers.size(), 2u) << bootstrap;
  for (const std::string& b : brokers) EXPECT_EQ(b.rfind("127.0.0.1:", 0), 0u) << b;

  ClientConfig config{bootstrap, {}};
  ProduceInTransaction(config, "claims", 7);  // a SPEC §2 topic the command created (3 partitions)
  EXPECT_EQ(ReadTopic(config, "claims", 3).size(), 7u);
  EXPECT_EQ(broker.Terminate(), 0);
}

}  // namespace
}  // namespace claimgate::kafka
