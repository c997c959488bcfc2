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
using claimgate::testing::ReadTopic;
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

// Duplicate traceability codes under crashes (docs/duplicate-codes.md): two gate instances, each
// with its code owner, killed at random points in turn; claims keyed by claim id, and a second
// wave of claims presenting the drug boxes of the first under other claim ids, on whatever
// partition. Each claim is decided once, exactly as the file path's code book decides it: each
// duplicate found once, naming the first claim, and no claim finding its own codes (a retried or
// recovered claim asks its owners again).
TEST_P(CrashTest, TwoGatesKilledFindEachDuplicateCodeOnce) {
  CLAIMGATE_START_BROKER(broker, GetParam());
  if (broker->mock() != nullptr) rd_kafka_mock_broker_set_rtt(broker->mock()->handle(), 1, 10);
  broker->CreateSpecTopics();
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  const std::string dir = absl::StrCat(::testing::TempDir(), "/codes_crash_",
                                       broker->apache() ? "apache" : "mock", "_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  ClaimWorkload w;
  MakeClaimWorkload(producer.get(), topics, 900, dir + "/reference", &w, /*repeats=*/300);
  ASSERT_GT(w.duplicates, 80);
  size_t first_wave = 0;  // decisions expected before the second wave is produced
  for (size_t i = 0; i < w.repeats_from; ++i) first_wave += w.expected.count(w.claims[i].first);

  std::vector<std::vector<std::string>> args(2);
  for (int i = 0; i < 2; ++i) {
    const std::string config_path = absl::StrCat(dir, "/gate-", i, ".yaml");
    std::ofstream(config_path) << broker->ServeYaml(
        "  session.timeout.ms: 6000\n  heartbeat.interval.ms: 500\n", "  max_batch: 100\n",
        i + 1);
    args[i] = {"serve", "--http-address", "127.0.0.1:0", "--role", "gate",
               "--bootstrap-servers", config.bootstrap_servers, "--state-dir",
               absl::StrCat(dir, "/state-", i), "--config", config_path, "--no-create-topics"};
    if (broker->mock() != nullptr) {
      args[i].push_back("--instance");
      args[i].push_back(absl::StrCat(i + 1));
    }
  }
  auto decided = [&] { return ReadTopic(config, topics.decisions, 3).size(); };
  auto audit_high = [&] { return HighWatermarks(producer.get(), topics.audit, 3); };
  std::thread feeder([&] {
    for (size_t i = 0; i < w.claims.size(); ++i) {
      if (i == w.repeats_from) {
        // The second wave once the first is decided: which claim came first is then clear.
        producer->flush(30000);
        for (absl::Time until = absl::Now() + absl::Seconds(240);
             decided() < first_wave && absl::Now() < until;) {
          absl::SleepFor(absl::Milliseconds(500));
        }
      }
      Send(producer.get(), topics.claims, w.claims[i].first, w.claims[i].second);
      if (i % 25 == 24) {
        producer->flush(10000);
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    producer->flush(30000);
  });
  const int kKills = getenv("CRASH_TEST_KILLS") ? atoi(getenv("CRASH_TEST_KILLS")) : 3;
  std::vector<int> kills(2);
  std::vector<std::thread> killers;
  for (int i = 0; i < 2; ++i) {
    killers.emplace_back([&, i] {
      std::mt19937_64 rng(11 + i);
      kills[i] = KillRepeatedly(args[i], kKills, 400, audit_high, rng);
    });
  }
  for (std::thread& t : killers) t.join();
  // Both instances again, to the end of the stream.
  std::vector<Child> gates(2);
  for (int i = 0; i < 2; ++i) SpawnClaimgate(args[i], &gates[i]);
  feeder.join();
  AwaitDecisions(config, topics, w.expected.size());
  for (Child& g : gates) EXPECT_EQ(g.Terminate(), 0);
  EXPECT_GE(kills[0] + kills[1], 3);

  const size_t read = ExpectEachClaimOnce(config, topics, &w);
  int duplicates = 0;
  for (const claimgate::testing::Record& r : ReadTopic(config, topics.audit, 3)) {
    v1::AuditRecord a;
    ASSERT_TRUE(a.ParseFromString(r.value));
    duplicates += a.duplicate_codes_size() > 0;
    for (const v1::AuditRecord::DuplicateCode& d : a.duplicate_codes())
      EXPECT_NE(d.first_claim_id(), a.claim_id()) << "a claim found its own code";
  }
  EXPECT_EQ(duplicates, w.duplicates);
  std::cout << "codes crash test (" << BrokerName(broker) << "): " << kills[0] << "+" << kills[1]
            << " kills, " << read << " decisions, " << duplicates << " with duplicate codes ("
            << w.duplicates << " expected)\n";
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Brokers, CrashTest, AllBrokers(), BrokerKindName);

}  // namespace
}  // namespace claimgate
