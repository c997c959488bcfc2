// librdkafka client construction, topic creation and error conversion.
#include "ledger/kafka/kafka.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ledger/kafka/logging.h"
#include "librdkafka/rdkafka.h"

namespace claimgate::kafka {
namespace {

absl::Status Apply(RdKafka::Conf& conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf.set(key, value, err) != RdKafka::Conf::CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat("kafka property ", key, ": ", err));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> BaseConf(
    const ClientConfig& config, const std::map<std::string, std::string>& defaults) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::map<std::string, std::string> all = defaults;
  // Requests go out at once instead of waiting for the previous segment's ACK (Nagle); Apache
  // Kafka's own clients do the same.
  all["socket.nagle.disable"] = "true";
  all["bootstrap.servers"] = config.bootstrap_servers;
  for (const auto& [k, v] : config.properties) all[k] = v;  // the operator's settings win
  for (const auto& [k, v] : all) {
    if (absl::Status s = Apply(*conf, k, v); !s.ok()) return s;
  }
  // librdkafka's log lines and error events into the process's log (logging.h).
  std::string err;
  if (conf->set("event_cb", logging::KafkaEvents(), err) != RdKafka::Conf::CONF_OK)
    return absl::InternalError(absl::StrCat("kafka event_cb: ", err));
  return conf;
}

}  // namespace

absl::Status ToStatus(RdKafka::ErrorCode code, absl::string_view context) {
  if (code == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
  const std::string msg = absl::StrCat(context, ": ", RdKafka::err2str(code));
  switch (code) {
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
      return absl::UnavailableError(msg);
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR_INVALID_CONFIG:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::InvalidArgumentError(msg);
    case RdKafka::ERR_MSG_SIZE_TOO_LARGE:
    case RdKafka::ERR_RECORD_LIST_TOO_LARGE:
    case RdKafka::ERR_INVALID_RECORD:
      return absl::ResourceExhaustedError(msg);
    case RdKafka::ERR__FENCED:
    case RdKafka::ERR_PRODUCER_FENCED:
    case RdKafka::ERR_INVALID_PRODUCER_EPOCH:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::InternalError(msg);
  }
}

bool RefusesMessage(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR_MSG_SIZE_TOO_LARGE || code == RdKafka::ERR_RECORD_LIST_TOO_LARGE ||
         code == RdKafka::ERR_INVALID_RECORD;
}

absl::Status ToStatus(const RdKafka::Error& error, absl::string_view context) {
  absl::Status s = ToStatus(error.code(), context);
  return absl::Status(s.code(), absl::StrCat(s.message(), " (", error.str(), ")"));
}

absl::StatusOr<std::unique_ptr<RdKafka::Producer>> MakeProducer(
    const ClientConfig& config, const std::string& transactional_id,
    RdKafka::DeliveryReportCb* delivery) {
  std::map<std::string, std::string> defaults = {
      {"enable.idempotence", "true"}, {"linger.ms", "5"}, {"compression.type", "lz4"}};
  if (!transactional_id.empty()) {
    defaults["transactional.id"] = transactional_id;
    defaults["transaction.timeout.ms"] = "60000";
  }
  absl::StatusOr<std::unique_ptr<RdKafka::Conf>> conf = BaseConf(config, defaults);
  if (!conf.ok()) return conf.status();
  std::string err;
  if (delivery != nullptr && (*conf)->set("dr_cb", delivery, err) != RdKafka::Conf::CONF_OK)
    return absl::InternalError(absl::StrCat("kafka producer: ", err));
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf->get(), err));
  if (p == nullptr) return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
  return p;
}

absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(
    const ClientConfig& config, const std::string& group_id, RdKafka::RebalanceCb* rebalance) {
  std::map<std::string, std::string> defaults = {{"isolation.level", "read_committed"},
                                                 {"enable.auto.commit", "false"},
                                                 {"enable.auto.offset.store", "false"},
                                                 {"auto.offset.reset", "earliest"},
                                                 {"enable.partition.eof", "true"}};
  // A consumer without a group still needs a group.id in librdkafka; it never joins or commits when
  // it only assign()s.
  defaults["group.id"] = group_id.empty() ? "claimgate-unjoined" : group_id;
  absl::StatusOr<std::unique_ptr<RdKafka::Conf>> conf = BaseConf(config, defaults);
  if (!conf.ok()) return conf.status();
  std::string err;
  if (rebalance != nullptr &&
      (*conf)->set("rebalance_cb", rebalance, err) != RdKafka::Conf::CONF_OK)
    return absl::InternalError(absl::StrCat("kafka consumer: ", err));
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf->get(), err));
  if (c == nullptr) return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  return c;
}

namespace {

// What a cluster answers while a coordinator or a partition leader moves, loads or is elected:
// asking again shortly succeeds.
bool Moving(RdKafka::ErrorCode err) {
  switch (err) {
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__UNKNOWN_PARTITION:
    case RdKafka::ERR__WAIT_COORD:
    case RdKafka::ERR__TRANSPORT:
      return true;
    default:
      return false;
  }
}

// Calls `request` (given the milliseconds left) until it succeeds, fails for another reason than a
// coordinator or leader on the move, or `timeout_ms` has passed.
absl::Status RetryWhileMoving(int timeout_ms, absl::string_view what,
                              const std::function<RdKafka::ErrorCode(int)>& request) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  for (;;) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    const RdKafka::ErrorCode err = request(static_cast<int>(std::max<int64_t>(left, 1)));
    if (err == RdKafka::ERR_NO_ERROR) return absl::OkStatus();
    if (!Moving(err) || left <= 0) return ToStatus(err, what);
    absl::SleepFor(absl::Milliseconds(100));
  }
}

}  // namespace

absl::Status QueryWatermarks(RdKafka::Handle* handle, const std::string& topic, int32_t partition,
                             int64_t* low, int64_t* high, int timeout_ms) {
  return RetryWhileMoving(timeout_ms, absl::StrCat("watermarks of ", topic, "/", partition),
                          [&](int ms) {
                            return handle->query_watermark_offsets(topic, partition, low, high, ms);
                          });
}

absl::Status CommittedOffsets(RdKafka::KafkaConsumer* consumer,
                              std::vector<RdKafka::TopicPartition*>& partitions, int timeout_ms,
                              absl::string_view what) {
  return RetryWhileMoving(timeout_ms, what,
                          [&](int ms) { return consumer->committed(partitions, ms); });
}

namespace {

// Waits until the cluster's metadata shows every topic with its partitions: a broker learns of a
// topic the controller created a moment later, and clients asking it before then hear "unknown
// topic" or "not leader".
absl::Status AwaitTopics(rd_kafka_t* rk, const std::vector<TopicSpec>& topics, int timeout_ms) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  for (const TopicSpec& t : topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, t.name.c_str(), nullptr);
    bool shown = false;
    while (!shown && absl::Now() < deadline) {
      const rd_kafka_metadata_t* md = nullptr;
      if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < md->topic_cnt; ++i) {
          const rd_kafka_metadata_topic_t& mt = md->topics[i];
          bool led = mt.err == RD_KAFKA_RESP_ERR_NO_ERROR && mt.partition_cnt >= t.partitions;
          for (int p = 0; led && p < mt.partition_cnt; ++p) led = mt.partitions[p].leader >= 0;
          shown |= led;
        }
        rd_kafka_metadata_destroy(md);
      }
      if (!shown) absl::SleepFor(absl::Milliseconds(100));
    }
    rd_kafka_topic_destroy(rkt);
    if (!shown) {
      return absl::UnavailableError(
          absl::StrCat("creating topics: ", t.name, " created but not yet led by a broker"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CreateTopics(const ClientConfig& config, const std::vector<TopicSpec>& topics,
                          int timeout_ms, const std::atomic<bool>* stop) {
  if (topics.empty()) return absl::OkStatus();
  // The admin API is C-only in librdkafka 2.0; a producer handle carries it.
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  logging::RouteKafkaLog(conf);
  char errstr[512];
  auto set = [&](const std::string& k, const std::string& v) {
    return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof(errstr)) ==
           RD_KAFKA_CONF_OK;
  };
  if (!set("bootstrap.servers", config.bootstrap_servers)) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(errstr);
  }
  for (const auto& [k, v] : config.properties) {
    if (!set(k, v)) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", k, ": ", errstr));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) return absl::InvalidArgumentError(errstr);
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  for (const TopicSpec& t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions,
                                                    t.replication_factor, errstr, sizeof(errstr));
    if (nt == nullptr) {  // an invalid name or count: say so rather than skip it silently
      rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
      rd_kafka_destroy(rk);
      return absl::InvalidArgumentError(absl::StrCat("topic ", t.name, ": ", errstr));
    }
    for (const auto& [k, v] : t.config) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
    new_topics.push_back(nt);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk, new_topics.data(), new_topics.size(), options, queue);
  absl::Status status = absl::OkStatus();
  // The answer, in slices of 100 ms so that a stop request is taken at once.
  rd_kafka_event_t* ev = nullptr;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms + 2000);
  while (ev == nullptr && absl::Now() < deadline && !(stop != nullptr && stop->load()))
    ev = rd_kafka_queue_poll(queue, 100);
  if (ev == nullptr && stop != nullptr && stop->load()) {
    status = absl::CancelledError("creating topics: stopped");
  } else if (ev == nullptr) {
    status = absl::UnavailableError("creating topics: no answer from the cluster");
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = ToStatus(static_cast<RdKafka::ErrorCode>(rd_kafka_event_error(ev)),
                      absl::StrCat("creating topics: ", rd_kafka_event_error_string(ev)));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    for (size_t i = 0; i < n && status.ok(); ++i) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = ToStatus(static_cast<RdKafka::ErrorCode>(err),
                          absl::StrCat("creating topic ", rd_kafka_topic_result_name(results[i])));
      }
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
  if (status.ok()) status = AwaitTopics(rk, topics, timeout_ms);
  rd_kafka_destroy(rk);
  return status;
}

absl::StatusOr<int> PartitionCount(RdKafka::Handle* handle, const std::string& topic) {
  std::string errstr;
  std::unique_ptr<RdKafka::Topic> t(RdKafka::Topic::create(handle, topic, nullptr, errstr));
  if (t == nullptr) return absl::InvalidArgumentError(absl::StrCat("topic ", topic, ": ", errstr));
  RdKafka::Metadata* raw = nullptr;
  const RdKafka::ErrorCode err = handle->metadata(false, t.get(), &raw, 10000);
  std::unique_ptr<RdKafka::Metadata> md(raw);
  if (err != RdKafka::ERR_NO_ERROR) return ToStatus(err, absl::StrCat("metadata of ", topic));
  for (const RdKafka::TopicMetadata* tm : *md->topics()) {
    if (tm->topic() == topic && tm->err() == RdKafka::ERR_NO_ERROR) {
      return static_cast<int>(tm->partitions()->size());
    }
  }
  return absl::NotFoundError(absl::StrCat("topic ", topic, " not found"));
}

absl::Status ReadPartition(RdKafka::KafkaConsumer* consumer, const std::string& topic,
                           int32_t partition, int64_t from, int64_t to,
                           const std::function<void(RdKafka::Message&)>& fn, int idle_timeout_ms) {
  if (from >= to) return absl::OkStatus();
  std::vector<RdKafka::TopicPartition*> tp = {
      RdKafka::TopicPartition::create(topic, partition, from)};
  consumer->assign(tp);
  RdKafka::TopicPartition::destroy(tp);
  absl::Status result;
  for (int idle = 0;;) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(500));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) break;  // read_committed: aborted data skipped
    if (m->err() == RdKafka::ERR__TIMED_OUT) {
      idle += 500;
      if (idle < idle_timeout_ms) continue;
      result =
          absl::UnavailableError(absl::StrCat("reading ", topic, "/", partition, " from ", from,
                                              ": no answer within ", idle_timeout_ms / 1000, " s"));
      break;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      result = ToStatus(m->err(), absl::StrCat("reading ", topic, "/", partition));
      break;
    }
    idle = 0;
    if (m->offset() >= to) break;
    fn(*m);
    if (m->offset() + 1 >= to) break;
  }
  consumer->unassign();
  return result;
}

absl::StatusOr<int64_t> OffsetForTime(RdKafka::KafkaConsumer* consumer, const std::string& topic,
                                      int32_t partition, absl::Time t, int timeout_ms) {
  const int64_t t_ms = absl::ToUnixMillis(t);
  std::vector<RdKafka::TopicPartition*> tp = {
      RdKafka::TopicPartition::create(topic, partition, t_ms)};
  const RdKafka::ErrorCode err = consumer->offsetsForTimes(tp, timeout_ms);
  const int64_t offset = tp[0]->offset();
  const RdKafka::ErrorCode perr = tp[0]->err();
  RdKafka::TopicPartition::destroy(tp);
  if (err != RdKafka::ERR_NO_ERROR)
    return ToStatus(err, absl::StrCat("offsets for times of ", topic, "/", partition));
  if (perr != RdKafka::ERR_NO_ERROR)
    return ToStatus(perr, absl::StrCat("offsets for times of ", topic, "/", partition));
  if (offset >= 0) return offset;
  int64_t low = 0, high = 0;
  const RdKafka::ErrorCode werr =
      consumer->query_watermark_offsets(topic, partition, &low, &high, timeout_ms);
  if (werr != RdKafka::ERR_NO_ERROR)
    return ToStatus(werr, absl::StrCat("watermarks of ", topic, "/", partition));
  // No offset: no message at or after t, or a broker that answers no time lookups (librdkafka's
  // mock cluster). When the newest message is at or after t, search by message timestamps.
  auto timestamp_at = [&](int64_t at, int64_t* ts) -> absl::Status {
    *ts = -1;
    return ReadPartition(consumer, topic, partition, at, at + 1, [&](RdKafka::Message& m) {
      if (m.timestamp().type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE)
        *ts = m.timestamp().timestamp;
    });
  };
  if (high <= low) return high;
  int64_t ts = -1;
  if (absl::Status s = timestamp_at(high - 1, &ts); !s.ok()) return s;
  if (ts < t_ms) return high;  // none at or after t (or no timestamp to go by: the broker's word)
  int64_t lo = low, hi = high - 1;  // the answer is in [lo, hi]
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (absl::Status s = timestamp_at(mid, &ts); !s.ok()) return s;
    if (ts >= t_ms) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

absl::StatusOr<std::string> ClusterId(RdKafka::Handle* handle, int timeout_ms) {
  // The C API: RdKafka::Handle::clusterid() builds a std::string from the null it gets when no
  // broker answered.
  char* id = rd_kafka_clusterid(handle->c_ptr(), timeout_ms);
  if (id == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("no cluster id from the brokers within ", timeout_ms, " ms"));
  }
  std::string out(id);
  rd_kafka_mem_free(handle->c_ptr(), id);
  return out;
}

}  // namespace claimgate::kafka
