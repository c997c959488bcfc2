// The SPEC §2 topics, written once: their names (configurable), partitions and topic configs.
// `serve` creates topics from TopicTable(), `claimgate topics` prints it, and
// tests/deploy/check_topics.sh holds deploy/kafka/create-topics.sh and deploy/config to it.
#ifndef CLAIMGATE_LEDGER_KAFKA_TOPICS_H_
#define CLAIMGATE_LEDGER_KAFKA_TOPICS_H_

#include <string>
#include <utility>
#include <vector>

namespace claimgate::kafka {

// The names in use; each starts as its TopicTable() default name.
struct Topics {
  Topics();

  std::string ledger_events;
  std::string claims;
  std::string person_status;
  std::string institution_status;
  std::string insured_status;
  std::string decisions;
  std::string audit;
  std::string notices;
  std::string dlq;
  std::string code_checks;
  std::string code_results;
};

// How many partitions a topic has.
enum class Partitions {
  kOne,     // one: its order is a total order
  kClaims,  // the claims count (serve's claims_partitions): the upper bound on gate instances
  kStatus,  // the status count (serve's status_partitions): every gate reads them all
};

struct TopicDefinition {
  std::string Topics::*field;
  const char* key;           // its key under `topics:` in serve's configuration file
  const char* default_name;  // SPEC §2
  Partitions partitions;
  std::vector<std::pair<std::string, std::string>> configs;  // Kafka topic configs, in order
  const char* what;
};

// The eleven topics, in the order of Topics' fields. Thread-safe; the table lives for the process.
const std::vector<TopicDefinition>& TopicTable();

// The partitions of a topic when claims topics have `claims` and status topics `status`.
int PartitionCount(Partitions partitions, int claims, int status);

// Wire formats of message values.
enum class Format { kProtobuf, kJson };

}  // namespace claimgate::kafka

#endif  // CLAIMGATE_LEDGER_KAFKA_TOPICS_H_
