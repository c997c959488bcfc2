// Thin adapters over librdkafka shared by the ledger and gate services: client construction from
// our configuration (librdkafka properties pass through verbatim, so SASL/TLS work as in any
// client), topic creation, and the one place RdKafka error codes become absl::Status.
#ifndef CLAIMGATE_LEDGER_KAFKA_KAFKA_H_
#define CLAIMGATE_LEDGER_KAFKA_KAFKA_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "librdkafka/rdkafkacpp.h"

namespace claimgate::kafka {

struct ClientConfig {
  std::string bootstrap_servers;
  // librdkafka properties applied as given (e.g. security.protocol, sasl.*, ssl.*).
  std::map<std::string, std::string> properties;
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  std::map<std::string, std::string> config;  // e.g. cleanup.policy=compact
};

// The canonical absl code for an RdKafka error (Unavailable for transport and coordinator trouble,
// InvalidArgument for configuration, ResourceExhausted for a message refused for what it is (see
// RefusesMessage), ...), with the librdkafka message.
absl::Status ToStatus(RdKafka::ErrorCode code, absl::string_view context);
absl::Status ToStatus(const RdKafka::Error& error, absl::string_view context);

// Whether `code` refuses one message for what it is (too large for the client's message.max.bytes
// or the topic's max.message.bytes, a batch too large, a record the broker finds invalid): sending
// the same message again fails the same way, so retrying cannot cure it.
bool RefusesMessage(RdKafka::ErrorCode code);

// A producer; with a transactional id it is transactional (init_transactions() is the caller's, so
// that it can apply its own timeout and retry policy). InvalidArgument for a bad property.
// `delivery` (optional, must outlive the producer) receives every delivery report.
absl::StatusOr<std::unique_ptr<RdKafka::Producer>> MakeProducer(
    const ClientConfig& config, const std::string& transactional_id,
    RdKafka::DeliveryReportCb* delivery = nullptr);

// A KafkaConsumer; `group_id` empty: an assign()-only consumer that never commits (global tables,
// replay). isolation.level=read_committed and enable.auto.commit=false unless `config` says
// otherwise. `rebalance` (optional, must outlive the consumer) takes over partition assignment.
absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(
    const ClientConfig& config, const std::string& group_id,
    RdKafka::RebalanceCb* rebalance = nullptr);

// Creates the topics that do not exist yet (existing ones are left as they are) with the admin API
// of a real cluster, and returns once the metadata shows each with a leader for every partition.
// Unavailable when the cluster does not answer within `timeout_ms` (librdkafka's mock cluster
// implements no CreateTopics: use MockCluster::CreateTopic there). Cancelled as soon as `stop`
// (optional) is set.
absl::Status CreateTopics(const ClientConfig& config, const std::vector<TopicSpec>& topics,
                          int timeout_ms = 10000, const std::atomic<bool>* stop = nullptr);

// The group's committed offsets of `partitions` (set in place; OFFSET_INVALID when none), retrying
// what a cluster answers while its group coordinator moves or loads (NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, ...) for up to `timeout_ms`.
absl::Status CommittedOffsets(RdKafka::KafkaConsumer* consumer,
                              std::vector<RdKafka::TopicPartition*>& partitions, int timeout_ms,
                              absl::string_view what);

// The low and high watermarks of topic/partition, retrying what a cluster answers while a new
// topic's leaders are elected or a leader moves (NOT_LEADER_FOR_PARTITION, LEADER_NOT_AVAILABLE,
// UNKNOWN_TOPIC_OR_PART, ...) for up to `timeout_ms`.
absl::Status QueryWatermarks(RdKafka::Handle* handle, const std::string& topic, int32_t partition,
                             int64_t* low, int64_t* high, int timeout_ms);

// The number of partitions of an existing topic (metadata); NotFound when there is no such topic.
absl::StatusOr<int> PartitionCount(RdKafka::Handle* handle, const std::string& topic);

// Calls `fn` for each message of topic/partition in [from, to), in offset order, on an
// assign()-only consumer (left unassigned afterwards). A read_committed consumer skips aborted
// data and stops at the last stable offset. Unavailable when nothing arrives for
// `idle_timeout_ms`.
absl::Status ReadPartition(RdKafka::KafkaConsumer* consumer, const std::string& topic,
                           int32_t partition, int64_t from, int64_t to,
                           const std::function<void(RdKafka::Message&)>& fn,
                           int idle_timeout_ms = 10000);

// The offset of the first message of topic/partition with a timestamp at or after `t`
// (offsetsForTimes); the high watermark when there is none. Where the broker answers no time
// lookups (librdkafka's mock cluster), a binary search over message timestamps with `consumer`
// (assign()-only; left unassigned).
absl::StatusOr<int64_t> OffsetForTime(RdKafka::KafkaConsumer* consumer, const std::string& topic,
                                      int32_t partition, absl::Time t, int timeout_ms = 10000);

// The id of the cluster behind `handle` (metadata; Apache Kafka's cluster.id, a random
// "mockCluster..." id on librdkafka's mock). Unavailable when no broker answered within
// `timeout_ms` or the broker gave none.
absl::StatusOr<std::string> ClusterId(RdKafka::Handle* handle, int timeout_ms);

}  // namespace claimgate::kafka

#endif  // CLAIMGATE_LEDGER_KAFKA_KAFKA_H_
