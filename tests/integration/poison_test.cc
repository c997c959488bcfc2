// One message must never stop a partition (issue 12, item 3), against librdkafka's mock cluster:
// a message too big for the dead-letter topic, a claim over the size limit, a claim whose audit
// record cannot be produced (too big for the client, or refused by the broker), a retry loop that
// makes no progress, which must be detected, counted and make the gate unready, and a ledger event
// whose status record would be too big to publish.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/gate_service.h"
#include "gtest/gtest.h"
#include "ledger/digest.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/service/ledger_service.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/testing/claim_workload.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate {
namespace {

using claimgate::testing::CreateSpecTopics;
using claimgate::testing::ReadTopic;
using claimgate::testing::Record;

constexpr int16_t kProduce = 0;  // Kafka protocol API key

// A claim (serialized v1::Event) with `practitioners` distinct practitioners whose ids are
// `id_bytes` long, at an institution nobody registered (so it is decided without a status feed).
std::string ClaimBytes(const std::string& id, int practitioners = 1, int id_bytes = 8) {
  v1::Event e;
  e.set_event_id("EV-" + id);
  e.mutable_time()->set_seconds(1760000000);
  v1::Claim* c = e.mutable_claim();
  c->set_claim_id(id);
  c->set_kind(v1::Claim::SETTLEMENT);
  c->set_institution_id("H1");
  c->mutable_service_time()->set_seconds(1760000000);
  c->set_visit_type(v1::Claim::OUTPATIENT);
  c->set_insured_id("I1");
  for (int i = 0; i < practitioners; ++i) {
    std::string pid = absl::StrCat("P", i, "-");
    pid.resize(std::max<size_t>(pid.size(), static_cast<size_t>(id_bytes)), 'x');
    v1::Claim::Practitioner* p = c->add_practitioners();
    p->set_person_id(pid);
    p->set_role(v1::Claim::Practitioner::PRESCRIBER);
  }
  v1::Claim::Item* item = c->add_items();
  item->set_item_code("S1");
  item->set_category(v1::Claim::Item::SERVICE);
  item->set_amount_fen(100);
  return e.SerializeAsString();
}

class PoisonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::move(*kafka::MockCluster::Start(1));
    CreateSpecTopics(cluster_.get(), topics_);
    config_ = kafka::ClientConfig{cluster_->bootstrap_servers(), {}};
    // Big enough for the 1,000,501-byte message (as `kcat -X message.max.bytes=1048576` sends it).
    kafka::ClientConfig big = config_;
    big.properties["message.max.bytes"] = "1048576";
    producer_ = std::move(*kafka::MakeProducer(big, ""));
    options_.kafka = config_;
    // One directory per test: ctest runs them in parallel.
    options_.store.path = ::testing::TempDir() + "/poison_test_state_" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    options_.log = &log_;
    options_.metrics = &metrics_;
    options_.lag = &lag_;
    std::filesystem::remove_all(options_.store.path);
    profiles_ = std::move(*ledger::ProfileSet::Builtin());
  }

  void Send(int32_t partition, const std::string& key, const std::string& value) {
    ASSERT_EQ(producer_->produce(topics_.claims, partition, RdKafka::Producer::RK_MSG_COPY,
                                 const_cast<char*>(value.data()), value.size(), key.data(),
                                 key.size(), 0, nullptr),
              RdKafka::ERR_NO_ERROR);
    ASSERT_EQ(producer_->flush(10000), RdKafka::ERR_NO_ERROR);
  }

  void StartGate() {
    auto started = gate::GateService::Start(options_, profiles_.get(), &clock_);
    ASSERT_TRUE(started.ok()) << started.status();
    gate_ = std::move(*started);
  }

  // C-1 on claims partition 0 and C-2 on 1, then a gate run until it is ready.
  void StartReadyGateWithTwoClaims() {
    Send(0, "C-1", ClaimBytes("C-1"));
    Send(1, "C-2", ClaimBytes("C-2"));
    StartGate();
    for (absl::Time deadline = absl::Now() + absl::Seconds(20);
         !gate_->ready() && absl::Now() < deadline;) {
      ASSERT_TRUE(gate_->RunOnce(0).ok());
    }
    ASSERT_TRUE(gate_->ready());
  }

  // Runs the gate until a read_committed reader finds `decided` (claim id -> decisions) and
  // `dead_letters` dead letters, at most 30 s. (The gate's counters cannot tell: on the mock, which
  // keeps the data of aborted transactions visible, a retry may find outputs already there.)
  void RunUntilHandled(const std::map<std::string, int>& decided, size_t dead_letters) {
    std::map<std::string, int> found;
    size_t dlq = 0;
    for (absl::Time deadline = absl::Now() + absl::Seconds(30);
         (found != decided || dlq != dead_letters) && absl::Now() < deadline;) {
      for (absl::Time until = absl::Now() + absl::Milliseconds(500); absl::Now() < until;) {
        absl::StatusOr<int> n = gate_->RunOnce(100);
        ASSERT_TRUE(n.ok()) << n.status();
      }
      found = DecidedIds();
      dlq = ReadTopic(config_, topics_.dlq, 1).size();
    }
    EXPECT_EQ(found, decided) << log_.str();
    EXPECT_EQ(dlq, dead_letters) << log_.str();
  }

  std::string Exposition() {
    std::vector<prometheus::MetricFamily> families = registry_.Collect();
    for (prometheus::MetricFamily& f : lag_.Collect()) families.push_back(std::move(f));
    return prometheus::TextSerializer().Serialize(families);
  }

  std::map<std::string, int> DecidedIds() {
    std::map<std::string, int> ids;
    for (const Record& r : ReadTopic(config_, topics_.decisions, 3)) {
      v1::Decision d;
      EXPECT_TRUE(d.ParseFromString(r.value));
      ++ids[d.claim_id()];
    }
    return ids;
  }

  std::unique_ptr<kafka::MockCluster> cluster_;
  const kafka::Topics topics_;
  kafka::ClientConfig config_;
  std::unique_ptr<RdKafka::Producer> producer_;
  prometheus::Registry registry_;
  gate::GateMetrics metrics_{registry_};
  ledger::ConsumerLag lag_;
  std::stringstream log_;
  gate::GateServiceOptions options_;
  std::unique_ptr<ledger::ProfileSet> profiles_;
  gate::SystemClock clock_;
  std::unique_ptr<gate::GateService> gate_;
};

// The reproduction: 1,000,501 bytes of garbage (a default broker accepts them; their dead
// letter exceeds librdkafka's default message.max.bytes of 1,000,000), then a valid claim on the
// same partition and one on another partition. All three are handled; the dead letter keeps an
// excerpt, the digest, the size and where the original is.
TEST_F(PoisonTest, GarbageTooBigForTheDeadLetterTopicIsExcerptedAndTheOthersDecided) {
  std::string garbage(1000501, '\0');
  std::mt19937_64 rng(12);
  for (char& c : garbage) c = static_cast<char>(rng());
  garbage[0] = '\xff';
  Send(0, "", garbage);
  Send(0, "C-after", ClaimBytes("C-after"));
  Send(1, "C-other", ClaimBytes("C-other"));
  StartGate();
  RunUntilHandled({{"C-after", 1}, {"C-other", 1}}, 1);
  const std::vector<Record> dlq = ReadTopic(config_, topics_.dlq, 1);
  ASSERT_EQ(dlq.size(), 1u);
  const Record& d = dlq[0];
  EXPECT_EQ(d.value, garbage.substr(0, 65536));
  EXPECT_EQ(d.headers.at("error"), "MALFORMED");
  EXPECT_FALSE(d.headers.at("error_message").empty());
  EXPECT_EQ(d.headers.at("source"), "claims/0@0");
  EXPECT_EQ(d.headers.at("original_bytes"), "1000501");
  EXPECT_EQ(d.headers.at("original_sha256"), ledger::Sha256Hex(garbage));
  EXPECT_EQ(d.headers.at("excerpt_bytes"), "65536");
  EXPECT_NE(Exposition().find("claimgate_dead_letters_total{reason=\"MALFORMED\"} 1\n"),
            std::string::npos);
}

// A claim over gate.max_claim_bytes is dead-lettered whole (it fits the topic) without parsing;
// the claims around it are decided.
TEST_F(PoisonTest, ClaimOverMaxClaimBytesIsDeadLetteredUnparsed) {
  options_.max_claim_bytes = 20000;
  const std::string big = ClaimBytes("C-big", 1000, 30);
  ASSERT_GT(big.size(), 20000u);
  Send(0, "C-before", ClaimBytes("C-before"));
  Send(0, "C-big", big);
  Send(0, "C-after", ClaimBytes("C-after"));
  StartGate();
  RunUntilHandled({{"C-after", 1}, {"C-before", 1}}, 1);
  const std::vector<Record> dlq = ReadTopic(config_, topics_.dlq, 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].value, big);
  EXPECT_EQ(dlq[0].key, "C-big");
  EXPECT_EQ(dlq[0].headers.at("error"), "CLAIM_TOO_LARGE");
  EXPECT_EQ(dlq[0].headers.at("source"), "claims/0@1");
  EXPECT_EQ(dlq[0].headers.at("original_bytes"), absl::StrCat(big.size()));
  EXPECT_EQ(dlq[0].headers.count("excerpt_bytes"), 0u);
  EXPECT_NE(Exposition().find("claimgate_dead_letters_total{reason=\"CLAIM_TOO_LARGE\"} 1\n"),
            std::string::npos);
}

// A claim under the limit whose audit record exceeds the producer's message.max.bytes (many
// practitioners: the audit record states each one's status, and a reason for each): the claim is
// dead-lettered (OUTPUT_TOO_LARGE) instead of decided, in the same transaction as the claims
// around it, and the audit chain stays intact.
TEST_F(PoisonTest, ClaimWhoseAuditRecordIsTooBigIsDeadLettered) {
  options_.kafka.properties["message.max.bytes"] = "20000";
  const std::string wide = ClaimBytes("C-wide", 300, 40);
  ASSERT_LT(wide.size(), 19000u);
  Send(0, "C-before", ClaimBytes("C-before"));
  Send(0, "C-wide", wide);
  Send(0, "C-after", ClaimBytes("C-after"));
  Send(2, "C-other", ClaimBytes("C-other"));
  StartGate();
  RunUntilHandled({{"C-after", 1}, {"C-before", 1}, {"C-other", 1}}, 1);
  const std::vector<Record> dlq = ReadTopic(config_, topics_.dlq, 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].value, wide);
  EXPECT_EQ(dlq[0].headers.at("error"), "OUTPUT_TOO_LARGE");
  EXPECT_NE(dlq[0].headers.at("error_message").find("claim-audit"), std::string::npos)
      << dlq[0].headers.at("error_message");
  EXPECT_EQ(dlq[0].headers.at("source"), "claims/0@1");
  claimgate::testing::ExpectIntactAuditChains(config_, topics_, 3);
}

// The broker refuses the output of a claim that is alone in its transaction (as a topic with a
// smaller max.message.bytes than the client's would): the claim is dead-lettered with the broker's
// error; claims after it, on its partition and another, are decided.
TEST_F(PoisonTest, ClaimWhoseOutputTheBrokerRefusesIsDeadLettered) {
  Send(0, "C-refused", ClaimBytes("C-refused"));
  StartGate();
  rd_kafka_mock_push_request_errors(cluster_->handle(), kProduce, 1,
                                    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  RunUntilHandled({}, 1);
  Send(0, "C-after", ClaimBytes("C-after"));
  Send(1, "C-other", ClaimBytes("C-other"));
  RunUntilHandled({{"C-after", 1}, {"C-other", 1}}, 1);
  const std::vector<Record> dlq = ReadTopic(config_, topics_.dlq, 1);
  ASSERT_EQ(dlq.size(), 1u);
  EXPECT_EQ(dlq[0].headers.at("error"), "OUTPUT_TOO_LARGE");
  EXPECT_EQ(dlq[0].headers.at("source"), "claims/0@0");
}

// Every produce fails for a while (an abortable error): the gate backs off, detects that it makes
// no progress, says why (again every 10 s while it lasts), counts it, reports not ready, and keeps
// the lag visible; once the fault is gone it decides the claims and is ready again.
TEST_F(PoisonTest, RetryLoopWithoutProgressIsDetectedCountedAndUnready) {
  options_.stall_aborts = 3;
  options_.retry_backoff_max = absl::Milliseconds(400);
  ASSERT_NO_FATAL_FAILURE(StartReadyGateWithTwoClaims());
  // One failed ProduceRequest fails an attempt (the rest of its transaction is purged): a dozen
  // attempts fail, over about 4 s with this backoff.
  std::vector<rd_kafka_resp_err_t> errors(12, RD_KAFKA_RESP_ERR_POLICY_VIOLATION);
  rd_kafka_mock_push_request_errors_array(cluster_->handle(), kProduce, errors.size(),
                                          errors.data());
  bool unready = false;
  for (absl::Time deadline = absl::Now() + absl::Seconds(30);
       !unready && absl::Now() < deadline;) {
    ASSERT_TRUE(gate_->RunOnce(200).ok());
    unready = !gate_->ready();
  }
  ASSERT_TRUE(unready) << log_.str();
  EXPECT_EQ(gate_->stats().decided, 0);
  // Published at most once a second.
  for (absl::Time until = absl::Now() + absl::Milliseconds(1100); absl::Now() < until;)
    ASSERT_TRUE(gate_->RunOnce(100).ok());
  const std::string stalled = Exposition();
  EXPECT_NE(stalled.find("claimgate_stalls_total{service=\"gate\"} 1\n"), std::string::npos)
      << stalled;
  EXPECT_NE(stalled.find("claimgate_ready{service=\"gate\"} 0\n"), std::string::npos);
  EXPECT_NE(stalled.find("partition=\"0\",topic=\"claims\"} 1\n"), std::string::npos) << stalled;
  const std::string log = log_.str();
  EXPECT_NE(log.find("no progress"), std::string::npos) << log;
  EXPECT_NE(log.find("Broker: Policy violation"), std::string::npos) << log;
  RunUntilHandled({{"C-1", 1}, {"C-2", 1}}, 0);
  EXPECT_TRUE(gate_->ready());
  EXPECT_EQ(gate_->stats().stalls, 1);
  // Every third abort while stalled, a new producer takes over (a stuck one cannot stall it).
  EXPECT_GE(gate_->stats().producers_replaced, 1);
  EXPECT_NE(log_.str().find("a new transactional producer took over"), std::string::npos);
  EXPECT_NE(log_.str().find("progress resumed"), std::string::npos) << log_.str();
}

// The ledger's form of the same fault: a person registered under an id of 1,000,100 bytes (the
// broker takes the event) would make a person-status record too big to produce, the transaction
// would fail, and the restarted ledger would fail on it again, for ever. The event is refused as
// too large instead (a notice names its offset and digest), and the events after it apply.
TEST(LedgerPoisonTest, EventTooLargeIsRefusedAndTheNextOnesApplied) {
  auto cluster = std::move(*kafka::MockCluster::Start(1));
  const kafka::Topics topics;
  CreateSpecTopics(cluster.get(), topics);
  kafka::ClientConfig big{cluster->bootstrap_servers(), {{"message.max.bytes", "1048576"}}};
  auto producer = std::move(*kafka::MakeProducer(big, ""));
  auto event = [](const std::string& id) {
    v1::Event e;
    e.set_event_id(id);
    e.mutable_time()->set_seconds(1760000000);
    return e;
  };
  v1::Event institution = event("L1");
  institution.mutable_institution_registered()->set_institution_id("H1");
  institution.mutable_institution_registered()->set_kind(v1::InstitutionRegistered::HOSPITAL);
  institution.mutable_institution_registered()->set_level(3);
  institution.mutable_institution_registered()->set_region("130800");
  v1::Event huge = event("L2");
  huge.mutable_person_registered()->set_person_id(std::string(1000100, 'D'));
  huge.mutable_person_registered()->set_institution_id("H1");
  huge.mutable_person_registered()->set_role(v1::PersonRegistered::PHYSICIAN);
  v1::Event next = event("L3");
  next.mutable_person_registered()->set_person_id("D2");
  next.mutable_person_registered()->set_institution_id("H1");
  next.mutable_person_registered()->set_role(v1::PersonRegistered::PHYSICIAN);
  for (const v1::Event& e : {institution, huge, next})
    claimgate::testing::Send(producer.get(), topics.ledger_events, "", e.SerializeAsString());
  ASSERT_EQ(producer->flush(10000), RdKafka::ERR_NO_ERROR);

  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  ledger::LedgerServiceOptions lo;
  lo.kafka = kafka::ClientConfig{cluster->bootstrap_servers(), {}};
  auto started = ledger::LedgerService::Start(lo, profiles.get());
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<ledger::LedgerService> ledger = std::move(*started);
  for (absl::Time deadline = absl::Now() + absl::Seconds(30);
       ledger->stats().next_offset < 3 && absl::Now() < deadline;) {
    absl::StatusOr<int> n = ledger->RunOnce(200);
    ASSERT_TRUE(n.ok()) << n.status();
  }
  EXPECT_EQ(ledger->stats().next_offset, 3);
  EXPECT_NE(ledger->ledger().FindPerson("D2"), nullptr);
  int refused = 0;
  for (const Record& r : ReadTopic(lo.kafka, topics.notices, 1)) {
    v1::LedgerNotice n;
    ASSERT_TRUE(n.ParseFromString(r.value));
    if (n.notice() != "EVENT_REFUSED") continue;
    ++refused;
    EXPECT_EQ(n.error(), v1::MALFORMED);
    EXPECT_NE(n.message().find("EVENT_TOO_LARGE"), std::string::npos) << n.message();
    EXPECT_NE(n.message().find(ledger::Sha256Hex(huge.SerializeAsString())), std::string::npos)
        << n.message();
    EXPECT_NE(n.message().find("ledger-events offset 1"), std::string::npos) << n.message();
  }
  EXPECT_EQ(refused, 1);
  bool d2 = false;
  for (const Record& r : ReadTopic(lo.kafka, topics.person_status, 3)) d2 |= r.key == "D2";
  EXPECT_TRUE(d2);
}

// The fault CI met: after a failed produce on one partition, librdkafka holds the next message of
// another partition back for an epoch bump until the transaction is aborted. A flush that waited
// for it timed out after 30 s, attempt after attempt; the flush now ends at the first failed
// delivery, and the same producer (never replaced here) decides the claims once the errors end.
TEST_F(PoisonTest, ProduceErrorsNeedingAnEpochBumpDoNotHoldTheFlush) {
  options_.stall_aborts = 1000;
  options_.retry_backoff_max = absl::Milliseconds(400);
  ASSERT_NO_FATAL_FAILURE(StartReadyGateWithTwoClaims());
  std::vector<rd_kafka_resp_err_t> errors(3, RD_KAFKA_RESP_ERR_POLICY_VIOLATION);
  rd_kafka_mock_push_request_errors_array(cluster_->handle(), kProduce, errors.size(),
                                          errors.data());
  RunUntilHandled({{"C-1", 1}, {"C-2", 1}}, 0);
  EXPECT_EQ(gate_->stats().producers_replaced, 0);
}

}  // namespace
}  // namespace claimgate
