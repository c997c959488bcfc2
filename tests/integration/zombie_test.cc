// Zombie fencing after a rebalance, on Apache Kafka (KIP-447): two gate instances share the claims
// partitions; one is frozen (SIGSTOP) in mid-stream past its session timeout, the group hands its
// partitions to the other, and then it wakes (SIGCONT) believing it still owns them. Its
// transaction's offsets carry the group generation it had, so the broker refuses them and the
// transaction cannot commit: a read_committed reader (librdkafka's and Kafka's own Java console
// consumer) finds every claim decided exactly once, byte for byte as an uninterrupted decider
// decides it. The zombie may end (fenced: the supervisor restarts it) or rejoin the group.
//
// The gates run without the duplicate-code check (gate.duplicate_codes: false): with it, the
// other instance's batches also ask the code owners, whose partitions of code-checks the frozen
// process may hold an open transaction on; read_committed readers then wait until the coordinator
// aborts it (transaction.timeout.ms), longer than the freeze here. docs/duplicate-codes.md,
// "A frozen process", says so; the codes crash test covers the check under kills.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
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

using claimgate::testing::BrokerKind;
using claimgate::testing::Child;
using claimgate::testing::AwaitDecisions;
using claimgate::testing::ClaimWorkload;
using claimgate::testing::ExpectEachClaimOnce;
using claimgate::testing::HighWatermarks;
using claimgate::testing::MakeClaimWorkload;
using claimgate::testing::Send;
using claimgate::testing::SpawnClaimgate;

TEST(ZombieTest, FrozenGateWakingAfterARebalanceCommitsNothing) {
  CLAIMGATE_START_BROKER(broker, BrokerKind::kApache);
  broker->CreateSpecTopics();
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  ClaimWorkload w;
  MakeClaimWorkload(producer.get(), topics, 20000, ::testing::TempDir() + "/zombie_reference", &w);

  const std::string dir = ::testing::TempDir() + "/zombie_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto args = [&](int instance) {
    const std::string yaml = absl::StrCat(dir, "/gate", instance, ".yaml");
    std::ofstream(yaml) << broker->ServeYaml(
        "  session.timeout.ms: 6000\n  heartbeat.interval.ms: 500\n",
        "  max_batch: 20\n  duplicate_codes: false\n", instance);
    return std::vector<std::string>{"serve", "--http-address", "127.0.0.1:0", "--role", "gate",
                                    "--bootstrap-servers", config.bootstrap_servers,
                                    "--state-dir", absl::StrCat(dir, "/state", instance),
                                    "--config", yaml, "--no-create-topics"};
  };
  // A backlog decided in transactions of at most 20 claims: each gate is inside a transaction
  // nearly all the time, so the freeze below most likely catches one open.
  std::thread feeder([&] {
    for (const auto& [key, value] : w.claims) Send(producer.get(), topics.claims, key, value);
    producer->flush(30000);
  });
  auto decided = [&] { return HighWatermarks(producer.get(), topics.decisions, 3); };
  Child zombie, other;
  SpawnClaimgate(args(0), &zombie, dir + "/zombie.log");
  for (absl::Time until = absl::Now() + absl::Seconds(60); decided() < 200 && absl::Now() < until;)
    absl::SleepFor(absl::Milliseconds(100));
  SpawnClaimgate(args(1), &other);  // the group splits the partitions between the two
  // Well past the rebalance (its recovery reads take a second or so): both decide steadily.
  const int64_t split_at = decided();
  for (absl::Time until = absl::Now() + absl::Seconds(60);
       decided() < split_at + 3000 && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  // Frozen past its session timeout: the group gives all partitions to the other instance.
  const int64_t frozen_at = decided();
  ASSERT_EQ(kill(zombie.pid, SIGSTOP), 0);
  absl::SleepFor(absl::Seconds(12));
  const int64_t while_frozen = decided() - frozen_at;
  ASSERT_EQ(kill(zombie.pid, SIGCONT), 0);
  feeder.join();

  AwaitDecisions(config, topics, w.expected.size());
  EXPECT_EQ(other.Terminate(), 0);
  const int zombie_exit = zombie.Terminate();
  const size_t read = ExpectEachClaimOnce(config, topics, &w);
  const size_t java = broker->ExpectJavaClientReadsEachOnce(topics.decisions, w.expected);
  EXPECT_GT(while_frozen, 0) << "the other instance did not take the frozen one's partitions";
  // Whether the freeze caught a transaction open (then its offsets were refused when it woke: the
  // broker no longer knew the member) or between two; either way nothing may be doubled or lost.
  std::ifstream log_in(dir + "/zombie.log");
  const std::string log((std::istreambuf_iterator<char>(log_in)), std::istreambuf_iterator<char>());
  const bool refused =
      log.find("send_offsets_to_transaction: transaction aborted") != std::string::npos;
  std::cout << "zombie test: "
            << (refused ? "the zombie's open transaction was refused on waking"
                        : "the freeze caught no open transaction")
            << "; frozen 12 s after " << frozen_at << " decision records, " << while_frozen
            << " written meanwhile by the other instance; zombie exit " << zombie_exit << "; "
            << read << " decisions for " << w.expected.size() << " claims; Java reader " << java
            << " claims\n";
}

}  // namespace
}  // namespace claimgate
