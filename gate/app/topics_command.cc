// `claimgate topics`: prints the topic table (ledger/kafka/topics.h) that `serve` creates topics
// from, so that what deploy/ creates can be held to it (tests/deploy/check_topics.sh). Hidden from
// `claimgate --help`, whose text stays as released.
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gate/app/command.h"
#include "ledger/kafka/topics.h"

namespace claimgate::gate {
namespace {

// "1", or the serve setting that counts the partitions.
const char* PartitionsText(kafka::Partitions partitions) {
  switch (partitions) {
    case kafka::Partitions::kOne:
      return "1";
    case kafka::Partitions::kClaims:
      return "claims_partitions";
    case kafka::Partitions::kStatus:
      return "status_partitions";
  }
  return "?";
}

int RunTopicsCommand() {
  std::cout << "# config key\tdefault name\tpartitions\ttopic configs\twhat it is\n";
  for (const kafka::TopicDefinition& topic : kafka::TopicTable()) {
    std::vector<std::string> configs;
    for (const auto& [key, value] : topic.configs) configs.push_back(absl::StrCat(key, "=", value));
    std::cout << "topics." << topic.key << "\t" << topic.default_name << "\t"
              << PartitionsText(topic.partitions) << "\t"
              << (configs.empty() ? "-" : absl::StrJoin(configs, ",")) << "\t" << topic.what
              << "\n";
  }
  return 0;
}

}  // namespace

Command AddTopicsCommand(CLI::App& app) {
  CLI::App* topics = app.add_subcommand(
      "topics", "print the topic table: config key, name, partitions, topic configs, purpose");
  topics->group("");  // hidden
  return {topics, [](Context&) { return RunTopicsCommand(); }};
}

}  // namespace claimgate::gate
