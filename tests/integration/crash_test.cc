// The gate killed with SIGKILL at random points while claims flow, restarted on the same state
// directory, again and again: afterwards a read_committed reader finds every claim decided exactly
// once (decision and audit record), as an uninterrupted decider decides it, and every malformed
// claim dead-lettered once. On Apache Kafka this is Kafka's exactly once (transactions with
// markers, offsets committed in them, the killed producer fenced by its successor), and Kafka's
// own Java console consumer, an outside client, reads each claim's decision once too. On
// librdkafka 2.0.2's mock, which writes no transaction markers, it holds only through the gate's
// own idempotence (docs/streaming.md).
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
#include "gate/binary_decider.h"
#include "gate/store/status_store.h"
#include "gate/synthetic/synthetic.h"
#include "gtest/gtest.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/topics.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "tests/testing/claim_workload.h"
#include "tests/testing/kafka_testing.h"
#include "tests/testing/test_broker.h"

namespace claimgate {
namespace {

using claimgate::testing::AllBrokers;
using claimgate::testing::BrokerKind;
using claimgate::testing::BrokerKindName;
using claimgate::testing::BrokerName;
using claimgate::testing::Child;
using claimgate::testing::AwaitDecisions;
using claimgate::testing::ClaimWorkload;
using claimgate::testing::ExpectEachClaimOnce;
using claimgate::testing::HighWatermarks;
using claimgate::testing::KillRepeatedly;
using claimgate::testing::MakeClaimWorkload;
using claimgate::testing::Send;
using claimgate::testing::SpawnClaimgate;

class CrashTest : public ::testing::TestWithParam<BrokerKind> {};

TEST_P(CrashTest, GateKilledAtRandomPointsDecidesEachClaimExactlyOnce) {
  CLAIMGATE_START_BROKER(broker, GetParam());
  // On the mock, 20 ms a request: a transaction takes about 100 ms, most of the gate's time while
  // claims trickle in, so kills land inside transactions.
  if (broker->mock() != nullptr) rd_kafka_mock_broker_set_rtt(broker->mock()->handle(), 1, 20);
  broker->CreateSpecTopics();
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  auto producer = std::move(*kafka::MakeProducer(config, ""));

  ClaimWorkload w;
  MakeClaimWorkload(producer.get(), topics, 5000, ::testing::TempDir() + "/crash_test_reference",
                    &w);
  std::mt19937_64 rng(7);

  const std::string dir =
      ::testing::TempDir() + "/crash_test_" + (broker->apache() ? "apache" : "mock");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string config_path = dir + "/gate.yaml";
  // Small batches: many transactions, so kills land inside them. A short session timeout lets the
  // group hand a killed member's partitions to its successor within seconds.
  std::ofstream(config_path) << broker->ServeYaml(
      "  session.timeout.ms: 6000\n  heartbeat.interval.ms: 500\n", "  max_batch: 150\n");
  const std::vector<std::string> args = {"serve",
                                         "--http-address",
                                         "127.0.0.1:0",
                                         "--role",
                                         "gate",
                                         "--bootstrap-servers",
                                         config.bootstrap_servers,
                                         "--state-dir",
                                         dir + "/state",
                                         "--config",
                                         config_path,
                                         "--no-create-topics"};

  auto audit_high = [&] { return HighWatermarks(producer.get(), topics.audit, 3); };
  // Claims flow in the background while the gate is killed and restarted. Each incarnation is
  // killed a random 0-300 ms after its first output.
  std::thread feeder([&] {
    for (size_t i = 0; i < w.claims.size(); ++i) {
      Send(producer.get(), topics.claims, w.claims[i].first, w.claims[i].second);
      if (i % 25 == 24) {  // 125 claims/s: the stream lasts the 6 kills and restarts
        producer->flush(10000);
        absl::SleepFor(absl::Milliseconds(200));
      }
    }
    producer->flush(30000);
  });
  const int kKills = getenv("CRASH_TEST_KILLS") ? atoi(getenv("CRASH_TEST_KILLS")) : 6;
  const int kills = KillRepeatedly(args, kKills, 300, audit_high, rng);
  feeder.join();
  EXPECT_GE(kills, 3);

  Child gate;
  SpawnClaimgate(args, &gate);
  const size_t want = w.expected.size();
  AwaitDecisions(config, topics, want);
  EXPECT_EQ(gate.Terminate(), 0);

  const size_t read = ExpectEachClaimOnce(config, topics, &w);
  std::cout << "crash test (" << BrokerName(broker) << "): " << kills << " kills, " << read
            << " decisions for " << want << " claims, " << w.malformed.size()
            << " dead letters expected\n";
  if (broker->apache()) broker->ExpectJavaClientReadsEachOnce(topics.decisions, w.expected);
}

INSTANTIATE_TEST_SUITE_P(Brokers, CrashTest, AllBrokers(), BrokerKindName);

}  // namespace
}  // namespace claimgate
