// The ledger service killed with SIGKILL at random points while ledger events flow, restarted on
// the same state directory (its own RocksDB), again and again: afterwards the newest record of
// every person and institution on the compacted status topics equals what one uninterrupted ledger
// computes from the same events, on the mock and on Apache Kafka. (Notices are at least once on
// librdkafka 2.0.2's mock, which keeps no transactional offsets: docs/streaming.md.)
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gate/synthetic/synthetic.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/ledger.h"
#include "tests/testing/claim_workload.h"
#include "tests/testing/events.h"
#include "tests/testing/kafka_testing.h"
#include "tests/testing/test_broker.h"

namespace claimgate {
namespace {

using claimgate::testing::AllBrokers;
using claimgate::testing::BrokerKind;
using claimgate::testing::BrokerKindName;
using claimgate::testing::BrokerName;
using claimgate::testing::Child;
using claimgate::testing::HighWatermarks;
using claimgate::testing::KillRepeatedly;
using claimgate::testing::ReadTopic;
using claimgate::testing::Record;
using claimgate::testing::Send;
using claimgate::testing::SpawnClaimgate;

class LedgerCrashTest : public ::testing::TestWithParam<BrokerKind> {};

TEST_P(LedgerCrashTest, KilledLedgerConvergesToTheUninterruptedState) {
  CLAIMGATE_START_BROKER(broker, GetParam());
  broker->CreateSpecTopics();
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  auto producer = std::move(*kafka::MakeProducer(config, ""));

  // A population and a year of assessments; what one uninterrupted ledger makes of them.
  synthetic::SyntheticOptions pop;
  pop.persons = 1500;
  pop.institutions = 150;
  pop.assessment_rate = 0.6;
  std::vector<std::string> events;
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  auto reference = std::move(*ledger::Ledger::Create(profiles.get(), "national"));
  synthetic::GenerateStream(pop, 4000, [&](const v1::Event& e) {
    if (!ledger::IsLedgerEvent(e)) return;
    events.push_back(e.SerializeAsString());
    reference->Apply(e);
  });
  // Release 2 (SPEC §8.1, §8.2): insured and institution settlement suspensions, some lifted.
  claimgate::testing::EventBuilder ev;
  for (int k = 0; k < 60; ++k) {
    const std::string time = absl::StrFormat("2025-%02d-%02dT10:00", 1 + k % 12, 1 + k % 28);
    std::vector<v1::Event> more = {
        ev.InsuredSuspend(absl::StrCat("INS", k % 20), 3 + k % 10, absl::StrCat("D", k), time),
        ev.SettlementSuspend(synthetic::InstitutionId(k % 150),
                             k % 2 == 0 ? v1::SettlementSuspended::ALL
                                        : v1::SettlementSuspended::NONLOCAL,
                             absl::StrCat("S", k), time)};
    if (k % 7 == 6) more.push_back(ev.InsuredRevoke(absl::StrCat("D", k - 1), time));
    if (k % 3 == 2) more.push_back(ev.SettlementResume(absl::StrCat("S", k - 1), time));
    for (v1::Event& e : more) {
      e.set_event_id(absl::StrCat("R2-", k, "-", e.body_case()));
      events.push_back(e.SerializeAsString());
      reference->Apply(e);
    }
  }
  std::map<std::string, std::string> want;  // "topic/id" -> record bytes
  for (const std::string& id : reference->PersonIds())
    want[topics.person_status + "/" + id] = reference->FindPerson(id)->SerializeAsString();
  for (const std::string& id : reference->InstitutionIds()) {
    want[topics.institution_status + "/" + id] =
        reference->FindInstitution(id)->SerializeAsString();
  }
  for (const std::string& id : reference->InsuredIds())
    want[topics.insured_status + "/" + id] = reference->FindInsured(id)->SerializeAsString();
  ASSERT_EQ(reference->InsuredIds().size(), 20u);

  const std::string state =
      ::testing::TempDir() + "/ledger_crash_test_" + (broker->apache() ? "apache" : "mock");
  std::filesystem::remove_all(state);
  std::ofstream(state + ".yaml") << broker->ServeYaml();  // topics and ids of their own on Apache
  std::vector<std::string> args = {"serve",
                                         "--http-address",
                                         "127.0.0.1:0",
                                         "--role",
                                         "ledger",
                                         "--bootstrap-servers",
                                         config.bootstrap_servers,
                                         "--state-dir",
                                         state,
                                         "--no-create-topics"};
  if (broker->apache()) args.insert(args.end(), {"--config", state + ".yaml"});
  auto published = [&] { return HighWatermarks(producer.get(), topics.person_status, 3); };
  std::thread feeder([&] {
    for (size_t i = 0; i < events.size(); ++i) {
      Send(producer.get(), topics.ledger_events, "", events[i]);
      if (i % 100 == 99) {
        producer->flush(10000);
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    producer->flush(30000);
  });
  std::mt19937_64 rng(29);
  const int kills = KillRepeatedly(args, 5, 150, published, rng);
  feeder.join();
  EXPECT_GE(kills, 3);

  // The last incarnation runs until the newest records equal the reference (or time runs out).
  Child ledger;
  SpawnClaimgate(args, &ledger);
  std::map<std::string, std::string> newest;
  size_t differ = want.size();
  for (absl::Time deadline = absl::Now() + absl::Seconds(90);
       differ > 0 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Seconds(2));
    newest.clear();
    for (const std::string* topic :
         {&topics.person_status, &topics.institution_status, &topics.insured_status}) {
      for (const Record& r : ReadTopic(config, *topic, 3)) newest[*topic + "/" + r.key] = r.value;
    }
    differ = 0;
    for (const auto& [key, bytes] : want) {
      const auto it = newest.find(key);
      differ += it == newest.end() || it->second != bytes;
    }
  }
  EXPECT_EQ(ledger.Terminate(), 0);
  EXPECT_EQ(differ, 0u);
  EXPECT_EQ(newest.size(), want.size());  // and nothing that should not exist
  std::cout << "ledger crash test (" << BrokerName(broker) << "): " << kills << " kills, "
            << events.size() << " ledger events, "
            << want.size() << " status records, " << differ << " differ\n";
}

INSTANTIATE_TEST_SUITE_P(Brokers, LedgerCrashTest, AllBrokers(), BrokerKindName);

}  // namespace
}  // namespace claimgate
