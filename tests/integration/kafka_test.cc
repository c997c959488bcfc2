// The Kafka adapters against librdkafka's mock cluster (a real Kafka-protocol broker on loopback):
// topic creation, a transactional producer, a read_committed consumer, and `claimgate mock-broker`.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/mock_cluster.h"

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
    ASSERT_EQ((*producer)->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                   const_cast<char*>(value.data()), value.size(), key.data(), key.size(),
                                   0, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  err.reset((*producer)->commit_transaction(10000));
  ASSERT_EQ(err, nullptr) << err->str();
}

// Reads every partition of `topic` from the start until each reports its end.
int ConsumeAll(const ClientConfig& config, const std::string& topic, int partitions) {
  auto consumer = MakeConsumer(config, "");
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < partitions; ++p) {
    parts.push_back(RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING));
  }
  (*consumer)->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  int messages = 0, eofs = 0;
  for (int polls = 0; polls < 200 && eofs < partitions; ++polls) {
    std::unique_ptr<RdKafka::Message> m((*consumer)->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) ++messages;
    if (m->err() == RdKafka::ERR__PARTITION_EOF) ++eofs;
  }
  (*consumer)->close();
  return messages;
}

TEST(KafkaTest, TransactionalProduceAndReadCommittedConsume) {
  auto cluster = MockCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ClientConfig config{(*cluster)->bootstrap_servers(), {}};
  ASSERT_TRUE((*cluster)->CreateTopic("claims", 3).ok());
  ProduceInTransaction(config, "claims", 25);
  EXPECT_EQ(ConsumeAll(config, "claims", 3), 25);
}

TEST(KafkaTest, BadPropertiesAreInvalidArguments) {
  ClientConfig config{"127.0.0.1:1", {{"no.such.property", "1"}}};
  auto producer = MakeProducer(config, "");
  ASSERT_FALSE(producer.ok());
  EXPECT_EQ(producer.status().code(), absl::StatusCode::kInvalidArgument);
}

// Kills and reaps a child process when a test ends, however it ends.
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

// `claimgate mock-broker` prints its bootstrap servers first, serves clients, stops on SIGTERM.
TEST(MockBrokerCommandTest, PrintsBootstrapServesAndStopsOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    const std::string bin = std::string(CLAIMGATE_BINARY_DIR) + "/gate/claimgate";
    execl(bin.c_str(), bin.c_str(), "mock-broker", "--brokers", "2", static_cast<char*>(nullptr));
    _exit(127);
  }
  ChildGuard guard{child};
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[512] = {0};
  ASSERT_NE(fgets(line, sizeof(line), f), nullptr);
  std::string bootstrap(line);
  while (!bootstrap.empty() && bootstrap.back() == '\n') bootstrap.pop_back();
  const std::vector<std::string> brokers = absl::StrSplit(bootstrap, ',');
  EXPECT_EQ(brokers.size(), 2u) << bootstrap;
  for (const std::string& b : brokers) EXPECT_EQ(b.rfind("127.0.0.1:", 0), 0u) << b;

  ClientConfig config{bootstrap, {}};
  ProduceInTransaction(config, "claims", 7);  // a SPEC §2 topic the command created (3 partitions)
  EXPECT_EQ(ConsumeAll(config, "claims", 3), 7);

  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  guard.pid = 0;
  fclose(f);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace claimgate::kafka
