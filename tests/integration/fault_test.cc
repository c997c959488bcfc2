// Faults injected through librdkafka's mock cluster while the gate decides a backlog of claims:
// retriable errors on the transactional requests, a delivery that fails (abortable), the broker
// down and up again, and a fenced producer (fatal). Each fault ends one of two ways: the gate
// retries or aborts and resumes by itself, or it stops with FailedPrecondition and its supervisor
// (here, the test) starts it again. Afterwards a read_committed reader finds each claim decided
// exactly once.
#include <filesystem>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/service/gate_service.h"
#include "gtest/gtest.h"
#include "ledger/kafka/mock_cluster.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "tests/testing/claim_workload.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate {
namespace {

using claimgate::testing::ClaimWorkload;
using claimgate::testing::CreateSpecTopics;
using claimgate::testing::ExpectEachClaimOnce;
using claimgate::testing::HighWatermarks;
using claimgate::testing::MakeClaimWorkload;
using claimgate::testing::Send;

// Kafka protocol API keys.
constexpr int16_t kProduce = 0;
constexpr int16_t kAddPartitionsToTxn = 24;
constexpr int16_t kEndTxn = 26;
constexpr int16_t kTxnOffsetCommit = 28;

struct Fault {
  std::string name;
  bool fatal;  // the gate must stop for its supervisor
  std::function<void(rd_kafka_mock_cluster_t*)> inject;
};

TEST(FaultTest, InjectedBrokerErrorsNeitherLoseNorDuplicateClaims) {
  auto cluster = std::move(*kafka::MockCluster::Start(1));
  rd_kafka_mock_cluster_t* mock = cluster->handle();
  const kafka::Topics topics;
  CreateSpecTopics(cluster.get(), topics);
  const kafka::ClientConfig config{cluster->bootstrap_servers(), {}};
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  ClaimWorkload w;
  MakeClaimWorkload(producer.get(), topics, 3000, ::testing::TempDir() + "/fault_test_reference",
                    &w);
  for (const auto& [key, value] : w.claims) Send(producer.get(), topics.claims, key, value);
  producer->flush(30000);

  std::thread broker_up;
  const std::vector<Fault> faults = {
      {"Produce: NOT_LEADER_FOR_PARTITION x3 (retriable)", false,
       [](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_push_request_errors(m, kProduce, 3,
                                           RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                           RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                           RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
       }},
      {"AddPartitionsToTxn: COORDINATOR_NOT_AVAILABLE x2 (retriable)", false,
       [](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_push_request_errors(m, kAddPartitionsToTxn, 2,
                                           RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                                           RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE);
       }},
      {"TxnOffsetCommit: COORDINATOR_LOAD_IN_PROGRESS x2 (retriable)", false,
       [](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_push_request_errors(m, kTxnOffsetCommit, 2,
                                           RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
                                           RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
       }},
      {"EndTxn: NOT_COORDINATOR x2 (retriable)", false,
       [](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_push_request_errors(m, kEndTxn, 2, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                                           RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
       }},
      {"Produce: MSG_SIZE_TOO_LARGE (delivery fails: abortable)", false,
       [](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_push_request_errors(m, kProduce, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
       }},
      {"broker 1 down for 2 s", false,
       [&broker_up](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_broker_set_down(m, 1);
         broker_up = std::thread([m] {
           absl::SleepFor(absl::Seconds(2));
           rd_kafka_mock_broker_set_up(m, 1);
         });
       }},
      {"AddPartitionsToTxn: PRODUCER_FENCED (fatal)", true,
       [](rd_kafka_mock_cluster_t* m) {
         rd_kafka_mock_push_request_errors(m, kAddPartitionsToTxn, 1,
                                           RD_KAFKA_RESP_ERR_PRODUCER_FENCED);
       }},
  };

  gate::GateServiceOptions go;
  go.kafka = config;
  // A stopped gate's successor gets the partitions once the group has let the old member go.
  go.kafka.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  go.store.path = ::testing::TempDir() + "/fault_test_state";
  go.max_batch = 100;
  go.log = &std::cerr;
  std::filesystem::remove_all(go.store.path);
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  gate::SystemClock clock;
  auto started = gate::GateService::Start(go, profiles.get(), &clock);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<gate::GateService> gate = std::move(*started);

  const absl::Time t0 = absl::Now();
  // One fault after every two batches that produced something; the rest of the backlog after.
  size_t next_fault = 0;
  int batches = 0, restarts = 0, aborted = 0;
  std::vector<std::string> outcomes;
  const int64_t want = static_cast<int64_t>(w.expected.size());
  for (absl::Time deadline = absl::Now() + absl::Seconds(240);
       HighWatermarks(producer.get(), topics.decisions, 3) < want && absl::Now() < deadline;) {
    if (next_fault < faults.size() && batches >= 2) {
      faults[next_fault].inject(mock);
      batches = 0;
      outcomes.push_back(
          absl::StrCat(absl::FormatDuration(absl::Now() - t0), " ", faults[next_fault].name, ": "));
      ++next_fault;
    }
    const int64_t aborted_before = gate->stats().aborted;
    absl::StatusOr<int> n = gate->RunOnce(200);
    if (n.ok()) {
      batches += *n > 0;
      if (gate->stats().aborted > aborted_before) {
        ++aborted;
        if (!outcomes.empty()) outcomes.back() += "aborted and resumed; ";
      }
      continue;
    }
    // The supervisor's part: the process exits, a new one starts on the same state directory.
    ASSERT_TRUE(absl::IsFailedPrecondition(n.status())) << n.status();
    ASSERT_FALSE(outcomes.empty());
    outcomes.back() +=
        "stopped (" + std::string(n.status().message().substr(0, 60)) + "...), restarted; ";
    ++restarts;
    gate.reset();
    started = gate::GateService::Start(go, profiles.get(), &clock);
    ASSERT_TRUE(started.ok()) << started.status();
    gate = std::move(*started);
  }
  if (broker_up.joinable()) broker_up.join();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(gate->RunOnce(200).ok());  // nothing more may come
  for (const std::string& o : outcomes) std::cout << "fault at " << o << "\n";
  std::cout << "all decided after " << absl::FormatDuration(absl::Now() - t0) << "\n";
  EXPECT_EQ(next_fault, faults.size());
  EXPECT_EQ(restarts, 1);  // only the fenced producer stops the gate
  EXPECT_GE(aborted, 1);   // the failed delivery
  ExpectEachClaimOnce(config, topics, &w);
}

// STATUS_STALE (SPEC §5): claims decided while the status feed cannot be confirmed current for
// longer than the bound are flagged; once the feed answers again, they are not. The status topics
// are led by broker 3, everything else by broker 1, and broker 3 is taken down.
TEST(StalenessTest, FlagsClaimsWhileTheStatusFeedCannotBeConfirmed) {
  auto cluster = std::move(*kafka::MockCluster::Start(3));
  rd_kafka_mock_cluster_t* mock = cluster->handle();
  const kafka::Topics topics;
  CreateSpecTopics(cluster.get(), topics);
  for (const std::string* t :
       {&topics.person_status, &topics.institution_status, &topics.insured_status}) {
    for (int p = 0; p < 3; ++p) rd_kafka_mock_partition_set_leader(mock, t->c_str(), p, 3);
  }
  for (const std::string* t : {&topics.claims, &topics.decisions, &topics.audit}) {
    for (int p = 0; p < 3; ++p) rd_kafka_mock_partition_set_leader(mock, t->c_str(), p, 1);
  }
  rd_kafka_mock_partition_set_leader(mock, topics.dlq.c_str(), 0, 1);
  gate::GateServiceOptions go;
  rd_kafka_mock_coordinator_set(mock, "transaction", go.transactional_id.c_str(), 1);
  rd_kafka_mock_coordinator_set(mock, "group", go.group_id.c_str(), 1);
  const kafka::ClientConfig config{cluster->bootstrap_servers(), {}};
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  ClaimWorkload w;
  MakeClaimWorkload(producer.get(), topics, 150, ::testing::TempDir() + "/stale_test_reference",
                    &w);

  go.kafka = config;
  go.store.path = ::testing::TempDir() + "/stale_test_state";
  go.staleness_bound = absl::Seconds(60);
  go.log = &std::cerr;
  std::filesystem::remove_all(go.store.path);
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  gate::ManualClock clock(absl::FromUnixSeconds(1764000000));
  auto started = gate::GateService::Start(go, profiles.get(), &clock);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<gate::GateService> gate = std::move(*started);

  // Sends claims [from, to) and runs the gate until they are handled; then whether each of them
  // was flagged STATUS_STALE, by claim id.
  int64_t handled = 0;
  auto decide = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      Send(producer.get(), topics.claims, w.claims[i].first, w.claims[i].second);
    producer->flush(10000);
    handled += static_cast<int64_t>(to - from);
    for (absl::Time deadline = absl::Now() + absl::Seconds(60);
         gate->stats().decided + gate->stats().dead_lettered < handled && absl::Now() < deadline;) {
      ASSERT_TRUE(gate->RunOnce(200).ok());
    }
    ASSERT_EQ(gate->stats().decided + gate->stats().dead_lettered, handled);
  };
  auto stale_count = [&](size_t from, size_t to) {
    std::set<std::string> ids;
    for (size_t i = from; i < to; ++i) ids.insert(w.claims[i].first);
    int stale = 0, found = 0;
    for (const testing::Record& r : testing::ReadTopic(config, topics.audit, 3)) {
      v1::AuditRecord a;
      EXPECT_TRUE(a.ParseFromString(r.value));
      if (!ids.count(a.claim_id())) continue;
      ++found;
      for (const v1::Reason& reason : a.reasons()) stale += reason.code() == v1::STATUS_STALE;
    }
    return std::make_pair(found, stale);
  };

  decide(0, 50);
  EXPECT_EQ(stale_count(0, 50).second, 0);

  rd_kafka_mock_broker_set_down(mock, 3);
  absl::SleepFor(absl::Seconds(2));  // the watch's last confirmation is now before the advance
  clock.Advance(absl::Seconds(61));
  absl::SleepFor(absl::Seconds(3));  // and the watch cannot confirm anything newer
  decide(50, 100);
  const auto [found_down, stale_down] = stale_count(50, 100);
  EXPECT_GT(found_down, 40);
  EXPECT_EQ(stale_down, found_down);  // every claim decided meanwhile is flagged

  rd_kafka_mock_broker_set_up(mock, 3);
  const absl::Time t0 = absl::Now();
  for (absl::Time until = absl::Now() + absl::Seconds(60);
       gate->status_current_as_of() < clock.Now() && absl::Now() < until;) {
    ASSERT_TRUE(gate->RunOnce(200).ok());  // the feed reconnects; the watch confirms it
  }
  EXPECT_EQ(gate->status_current_as_of(), clock.Now());
  std::cout << "status feed confirmed current " << absl::FormatDuration(absl::Now() - t0)
            << " after broker 3 came back\n";
  decide(100, 150);
  EXPECT_EQ(stale_count(100, 150).second, 0);
}

}  // namespace
}  // namespace claimgate
