// The gate killed with SIGKILL at random points while claims flow, restarted on the same state
// directory, again and again: afterwards a read_committed reader finds every claim decided exactly
// once (decision and audit record), as an uninterrupted decider decides it, and every malformed
// claim dead-lettered once. Against librdkafka 2.0.2's mock cluster, which writes no transaction
// markers, this holds only through the gate's own idempotence (docs/streaming.md).
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/binary_decider.h"
#include "gate/status_store.h"
#include "gate/synthetic.h"
#include "gtest/gtest.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/topics.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate {
namespace {

using claimgate::testing::Child;
using claimgate::testing::CreateSpecTopics;
using claimgate::testing::ReadTopic;
using claimgate::testing::Record;
using claimgate::testing::SpawnClaimgate;

void Send(RdKafka::Producer* p, const std::string& topic, const std::string& key,
          const std::string& value) {
  while (p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                    const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                    nullptr) == RdKafka::ERR__QUEUE_FULL) {
    p->poll(10);
  }
}

TEST(CrashTest, GateKilledAtRandomPointsDecidesEachClaimExactlyOnce) {
  auto cluster = std::move(*kafka::MockCluster::Start(1));
  const kafka::Topics topics;
  CreateSpecTopics(cluster.get(), topics);
  const kafka::ClientConfig config{cluster->bootstrap_servers(), {}};
  auto producer = std::move(*kafka::MakeProducer(config, ""));

  // The status feed, published before any claim, and the same statuses in a reference store.
  synthetic::SyntheticOptions pop;
  pop.persons = 2000;
  pop.institutions = 200;
  pop.suspended_share = 0.05;
  pop.terminated_share = 0.02;
  gate::StatusStoreOptions ref_options;
  ref_options.path = ::testing::TempDir() + "/crash_test_reference";
  std::filesystem::remove_all(ref_options.path);
  auto reference = std::move(*gate::StatusStore::Open(ref_options));
  gate::StatusBatch statuses;
  synthetic::GenerateStatuses(
      pop,
      [&](v1::InstitutionStatus&& i) {
        Send(producer.get(), topics.institution_status, i.institution_id(), i.SerializeAsString());
        statuses.institutions.push_back(std::move(i));
      },
      [&](v1::PersonStatus&& p) {
        Send(producer.get(), topics.person_status, p.person_id(), p.SerializeAsString());
        statuses.persons.push_back(std::move(p));
      });
  ASSERT_TRUE(reference->Write(statuses).ok());
  producer->flush(30000);

  // The claims, 1 in 97 malformed, and what an uninterrupted decider decides for each.
  constexpr int kClaims = 5000;
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  gate::DecisionContext ctx;
  ctx.profiles = profiles.get();
  ctx.default_profile = profiles->Find("national");
  gate::BinaryDecider decider(ctx);
  std::mt19937_64 rng(20261129);
  std::vector<std::pair<std::string, std::string>> claims;  // key, value
  std::map<std::string, std::string> expected;              // claim id -> decision bytes
  std::map<std::string, int> malformed;                     // value -> dead letters seen
  for (int k = 0; k < kClaims; ++k) {
    if (k % 97 == 13) {
      claims.emplace_back("", absl::StrCat("not a claim ", k));
      malformed[claims.back().second] = 0;
      continue;
    }
    std::vector<int64_t> practitioners;
    for (int j = 1 + static_cast<int>(rng() % 3); j > 0; --j)
      practitioners.push_back(static_cast<int64_t>(rng() % pop.persons));
    std::string bytes = synthetic::ClaimEventBytes(pop, k, practitioners, rng);
    std::string decision, audit;
    ASSERT_TRUE(decider.Decide(bytes, *reference, 0, absl::Now(), &decision, &audit).ok());
    const std::string id(decider.last_claim().claim_id);
    expected[id] = decision;
    claims.emplace_back(id, std::move(bytes));
  }

  const std::string dir = ::testing::TempDir() + "/crash_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string config_path = dir + "/gate.yaml";
  // Small batches: many transactions, so kills land inside them. A short session timeout lets the
  // group hand a killed member's partitions to its successor within seconds.
  std::ofstream(config_path) << "kafka:\n  session.timeout.ms: 6000\n"
                                "  group.instance.id: crash-test-gate\n"
                                "  heartbeat.interval.ms: 500\n"
                                "gate:\n  max_batch: 150\n";
  const std::vector<std::string> args = {
      "serve",       "--role",       "gate",     "--bootstrap-servers", config.bootstrap_servers,
      "--state-dir", dir + "/state", "--config", config_path,           "--no-create-topics"};

  // Audit records written so far (the high watermarks; uncommitted ones count too).
  auto audit_high = [&] {
    int64_t sum = 0;
    for (int p = 0; p < 3; ++p) {
      int64_t low = 0, high = 0;
      producer->query_watermark_offsets(topics.audit, p, &low, &high, 5000);
      sum += high;
    }
    return sum;
  };
  // Claims flow in the background while the gate is killed and restarted. Each incarnation is
  // killed a random 0-300 ms after its first output, when it is deciding a backlog batch by batch.
  std::thread feeder([&] {
    for (size_t i = 0; i < claims.size(); ++i) {
      Send(producer.get(), topics.claims, claims[i].first, claims[i].second);
      if (i % 100 == 99) {
        producer->flush(10000);
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
    producer->flush(30000);
  });
  const int kKills = getenv("CRASH_TEST_KILLS") ? atoi(getenv("CRASH_TEST_KILLS")) : 6;
  int kills = 0;
  for (int i = 0; i < kKills; ++i) {
    const int64_t before = audit_high();
    Child gate;
    SpawnClaimgate(args, &gate);
    for (absl::Time until = absl::Now() + absl::Seconds(20);
         audit_high() == before && absl::Now() < until;) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (audit_high() == before) break;  // nothing left to decide
    absl::SleepFor(absl::Milliseconds(static_cast<int>(rng() % 300)));
    gate.Kill();
    ++kills;
  }
  feeder.join();
  EXPECT_GE(kills, 3);

  Child gate;
  SpawnClaimgate(args, &gate);
  const size_t want = expected.size();
  std::vector<Record> decisions;
  for (absl::Time deadline = absl::Now() + absl::Seconds(180);
       decisions.size() < want && absl::Now() < deadline;) {
    absl::SleepFor(absl::Seconds(1));
    decisions = ReadTopic(config, topics.decisions, 3);
  }
  absl::SleepFor(absl::Seconds(2));  // anything beyond the expected count would show up now
  EXPECT_EQ(gate.Terminate(), 0);

  decisions = ReadTopic(config, topics.decisions, 3);
  std::map<std::string, int> decided;
  for (const Record& r : decisions) {
    v1::Decision d;
    ASSERT_TRUE(d.ParseFromString(r.value));
    ++decided[d.claim_id()];
    ASSERT_TRUE(expected.count(d.claim_id())) << d.claim_id();
    EXPECT_EQ(r.value, expected[d.claim_id()]) << d.claim_id();
  }
  std::map<std::string, int> audited;
  for (const Record& r : ReadTopic(config, topics.audit, 3)) {
    v1::AuditRecord a;
    ASSERT_TRUE(a.ParseFromString(r.value));
    ++audited[a.claim_id()];
    v1::Decision d;
    ASSERT_TRUE(d.ParseFromString(expected[a.claim_id()]));
    EXPECT_EQ(a.outcome(), d.outcome()) << a.claim_id();
  }
  for (const Record& r : ReadTopic(config, topics.dlq, 1)) {
    ASSERT_TRUE(malformed.count(r.value)) << r.value;
    ++malformed[r.value];
  }
  int lost = 0, duplicated = 0;
  for (const auto& [id, unused] : expected) {
    const int d = decided.count(id) ? decided[id] : 0;
    const int a = audited.count(id) ? audited[id] : 0;
    lost += (d == 0) + (a == 0);
    duplicated += (d > 1) + (a > 1);
  }
  for (const auto& [value, n] : malformed) {
    lost += n == 0;
    duplicated += n > 1;
  }
  EXPECT_EQ(decided.size(), want);
  EXPECT_EQ(audited.size(), want);
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(duplicated, 0);
  std::cout << "crash test: " << kills << " kills, " << decisions.size() << " decisions for "
            << want << " claims, " << malformed.size() << " dead letters expected\n";
}

}  // namespace
}  // namespace claimgate
