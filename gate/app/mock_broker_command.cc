// `claimgate mock-broker`: librdkafka's mock cluster on loopback, for development and the
// benchmarks, until SIGTERM or SIGINT. Its bootstrap list is the first line of standard output.
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gate/app/command.h"
#include "gate/app/serve_config.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/kafka/topics.h"

namespace claimgate::gate {
namespace {

// The default of --topics: the topics of the table (ledger/kafka/topics.h), default names, claims
// and status topics with serve's default partition counts. The dead letters keep the one partition
// mock-broker has always given them: this default is part of its help text.
std::string DefaultTopics() {
  const ServeOptions serve;
  std::vector<std::string> topics;
  for (const kafka::TopicDefinition& topic : kafka::TopicTable()) {
    const int partitions =
        topic.field == &kafka::Topics::dlq
            ? 1
            : kafka::PartitionCount(topic.partitions, serve.claims_partitions,
                                    serve.status_partitions);
    topics.push_back(absl::StrCat(topic.default_name, ":", partitions));
  }
  return absl::StrJoin(topics, ",");
}

struct MockBrokerFlags {
  int brokers = 3;
  std::string topics = DefaultTopics();  // NAME:PARTITIONS,...
};

int RunMockBrokerCommand(const MockBrokerFlags& flags) {
  // Before librdkafka starts its threads; the signal is then taken here.
  const sigset_t stop = BlockStopSignals();
  auto cluster = kafka::MockCluster::Start(flags.brokers);
  if (!cluster.ok()) return Fail(std::string(cluster.status().message()));
  for (absl::string_view spec : absl::StrSplit(flags.topics, ',', absl::SkipEmpty())) {
    const std::pair<std::string, std::string> name_count = absl::StrSplit(spec, ':');
    int partitions = 0;
    if (name_count.first.empty() || !absl::SimpleAtoi(name_count.second, &partitions) ||
        partitions < 1) {
      return Fail(absl::StrCat("--topics: bad entry '", spec, "' (want NAME:PARTITIONS)"));
    }
    if (absl::Status s = (*cluster)->CreateTopic(name_count.first, partitions); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }
  std::cout << (*cluster)->bootstrap_servers() << std::endl;  // the contract: first line of stdout
  int sig = 0;
  sigwait(&stop, &sig);
  std::cerr << "claimgate mock-broker: signal " << sig << ", stopping\n";
  return 0;
}

}  // namespace

Command AddMockBrokerCommand(CLI::App& app) {
  auto flags = std::make_shared<MockBrokerFlags>();
  CLI::App* mock = app.add_subcommand(
      "mock-broker", "run librdkafka's mock Kafka cluster on loopback until SIGTERM/SIGINT");
  mock->add_option("--brokers", flags->brokers, "number of brokers")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  mock->add_option("--topics", flags->topics, "topics to create, NAME:PARTITIONS,...")
      ->capture_default_str();
  return {mock, [flags](Context&) { return RunMockBrokerCommand(*flags); }};
}

}  // namespace claimgate::gate
