// The broker an integration test runs against (issue 14): librdkafka's mock cluster in the test's
// process, or the Apache Kafka that the ctest fixture `apache_kafka` started once for the whole run
// (deploy/kafka/local-kafka.sh; its bootstrap servers are in the file $CLAIMGATE_APACHE_KAFKA).
// Tests share that cluster, so each TestBroker on it names its topics, consumer groups and
// transactional ids apart with a prefix of its own.
//
//   class MyTest : public ::testing::TestWithParam<BrokerKind> {};
//   TEST_P(MyTest, X) { CLAIMGATE_START_BROKER(broker, GetParam()); ... broker->config() ... }
//   INSTANTIATE_TEST_SUITE_P(Brokers, MyTest, AllBrokers(), BrokerKindName);
#ifndef CLAIMGATE_TESTS_TESTING_TEST_BROKER_H_
#define CLAIMGATE_TESTS_TESTING_TEST_BROKER_H_

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ledger/kafka/kafka.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/topics.h"

namespace claimgate::testing {

enum class BrokerKind { kMock, kApache };

inline void PrintTo(BrokerKind kind, std::ostream* os) {
  *os << (kind == BrokerKind::kMock ? "mock" : "Apache Kafka");
}

inline std::string BrokerKindName(const ::testing::TestParamInfo<BrokerKind>& info) {
  return info.param == BrokerKind::kMock ? "Mock" : "Apache";
}

inline auto AllBrokers() { return ::testing::Values(BrokerKind::kMock, BrokerKind::kApache); }

class TestBroker;
inline std::string BrokerName(const std::unique_ptr<TestBroker>& broker);

class TestBroker {
 public:
  // kMock: a new mock cluster of `mock_brokers` brokers. kApache: the fixture's cluster; nullptr
  // with *skip set when the test runs outside ctest (no $CLAIMGATE_APACHE_KAFKA), and a failure
  // when ctest named a file that holds no bootstrap servers (the fixture failed).
  static std::unique_ptr<TestBroker> Start(BrokerKind kind, bool* skip, int mock_brokers = 1) {
    *skip = false;
    std::unique_ptr<TestBroker> b(new TestBroker());
    if (kind == BrokerKind::kMock) {
      auto cluster = kafka::MockCluster::Start(mock_brokers);
      EXPECT_TRUE(cluster.ok()) << cluster.status();
      if (!cluster.ok()) return nullptr;
      b->mock_ = std::move(*cluster);
      b->bootstrap_ = b->mock_->bootstrap_servers();
      return b;
    }
    const char* file = std::getenv("CLAIMGATE_APACHE_KAFKA");
    if (file == nullptr) {
      *skip = true;
      return nullptr;
    }
    std::ifstream in(file);
    std::getline(in, b->bootstrap_);
    EXPECT_FALSE(b->bootstrap_.empty())
        << file << " names no Apache Kafka (did the apache_kafka fixture start?)";
    if (b->bootstrap_.empty()) return nullptr;
    std::random_device rd;
    b->prefix_ = absl::StrCat("t", getpid(), "-", rd() % 1000000, "-");
    for (const kafka::TopicDefinition& t : kafka::TopicTable()) {
      b->topics_.*t.field = b->prefix_ + b->topics_.*t.field;
    }
    return b;
  }

  // A cluster of the test's own at `bootstrap` (one it may kill): SPEC §2's default names.
  static std::unique_ptr<TestBroker> OnCluster(const std::string& bootstrap) {
    std::unique_ptr<TestBroker> b(new TestBroker());
    b->bootstrap_ = bootstrap;
    return b;
  }

  bool apache() const { return mock_ == nullptr; }
  kafka::MockCluster* mock() const { return mock_.get(); }
  const std::string& bootstrap_servers() const { return bootstrap_; }
  kafka::ClientConfig config() const { return kafka::ClientConfig{bootstrap_, {}}; }
  // The SPEC §2 topic names: the defaults on the mock, prefixed on Apache Kafka.
  const kafka::Topics& topics() const { return topics_; }
  // A consumer group or transactional id, apart from other tests' on Apache Kafka.
  std::string Id(const std::string& base) const { return prefix_ + base; }

  // The SPEC §2 topics with the table's configs (ledger-events kept for ever, status compacted),
  // claims and status topics with `partitions` partitions, each replicated `replication_factor`
  // times (then with min.insync.replicas 2). Returns when the cluster's metadata shows them all.
  void CreateSpecTopics(int partitions = 3, int replication_factor = 1) {
    std::vector<kafka::TopicSpec> specs;
    for (const kafka::TopicDefinition& t : kafka::TopicTable()) {
      kafka::TopicSpec spec;
      spec.name = topics_.*t.field;
      spec.partitions = kafka::PartitionCount(t.partitions, partitions, partitions);
      spec.replication_factor = replication_factor;
      if (replication_factor > 1) spec.config["min.insync.replicas"] = "2";
      for (const auto& [k, v] : t.configs) spec.config[k] = v;
      specs.push_back(spec);
    }
    if (mock_ != nullptr) {
      for (const kafka::TopicSpec& spec : specs)
        ASSERT_TRUE(mock_->CreateTopic(spec.name, spec.partitions).ok()) << spec.name;
      return;
    }
    const absl::Status created = kafka::CreateTopics(config(), specs, 30000);
    ASSERT_TRUE(created.ok()) << created;
  }

  // serve's configuration file: `kafka:` with `kafka_lines`, `gate:` with `gate_lines` (each line
  // indented by two spaces, ending in a newline), and on Apache Kafka these topics and the gate's
  // (instance `gate_instance`) and ledger's group and transactional ids.
  std::string ServeYaml(const std::string& kafka_lines = "", const std::string& gate_lines = "",
                        int gate_instance = 0) const {
    std::string yaml;
    if (!kafka_lines.empty()) absl::StrAppend(&yaml, "kafka:\n", kafka_lines);
    std::string gate = gate_lines, ledger;
    if (mock_ == nullptr) {
      absl::StrAppend(&yaml, "topics:\n");
      for (const kafka::TopicDefinition& t : kafka::TopicTable())
        absl::StrAppend(&yaml, "  ", t.key, ": ", topics_.*t.field, "\n");
      absl::StrAppend(&gate, "  group_id: ", Id("claimgate-gate"), "\n  transactional_id: ",
                      Id(absl::StrCat("claimgate-gate-", gate_instance)), "\n");
      absl::StrAppend(&ledger, "  group_id: ", Id("claimgate-ledger"), "\n  transactional_id: ",
                      Id("claimgate-ledger-0"), "\n");
    }
    if (!gate.empty()) absl::StrAppend(&yaml, "gate:\n", gate);
    if (!ledger.empty()) absl::StrAppend(&yaml, "ledger:\n", ledger);
    return yaml;
  }

  // The keys of every record of `topic` that Kafka's own (Java) console consumer reads with
  // isolation.level=read_committed: an outside client's view (deploy/kafka/local-kafka.sh consume).
  // Apache Kafka only.
  std::vector<std::string> KeysReadByJavaClient(const std::string& topic) const {
    std::vector<std::string> keys;
    const std::string command = absl::StrCat("'", CLAIMGATE_SOURCE_DIR,
                                             "/deploy/kafka/local-kafka.sh' consume '", bootstrap_,
                                             "' '", topic, "'");
    FILE* out = popen(command.c_str(), "r");
    EXPECT_NE(out, nullptr) << command;
    if (out == nullptr) return keys;
    char line[4096];
    while (fgets(line, sizeof(line), out) != nullptr) {
      std::string l(line);
      while (!l.empty() && l.back() == '\n') l.pop_back();
      const size_t second_space = l.find(' ', l.find(' ') + 1);  // "partition offset key"
      if (second_space != std::string::npos) keys.push_back(l.substr(second_space + 1));
    }
    EXPECT_EQ(pclose(out), 0) << command;
    return keys;
  }

  // Kafka's Java console consumer's view of `topic` against the claim ids `expected`: each id once,
  // nothing else (expectations); prints and returns the ids it read.
  template <typename Map>
  size_t ExpectJavaClientReadsEachOnce(const std::string& topic, const Map& expected) const {
    std::map<std::string, int> seen;
    for (const std::string& key : KeysReadByJavaClient(topic)) ++seen[key];
    int lost = 0, duplicated = 0;
    for (const auto& [id, unused] : expected) lost += seen.count(id) == 0;
    for (const auto& [id, n] : seen) duplicated += n > 1;
    EXPECT_EQ(seen.size(), expected.size());
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    std::cout << "read_committed (Kafka's Java console consumer): " << seen.size() << " claims, "
              << lost << " lost, " << duplicated << " duplicated\n";
    return seen.size();
  }

 private:
  TestBroker() = default;
  std::unique_ptr<kafka::MockCluster> mock_;
  std::string bootstrap_;
  std::string prefix_;
  kafka::Topics topics_;
};

inline std::string BrokerName(const std::unique_ptr<TestBroker>& broker) {
  return broker->apache() ? "Apache Kafka" : "mock";
}

}  // namespace claimgate::testing

// Starts `var` (a std::unique_ptr<TestBroker>) of `kind`; skips the test when Apache Kafka was
// asked for outside ctest, and ends it when the broker cannot start.
#define CLAIMGATE_START_BROKER(var, kind, ...)                                           \
  bool var##_skip = false;                                                              \
  std::unique_ptr<claimgate::testing::TestBroker> var =                                 \
      claimgate::testing::TestBroker::Start((kind), &var##_skip, ##__VA_ARGS__);        \
  if (var##_skip) GTEST_SKIP() << "Apache Kafka runs under ctest (fixture apache_kafka)"; \
  ASSERT_NE(var, nullptr)

#endif  // CLAIMGATE_TESTS_TESTING_TEST_BROKER_H_
