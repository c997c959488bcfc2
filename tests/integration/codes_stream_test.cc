// Duplicate traceability codes on the streaming path (SPEC §8.3, docs/duplicate-codes.md), on
// librdkafka's mock cluster and on Apache Kafka: two gate instances, each with its code owner, in
// one group; claims keyed by claim id, so that a drug box settled on one claims partition comes
// back on another. In four rounds (each decided before the next is produced, so that the order
// across partitions is the file's): claims that settle codes; claims presenting those codes again
// from other claims, reversals, a reversal of an unknown claim; claims presenting released and
// still-settled codes; claims presenting codes whose reversal the round before released. Every audit record states what `claimgate check` states for the same
// events in the same order: outcome, reasons, the first claims named, the codes settled and
// released. And no claim ever finds its own codes.
#include <atomic>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gate/check/check.h"
#include "gate/service/code_owner.h"
#include "gate/service/gate_service.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"
#include "ledger/service/ledger_service.h"
#include "tests/testing/kafka_testing.h"
#include "tests/testing/test_broker.h"

namespace claimgate {
namespace {

using claimgate::testing::AllBrokers;
using claimgate::testing::BrokerKind;
using claimgate::testing::BrokerKindName;
using claimgate::testing::ReadTopic;
using claimgate::testing::Record;

std::string Code(int n) { return absl::StrFormat("8123456%013d", n); }

// A SETTLEMENT claim at `institution` by `person` with one drug item carrying `codes`.
std::string Claim(const std::string& id, const std::string& institution,
                  const std::string& person, int day, const std::vector<std::string>& codes) {
  std::string list;
  for (const std::string& c : codes) absl::StrAppend(&list, list.empty() ? "" : ",", "\"", c, "\"");
  return absl::StrFormat(
      R"({"event_id":"%s","time":"2025-08-%02dT11:00:00+08:00","claim":{"claim_id":"%s",)"
      R"("kind":"SETTLEMENT","institution_id":"%s","service_time":"2025-08-%02dT10:30:00+08:00",)"
      R"("visit_type":"OUTPATIENT","insured_id":"P%s","practitioners":[{"person_id":"%s",)"
      R"("role":"PRESCRIBER"}],"items":[{"item_code":"X1","category":"DRUG","amount_fen":1250,)"
      R"("traceability_codes":[%s]}]}})",
      id, day, id, institution, day, id, person, list);
}

std::string Reversal(const std::string& event_id, const std::string& claim_id) {
  return absl::StrFormat(
      R"({"event_id":"%s","time":"2025-08-20T09:00:00+08:00","claim_reversed":)"
      R"({"claim_id":"%s","reason":"refund"}})",
      event_id, claim_id);
}

std::vector<std::string> LedgerLines() {
  std::vector<std::string> out;
  for (const char* h : {"H1", "H2"}) {
    out.push_back(absl::StrFormat(
        R"({"event_id":"I%s","time":"2025-01-02T09:00:00+08:00","institution_registered":)"
        R"({"institution_id":"%s","kind":"HOSPITAL","level":3,"region":"130800",)"
        R"("profile":"hebei"}})",
        h, h));
    out.push_back(absl::StrFormat(
        R"({"event_id":"R%s","time":"2025-01-02T09:00:00+08:00","person_registered":)"
        R"({"person_id":"D%s","institution_id":"%s","role":"PHYSICIAN"}})",
        h, h, h));
    out.push_back(absl::StrFormat(
        R"({"event_id":"S%s","time":"2025-01-02T10:00:00+08:00","commitment_signed":)"
        R"({"person_id":"D%s","institution_id":"%s"}})",
        h, h, h));
  }
  return out;
}

// Four rounds of claims (see the file comment).
std::vector<std::vector<std::string>> Rounds() {
  std::vector<std::vector<std::string>> rounds(4);
  constexpr int kFirst = 40;
  for (int i = 0; i < kFirst; ++i) {
    // Two boxes each; A0 and A1 present one box twice (counted once, never its own duplicate).
    std::vector<std::string> codes = {Code(2 * i), Code(2 * i + 1)};
    if (i < 2) codes.push_back(Code(2 * i));
    rounds[0].push_back(Claim(absl::StrCat("A", i), i % 2 ? "H1" : "H2", i % 2 ? "DH1" : "DH2", 2,
                              codes));
  }
  for (int i = 0; i < kFirst; i += 2) {  // A0, A2, ...'s first box again, from the other hospital
    rounds[1].push_back(
        Claim(absl::StrCat("B", i), i % 2 ? "H2" : "H1", i % 2 ? "DH2" : "DH1", 5,
              {Code(2 * i), Code(1000 + i)}));
  }
  rounds[1].push_back(Reversal("V1", "A1"));    // releases A1's two boxes
  rounds[1].push_back(Reversal("V3", "A3"));
  rounds[1].push_back(Reversal("V9", "NOPE"));  // unknown: UNKNOWN_CLAIM
  rounds[1].push_back(Claim("B99", "H1", "DH1", 6, {Code(5000), Code(5001)}));
  // Keyed like B99 (Produce): after it on its partition, often in its batch.
  rounds[1].push_back(Claim("B98", "H2", "DH2", 6, {Code(5000)}));
  rounds[1].push_back(Claim("D1", "H1", "DH1", 6, {Code(6000), Code(6001)}));
  rounds[1].push_back(Reversal("VD1", "D1"));   // often in D1's batch: reversed without asking
  rounds[2].push_back(Claim("C1", "H1", "DH1", 9, {Code(2), Code(3)}));  // A1's, released
  rounds[2].push_back(Claim("C5", "H2", "DH2", 9, {Code(11)}));          // A5's, still settled
  rounds[2].push_back(Reversal("V3B", "A3"));  // reversed before: UNKNOWN_CLAIM
  rounds[2].push_back(Reversal("V99", "B99"));
  rounds[3].push_back(Claim("C99", "H1", "DH1", 9, {Code(5000), Code(5001)}));  // released
  rounds[3].push_back(Claim("E1", "H2", "DH2", 9, {Code(6000)}));               // released
  return rounds;
}

// What an audit record states, without where and when it was decided.
std::string Essence(v1::AuditRecord a) {
  v1::AuditRecord e;
  e.set_claim_id(a.claim_id());
  e.set_event_id(a.event_id());
  e.set_outcome(a.outcome());
  *e.mutable_reasons() = a.reasons();
  *e.mutable_duplicate_codes() = a.duplicate_codes();
  *e.mutable_settled_codes() = a.settled_codes();
  *e.mutable_released_codes() = a.released_codes();
  e.set_codes_checked(a.codes_checked());
  return ledger::ToJson(e);
}

void Produce(RdKafka::Producer* p, const std::string& topic, const std::vector<std::string>& lines,
             bool keyed) {
  for (const std::string& v : lines) {
    v1::Event e;
    ASSERT_TRUE(ledger::ParseEventJson(v, &e).ok()) << v;
    std::string key = !keyed                 ? ""
                      : e.has_claim_reversed() ? e.claim_reversed().claim_id()
                                               : e.claim().claim_id();
    if (key == "B98") key = "B99";
    claimgate::testing::Send(p, topic, key, v);
  }
  p->flush(10000);
}

class CodesStreamTest : public ::testing::TestWithParam<BrokerKind> {};

TEST_P(CodesStreamTest, TwoGatesFindEachDuplicateAcrossPartitionsLikeCheck) {
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  const std::vector<std::string> ledger_lines = LedgerLines();
  const std::vector<std::vector<std::string>> rounds = Rounds();

  // The file path on the same events, in the same order.
  std::map<std::string, std::string> expected;  // event id -> Essence
  size_t refusals = 0;
  {
    std::stringstream in, out, err;
    for (const auto& l : ledger_lines) in << l << "\n";
    for (const auto& round : rounds)
      for (const auto& l : round) in << l << "\n";
    gate::FixedClock clock(absl::UnixEpoch());
    ASSERT_TRUE(gate::RunCheck(in, out, err, *profiles, gate::CheckOptions(), clock).ok());
    for (std::string line; std::getline(out, line);) {
      v1::Decision d;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &d).ok());
      expected[d.audit().event_id()] = Essence(d.audit());
    }
    for (std::string line; std::getline(err, line);)
      refusals += line.find("UNKNOWN_CLAIM") != std::string::npos;
  }
  ASSERT_EQ(refusals, 2u);
  // The rounds mean something: duplicates found, codes released.
  ASSERT_NE(expected["B0"].find("DUPLICATE_TRACEABILITY_CODE"), std::string::npos);
  ASSERT_EQ(expected["C1"].find("DUPLICATE_TRACEABILITY_CODE"), std::string::npos);
  ASSERT_NE(expected["C5"].find("DUPLICATE_TRACEABILITY_CODE"), std::string::npos);
  ASSERT_NE(expected["B98"].find("DUPLICATE_TRACEABILITY_CODE"), std::string::npos);
  ASSERT_EQ(expected["C99"].find("DUPLICATE_TRACEABILITY_CODE"), std::string::npos);
  ASSERT_EQ(expected["E1"].find("DUPLICATE_TRACEABILITY_CODE"), std::string::npos);

  CLAIMGATE_START_BROKER(broker, GetParam());
  broker->CreateSpecTopics();
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  Produce(producer.get(), topics.ledger_events, ledger_lines, false);

  ledger::LedgerServiceOptions lo;
  lo.kafka = config;
  lo.topics = topics;
  lo.group_id = broker->Id(lo.group_id);
  lo.transactional_id = broker->Id(lo.transactional_id);
  lo.input_format = kafka::Format::kJson;
  auto ledger_service = ledger::LedgerService::Start(lo, profiles.get());
  ASSERT_TRUE(ledger_service.ok()) << ledger_service.status();
  for (absl::Time deadline = absl::Now() + absl::Seconds(60);
       (*ledger_service)->stats().next_offset < static_cast<int64_t>(ledger_lines.size()) &&
       absl::Now() < deadline;) {
    ASSERT_TRUE((*ledger_service)->RunOnce(200).ok());
  }

  const std::string dir = ::testing::TempDir() + "/codes_stream_" +
                          (broker->apache() ? "apache" : "mock") + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::stringstream log;  // written by the gates' and owners' threads: read after they stop
  std::vector<std::unique_ptr<gate::GateService>> gates;
  std::vector<std::unique_ptr<gate::CodeOwner>> owners;
  gate::SystemClock clock;
  for (int i = 0; i < 2; ++i) {
    gate::GateServiceOptions go;
    go.kafka = config;
    go.kafka.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    go.topics = topics;
    go.group_id = broker->Id(go.group_id);
    go.transactional_id = broker->Id(absl::StrCat("gate-", i));
    go.input_format = kafka::Format::kJson;
    go.duplicate_codes = true;
    go.max_batch = 8;  // many batches: claims of one round meet in some and not in others
    go.store.path = absl::StrCat(dir, "/gate-", i);
    auto g = gate::GateService::Start(go, profiles.get(), &clock);
    ASSERT_TRUE(g.ok()) << g.status();
    gates.push_back(std::move(*g));
    gate::CodeOwnerOptions co;
    co.kafka = go.kafka;
    co.topics = topics;
    co.group_id = go.group_id + "-codes";
    co.transactional_id = go.transactional_id + "-codes";
    co.store.path = absl::StrCat(dir, "/codes-", i);
    co.store.block_cache_bytes = 16 << 20;
    auto o = gate::CodeOwner::Start(co);
    ASSERT_TRUE(o.ok()) << o.status();
    owners.push_back(std::move(*o));
  }
  std::atomic<bool> stop = false;
  std::atomic<int64_t> handled = 0;
  std::vector<std::thread> threads;
  std::vector<absl::Status> failures(4);
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      while (!stop.load() && failures[i].ok()) {
        absl::StatusOr<int> n = gates[i]->RunOnce(100);
        if (!n.ok()) failures[i] = n.status();
        handled = gates[0]->stats().decided + gates[0]->stats().dead_lettered +
                  gates[1]->stats().decided + gates[1]->stats().dead_lettered;
      }
    });
    threads.emplace_back([&, i] {
      while (!stop.load() && failures[2 + i].ok()) {
        absl::StatusOr<int> n = owners[i]->RunOnce(100);
        if (!n.ok()) failures[2 + i] = n.status();
      }
    });
  }
  int64_t want = 0;
  for (const auto& round : rounds) {
    Produce(producer.get(), topics.claims, round, true);
    want += static_cast<int64_t>(round.size());
    for (absl::Time deadline = absl::Now() + absl::Seconds(120);
         handled.load() < want && absl::Now() < deadline;) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    // Both gates' counts are read racily above; the topics are the truth.
    ASSERT_GE(handled.load(), want);
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  for (const absl::Status& f : failures) EXPECT_TRUE(f.ok()) << f;

  std::map<std::string, int> seen;
  for (const Record& r : ReadTopic(config, topics.audit, 3)) {
    v1::AuditRecord a;
    ASSERT_TRUE(a.ParseFromString(r.value));
    ++seen[a.event_id()];
    ASSERT_TRUE(expected.count(a.event_id())) << a.event_id();
    EXPECT_EQ(Essence(a), expected[a.event_id()]);
    for (const v1::AuditRecord::DuplicateCode& d : a.duplicate_codes())
      EXPECT_NE(d.first_claim_id(), a.claim_id()) << "a claim found its own code";
  }
  EXPECT_EQ(seen.size(), expected.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  size_t unknown = 0;
  for (const Record& r : ReadTopic(config, topics.dlq, claimgate::testing::TopicPartitions(config, topics.dlq)))
    unknown += r.headers.count("error") && r.headers.at("error") == "UNKNOWN_CLAIM";
  EXPECT_EQ(unknown, 2u);
  int64_t rounds_waited = 0, found = 0;
  for (const auto& g : gates) rounds_waited += g->stats().owner_rounds;
  for (const auto& o : owners) found += o->stats().found;
  EXPECT_GT(rounds_waited, 0);
  EXPECT_GT(found, 0);
  std::cout << "codes stream (" << claimgate::testing::BrokerName(broker) << "): "
            << seen.size() << " audit records, " << rounds_waited << " batches waited for "
            << "owners, " << found << " duplicates found by owners\n";
  gates.clear();
  owners.clear();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Brokers, CodesStreamTest, AllBrokers(), BrokerKindName);

}  // namespace
}  // namespace claimgate
