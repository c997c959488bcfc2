// The streaming path, on librdkafka's mock cluster and on Apache Kafka: ledger service -> status
// topics -> gate service, deciding exactly what `claimgate check` decides on the same events
// (ledger events first, then claims), each claim once, malformed claims dead-lettered with their
// error.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/check/check.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/process_metrics.h"
#include "gate/service/gate_service.h"
#include "gate/service/replay_kafka.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "ledger/codec.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/service/ledger_metrics.h"
#include "ledger/service/ledger_service.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "tests/testing/claim_workload.h"
#include "tests/testing/kafka_testing.h"
#include "tests/testing/test_broker.h"

namespace claimgate {
namespace {

struct Lines {
  std::vector<std::string> ledger, claims, malformed;
};

Lines SplitDemo() {
  std::ifstream in(std::string(CLAIMGATE_SOURCE_DIR) + "/docs/examples/demo-2025.jsonl");
  Lines out;
  std::string line;
  while (std::getline(in, line)) {
    v1::Event e;
    if (!ledger::ParseEventJson(line, &e).ok()) {
      out.malformed.push_back(line);
    } else if (ledger::IsLedgerEvent(e)) {
      out.ledger.push_back(line);
    } else {
      out.claims.push_back(line);
    }
  }
  return out;
}

void Produce(const kafka::ClientConfig& config, const std::string& topic,
             const std::vector<std::string>& values, bool keyed_by_claim) {
  auto p = kafka::MakeProducer(config, "");
  ASSERT_TRUE(p.ok());
  for (const std::string& v : values) {
    std::string key;
    v1::Event e;
    if (keyed_by_claim && ledger::ParseEventJson(v, &e).ok()) key = e.claim().claim_id();
    ASSERT_EQ((*p)->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                            const_cast<char*>(v.data()), v.size(),
                            key.empty() ? nullptr : key.data(), key.size(), 0, nullptr),
              RdKafka::ERR_NO_ERROR);
  }
  (*p)->flush(10000);
}

using claimgate::testing::AllBrokers;
using claimgate::testing::BrokerKind;
using claimgate::testing::BrokerKindName;
using claimgate::testing::ReadTopic;
using claimgate::testing::Record;

// outcome and reasons of a decision, as JSON
std::string Verdict(const v1::Decision& d) {
  v1::Decision copy = d;
  copy.clear_audit();
  return ledger::ToJson(copy);
}

class StreamingTest : public ::testing::TestWithParam<BrokerKind> {};

TEST_P(StreamingTest, DecidesLikeCheckEachClaimOnceAndDeadLettersMalformed) {
  const absl::Time started = absl::Now();
  const Lines lines = SplitDemo();
  ASSERT_GT(lines.claims.size(), 50u);
  ASSERT_EQ(lines.malformed.size(), 2u);
  auto profiles = std::move(*ledger::ProfileSet::Builtin());

  // What the file path decides on the same events, ledger events first.
  std::map<std::string, std::string> expected;
  {
    std::stringstream in, out, err;
    for (const auto& l : lines.ledger) in << l << "\n";
    for (const auto& l : lines.claims) in << l << "\n";
    gate::FixedClock clock(absl::UnixEpoch());
    ASSERT_TRUE(gate::RunCheck(in, out, err, *profiles, gate::CheckOptions(), clock).ok());
    std::string line;
    while (std::getline(out, line)) {
      v1::Decision d;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &d).ok());
      expected[d.claim_id()] = Verdict(d);
    }
  }

  CLAIMGATE_START_BROKER(broker, GetParam());
  broker->CreateSpecTopics();
  const kafka::Topics& topics = broker->topics();
  const kafka::ClientConfig config = broker->config();
  Produce(config, topics.ledger_events, lines.ledger, false);

  // Metrics of both services in one registry, as `claimgate serve --role all` has them.
  prometheus::Registry registry;
  ledger::LedgerMetrics ledger_metrics(registry);
  gate::GateMetrics gate_metrics(registry);
  gate::HttpMetrics http_metrics(registry);
  gate::CodeOwnerMetrics owner_metrics(registry);  // --role all runs a code owner too
  ledger::RegisterBuildInfo(registry, "test");
  ledger::ConsumerLag lag;
  ledger::LedgerServiceOptions lo;
  lo.metrics = &ledger_metrics;
  lo.lag = &lag;
  lo.kafka = config;
  lo.topics = topics;
  lo.group_id = broker->Id(lo.group_id);
  lo.transactional_id = broker->Id(lo.transactional_id);
  lo.input_format = kafka::Format::kJson;
  auto ledger_service = ledger::LedgerService::Start(lo, profiles.get());
  ASSERT_TRUE(ledger_service.ok()) << ledger_service.status();
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*ledger_service)->stats().next_offset < static_cast<int64_t>(lines.ledger.size()) &&
         absl::Now() < deadline) {
    ASSERT_TRUE((*ledger_service)->RunOnce(200).ok());
  }
  ASSERT_EQ((*ledger_service)->stats().next_offset, static_cast<int64_t>(lines.ledger.size()));

  std::vector<std::string> claims = lines.claims;
  claims.insert(claims.end(), lines.malformed.begin(), lines.malformed.end());
  Produce(config, topics.claims, claims, true);

  gate::GateServiceOptions go;
  go.kafka = config;
  go.topics = topics;
  go.group_id = broker->Id(go.group_id);
  go.transactional_id = broker->Id(go.transactional_id);
  go.metrics = &gate_metrics;
  go.lag = &lag;
  // The restarted gate below gets the partitions once the group has let the old member go.
  go.kafka.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
  go.input_format = kafka::Format::kJson;
  std::stringstream gate_log;
  go.log = &gate_log;
  go.store.path = ::testing::TempDir() + "/streaming_gate_state_" +
                  (broker->apache() ? "apache" : "mock");  // both may run at once
  std::filesystem::remove_all(go.store.path);
  gate::SystemClock clock;
  auto gate_service = gate::GateService::Start(go, profiles.get(), &clock);
  ASSERT_TRUE(gate_service.ok()) << gate_service.status();
  while ((*gate_service)->stats().decided + (*gate_service)->stats().dead_lettered <
             static_cast<int64_t>(claims.size()) &&
         absl::Now() < deadline) {
    absl::StatusOr<int> n = (*gate_service)->RunOnce(200);
    ASSERT_TRUE(n.ok()) << n.status();
  }
  EXPECT_TRUE((*gate_service)->ready()) << gate_log.str();
  EXPECT_EQ((*gate_service)->stats().status_unreadable, 0);
  EXPECT_GT((*gate_service)->stats().status_records, 0);
  EXPECT_EQ((*gate_service)->stats().decided, static_cast<int64_t>(lines.claims.size()));
  EXPECT_EQ((*gate_service)->stats().dead_lettered, 2);

  // A read_committed reader finds every claim decided once, as the file path decided it.
  std::map<std::string, int> seen;
  for (const Record& r : ReadTopic(config, topics.decisions, 3)) {
    v1::Decision d;
    ASSERT_TRUE(d.ParseFromString(r.value));
    ++seen[d.claim_id()];
    ASSERT_TRUE(expected.count(d.claim_id())) << d.claim_id();
    EXPECT_EQ(Verdict(d), expected[d.claim_id()]);
  }
  EXPECT_EQ(seen.size(), expected.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(ReadTopic(config, topics.audit, 3).size(), expected.size());
  // The audit records form one hash chain per claims partition (docs/audit.md), and the heads the
  // gate logs for operators to keep are the heads `audit verify` finds.
  claimgate::testing::ExpectIntactAuditChains(config, topics, expected.size());
  {
    gate::AuditTopicOptions audit;
    audit.kafka = config;
    audit.topic = topics.audit;
    gate::ChainVerifier verifier;
    ASSERT_TRUE(gate::VerifyAuditTopic(audit, &verifier).ok());
    (*gate_service)->LogChainHeads("test");
    ASSERT_EQ(verifier.chains().size(), 3u);
    for (const gate::ChainVerifier::Chain& c : verifier.chains()) {
      EXPECT_NE(gate_log.str().find(
                    absl::StrCat(" head ", c.key, "=", c.last_seq, ":", c.head_hash, " (test)")),
                std::string::npos)
          << gate_log.str();
    }
  }

  // The metrics say what happened, under the names deploy/ uses (deploy/metrics.txt).
  {
    // Gauges are published at most once a second: run the idle gate and ledger past that (the
    // ledger replays the sample year within its first second, before it may publish again).
    for (const absl::Time until = absl::Now() + absl::Milliseconds(1500); absl::Now() < until;) {
      ASSERT_TRUE((*gate_service)->RunOnce(100).ok());
      ASSERT_TRUE((*ledger_service)->RunOnce(100).ok());
    }
    std::vector<prometheus::MetricFamily> families = registry.Collect();
    for (prometheus::MetricFamily& f : lag.Collect()) families.push_back(std::move(f));
    for (prometheus::MetricFamily& f : gate::ProcessMetrics().Collect())
      families.push_back(std::move(f));
    const std::string exposition = prometheus::TextSerializer().Serialize(families);
    // Every input partition of both services is in the lag from assignment on, caught up: past
    // the transaction markers that end the status topics on Apache Kafka too.
    for (const auto& [topic, partitions] :
         std::vector<std::pair<std::string, int>>{{topics.ledger_events, 1},
                                                  {topics.claims, 3},
                                                  {topics.person_status, 3},
                                                  {topics.institution_status, 3},
                                                  {topics.insured_status, 3}}) {
      const std::string group = topic == topics.ledger_events ? lo.group_id : go.group_id;
      for (int p = 0; p < partitions; ++p) {
        EXPECT_NE(exposition.find(absl::StrCat("claimgate_consumergroup_lag{consumergroup=\"",
                                               group, "\",partition=\"", p, "\",topic=\"",
                                               topic, "\"} 0\n")),
                  std::string::npos)
            << topic << " " << p << "\n"
            << exposition;
      }
    }
    const auto& st = (*gate_service)->stats();
    for (const auto& [outcome, n] : st.outcomes) {
      EXPECT_NE(exposition.find(
                    absl::StrCat("claimgate_decisions_total{outcome=\"", outcome, "\"} ", n, "\n")),
                std::string::npos)
          << outcome;
    }
    EXPECT_NE(exposition.find("claimgate_dead_letters_total{reason=\"MALFORMED\"} 2\n"),
              std::string::npos);
    EXPECT_NE(
        exposition.find(absl::StrCat("claimgate_ledger_position ", lines.ledger.size(), "\n")),
        std::string::npos);
    std::set<std::string> exported, declared;
    std::istringstream in(exposition);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("# TYPE ", 0) == 0) exported.insert(line.substr(7, line.find(' ', 7) - 7));
    }
    std::ifstream list(std::string(CLAIMGATE_SOURCE_DIR) + "/deploy/metrics.txt");
    for (std::string name; std::getline(list, name);) {
      if (!name.empty() && name[0] != '#') declared.insert(name);
    }
    for (const std::string& name : exported) EXPECT_TRUE(declared.count(name)) << name;
    for (const std::string& name : declared) EXPECT_TRUE(exported.count(name)) << name;
    // Persons by state add up to the ledger's persons; the sample year terminates some.
    std::map<std::string, double> persons;
    std::istringstream lines_in(exposition);
    for (std::string line; std::getline(lines_in, line);) {
      const std::string prefix = "claimgate_ledger_persons{state=\"";
      if (line.rfind(prefix, 0) != 0) continue;
      const size_t quote = line.find('"', prefix.size());
      persons[line.substr(prefix.size(), quote - prefix.size())] =
          std::stod(line.substr(quote + 3));
    }
    EXPECT_EQ(persons["NORMAL"] + persons["SUSPENDED"] + persons["TERMINATED"],
              static_cast<double>((*ledger_service)->ledger().PersonIds().size()));
    EXPECT_GT(persons["TERMINATED"], 0);
  }

  // Dead letters keep the original bytes and say why.
  const auto dlq = ReadTopic(config, topics.dlq, 3);
  ASSERT_EQ(dlq.size(), 2u);
  for (const Record& r : dlq) {
    EXPECT_TRUE(r.value == lines.malformed[0] || r.value == lines.malformed[1]) << r.value;
    EXPECT_EQ(r.headers.at("error"), "MALFORMED");
    EXPECT_FALSE(r.headers.at("error_message").empty());
  }

  // A restarted gate (same state directory) cites the ledger position of the statuses it holds
  // before any new status arrives. Apache Kafka stores the offsets committed with each
  // transaction: the restarted member resumes after the last claim decided. librdkafka 2.0.2's mock
  // does not store them; there the member finds where to resume from its output topics
  // (docs/streaming.md, "Exactly once"). The gate knows the ledger
  // position of the newest status record it applied: the position of the last ledger event that
  // changed a record (refused events publish no record).
  int64_t ledger_position = 0;
  for (const std::string& id : (*ledger_service)->ledger().PersonIds()) {
    ledger_position =
        std::max(ledger_position, (*ledger_service)->ledger().FindPerson(id)->ledger_position());
  }
  for (const std::string& id : (*ledger_service)->ledger().InstitutionIds()) {
    ledger_position = std::max(ledger_position,
                               (*ledger_service)->ledger().FindInstitution(id)->ledger_position());
  }
  gate_service->reset();
  go.transactional_id = broker->Id("claimgate-gate-1");
  auto restarted = gate::GateService::Start(go, profiles.get(), &clock);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  std::string again = lines.claims.front();
  v1::Event probe;
  ASSERT_TRUE(ledger::ParseEventJson(again, &probe).ok());
  const std::string old_id = probe.claim().claim_id();
  again.replace(again.find(old_id), old_id.size(), "RESTART-1");
  again.replace(again.find(old_id), old_id.size(), "RESTART-1");
  Produce(config, topics.claims, {again}, true);
  bool found = false;
  for (absl::Time until = absl::Now() + absl::Seconds(90); !found && absl::Now() < until;) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*restarted)->RunOnce(200).ok());
    for (const Record& r : ReadTopic(config, topics.audit, 3)) {
      v1::AuditRecord a;
      ASSERT_TRUE(a.ParseFromString(r.value));
      if (a.claim_id() != "RESTART-1") continue;
      found = true;
      EXPECT_EQ(a.ledger_position(), ledger_position);
      EXPECT_FALSE(std::any_of(a.reasons().begin(), a.reasons().end(),
                               [](const v1::Reason& x) { return x.code() == v1::STATUS_STALE; }));
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ((*restarted)->stats().decided, 1);
  if (broker->apache()) {
    EXPECT_EQ((*restarted)->stats().skipped, 0);
  } else {
    // It resumes at the start of each partition's last batch: those claims are re-read and skipped.
    EXPECT_GT((*restarted)->stats().skipped, 0);
    EXPECT_LE((*restarted)->stats().skipped, static_cast<int64_t>(claims.size()));
  }
  EXPECT_EQ(ReadTopic(config, topics.decisions, 3).size(), expected.size() + 1);
  EXPECT_EQ(ReadTopic(config, topics.dlq, 3).size(), 2u);

  // Replay from the topics (issue 6, `claimgate replay --bootstrap-servers`): the audit records of
  // the run's time range replay against the record with zero differences.
  gate::KafkaReplayOptions ro;
  ro.kafka = config;
  ro.topics = topics;
  ro.input_format = kafka::Format::kJson;
  ro.from = started;
  ro.to = absl::Now() + absl::Hours(1);
  ro.window = 16;  // several windows, each with its own claim reads
  std::stringstream replay_out;
  const absl::Time replay_started = absl::Now();
  absl::StatusOr<gate::ReplayTally> tally = gate::ReplayKafka(ro, *profiles, replay_out);
  std::cout << "replay against the record from the topics: " << absl::Now() - replay_started
            << "\n";
  ASSERT_TRUE(tally.ok()) << tally.status();
  EXPECT_EQ(tally->same(), static_cast<int64_t>(expected.size()) + 1) << replay_out.str();
  EXPECT_EQ(tally->differ(), 0) << replay_out.str();
  EXPECT_EQ(tally->errors(), 0) << replay_out.str();

  // An upheld appeal appended to ledger-events: against the ledger now, exactly the claims a
  // decider knowing it decides differently (the file path, claims after every ledger event).
  const std::string appeal =
      R"({"event_id":"APPEAL-1","time":"2026-01-10T09:00:00+08:00","assessment_revoked":{"assessment_id":"A015","reason":"appeal upheld"}})";
  Produce(config, topics.ledger_events, {appeal}, false);
  std::map<std::string, std::string> changed;
  {
    std::stringstream in, out, err;
    for (const auto& l : lines.ledger) in << l << "\n";
    in << appeal << "\n";
    for (const auto& l : lines.claims) in << l << "\n";
    gate::FixedClock fixed(absl::UnixEpoch());
    ASSERT_TRUE(gate::RunCheck(in, out, err, *profiles, gate::CheckOptions(), fixed).ok());
    for (std::string line; std::getline(out, line);) {
      v1::Decision d;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &d).ok());
      v1::Decision was;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(expected[d.claim_id()], &was).ok());
      if (d.outcome() != was.outcome())
        changed[d.claim_id()] = v1::Decision::Outcome_Name(d.outcome());
    }
  }
  ASSERT_FALSE(changed.empty());
  if (changed.count(old_id)) changed["RESTART-1"] = changed[old_id];  // the same claim again
  ro.replay.against = gate::Against::kCurrent;
  ro.from.reset();  // the whole topic
  ro.to.reset();
  replay_out.str("");
  tally = gate::ReplayKafka(ro, *profiles, replay_out);
  ASSERT_TRUE(tally.ok()) << tally.status();
  std::map<std::string, std::string> listed;
  for (std::string line; std::getline(replay_out, line);) {
    const size_t id = line.find("\"claim_id\":\"") + 12;
    const size_t at = line.find("\"replayed\":{\"outcome\":\"") + 23;
    listed[line.substr(id, line.find('"', id) - id)] = line.substr(at, line.find('"', at) - at);
  }
  EXPECT_EQ(listed, changed);
  EXPECT_EQ(tally->errors(), 0);
}

INSTANTIATE_TEST_SUITE_P(Brokers, StreamingTest, AllBrokers(), BrokerKindName);

}  // namespace
}  // namespace claimgate
