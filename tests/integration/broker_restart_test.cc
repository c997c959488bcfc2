// Apache Kafka itself killed with SIGKILL and restarted mid-stream, while `claimgate serve --role
// gate` decides claims that keep arriving: the gate rides the outage out (it does not exit), and
// afterwards read_committed readers (librdkafka's and Kafka's own Java console consumer) find every
// claim decided exactly once, byte for byte as an uninterrupted decider decides it. Two shapes: the
// one broker of a 1-node cluster (everything stops), and, on 3 nodes with every topic replicated 3
// times, the leader of claims partition 0 (leadership moves). The cluster is the test's own
// (deploy/kafka/local-kafka.sh), not the run's shared one.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/claim_workload.h"
#include "tests/testing/kafka_testing.h"
#include "tests/testing/test_broker.h"

namespace claimgate {
namespace {

using claimgate::testing::Child;
using claimgate::testing::AwaitDecisions;
using claimgate::testing::ClaimWorkload;
using claimgate::testing::ExpectEachClaimOnce;
using claimgate::testing::HighWatermarks;
using claimgate::testing::MakeClaimWorkload;
using claimgate::testing::Send;
using claimgate::testing::SpawnClaimgate;
using claimgate::testing::TestBroker;

const std::string kScript = std::string(CLAIMGATE_SOURCE_DIR) + "/deploy/kafka/local-kafka.sh";

// local-kafka.sh's cluster in `dir`, stopped (by its recorded PIDs) however the test ends.
struct OwnCluster {
  std::string dir;
  std::string bootstrap;
  ~OwnCluster() {
    if (!dir.empty()) std::system(("'" + kScript + "' stop '" + dir + "'").c_str());
  }
};

std::string RunScript(const std::string& args) {
  FILE* out = popen(("'" + kScript + "' " + args).c_str(), "r");
  if (out == nullptr) return "";
  char line[4096] = {0};
  std::string first = fgets(line, sizeof(line), out) != nullptr ? line : "";
  while (fgets(line, sizeof(line), out) != nullptr) {
  }
  const int rc = pclose(out);
  while (!first.empty() && first.back() == '\n') first.pop_back();
  return rc == 0 ? first : "";
}

// The node id of the leader of `topic` partition `partition` (-1 when the metadata does not say).
int32_t Leader(RdKafka::Producer* handle, const std::string& topic, int32_t partition) {
  RdKafka::Metadata* raw = nullptr;
  std::string error;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(handle, topic, nullptr, error));
  if (t == nullptr) return -1;
  if (handle->metadata(false, t.get(), &raw, 10000) != RdKafka::ERR_NO_ERROR) return -1;
  std::unique_ptr<RdKafka::Metadata> md(raw);
  for (const RdKafka::TopicMetadata* tm : *md->topics()) {
    for (const RdKafka::PartitionMetadata* pm : *tm->partitions()) {
      if (pm->id() == partition) return pm->leader();
    }
  }
  return -1;
}

class BrokerRestartTest : public ::testing::TestWithParam<int> {};

TEST_P(BrokerRestartTest, GateRidesOutAKilledAndRestartedBroker) {
  if (std::getenv("CLAIMGATE_APACHE_KAFKA") == nullptr)
    GTEST_SKIP() << "Apache Kafka runs under ctest (fixture apache_kafka)";
  const int nodes = GetParam();
  OwnCluster cluster;
  cluster.dir = absl::StrCat(::testing::TempDir(), "/broker_restart_kafka", nodes);
  std::filesystem::remove_all(cluster.dir);
  cluster.bootstrap = RunScript(absl::StrCat("start '", cluster.dir, "' --brokers ", nodes));
  ASSERT_FALSE(cluster.bootstrap.empty()) << "local-kafka.sh start failed";
  std::unique_ptr<TestBroker> broker = TestBroker::OnCluster(cluster.bootstrap);
  broker->CreateSpecTopics(3, nodes);
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  auto producer = std::move(*kafka::MakeProducer(config, ""));

  ClaimWorkload w;
  MakeClaimWorkload(producer.get(), topics, 3000,
                    ::testing::TempDir() + "/broker_restart_reference", &w);

  const std::string dir = absl::StrCat(::testing::TempDir(), "/broker_restart_gate", nodes);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/gate.yaml") << "gate:\n  max_batch: 150\n";
  Child gate;
  SpawnClaimgate({"serve", "--http-address", "127.0.0.1:0", "--role", "gate",
                  "--bootstrap-servers", cluster.bootstrap, "--state-dir", dir + "/state",
                  "--config", dir + "/gate.yaml", "--no-create-topics"},
                 &gate);

  // Claims trickle in (about 150/s) while the broker is killed and restarted under the gate.
  std::thread feeder([&] {
    for (size_t i = 0; i < w.claims.size(); ++i) {
      Send(producer.get(), topics.claims, w.claims[i].first, w.claims[i].second);
      if (i % 30 == 29) {
        producer->flush(1000);
        absl::SleepFor(absl::Milliseconds(200));
      }
    }
    producer->flush(120000);
  });
  // Once the gate has decided something, SIGKILL the broker, leave it down 3 s, start it again.
  for (absl::Time until = absl::Now() + absl::Seconds(60);
       HighWatermarks(producer.get(), topics.decisions, 3) < 300 && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const int64_t before_kill = HighWatermarks(producer.get(), topics.decisions, 3);
  ASSERT_GT(before_kill, 0) << "the gate decided nothing before the broker was killed";
  const int32_t node = nodes == 1 ? 1 : Leader(producer.get(), topics.claims, 0);
  ASSERT_GT(node, 0) << "no leader for claims partition 0";
  int broker_pid = 0;
  std::ifstream(absl::StrCat(cluster.dir, "/node", node, "/pid")) >> broker_pid;
  ASSERT_GT(broker_pid, 0);
  ASSERT_EQ(kill(broker_pid, SIGKILL), 0);
  absl::SleepFor(absl::Seconds(3));
  const absl::Time restarting = absl::Now();
  ASSERT_EQ(std::system(absl::StrCat("'", kScript, "' restart '", cluster.dir, "' ", node).c_str()),
            0);
  const absl::Duration restart = absl::Now() - restarting;
  feeder.join();

  AwaitDecisions(config, topics, w.expected.size());
  EXPECT_EQ(gate.Terminate(), 0) << "the gate did not ride the outage out";
  const size_t read = ExpectEachClaimOnce(config, topics, &w);
  const size_t java = broker->ExpectJavaClientReadsEachOnce(topics.decisions, w.expected);
  std::cout << "broker restart test (" << nodes << " node(s)): node " << node
            << " SIGKILLed after " << before_kill << " decisions, restarted in " << restart << "; "
            << read << " decisions for " << w.expected.size() << " claims; Java reader "
            << java << " claims\n";
}

INSTANTIATE_TEST_SUITE_P(Nodes, BrokerRestartTest, ::testing::Values(1, 3),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 1 ? std::string("OneNode")
                                                  : std::string("LeaderOfThree");
                         });

}  // namespace
}  // namespace claimgate
