// The configuration of `claimgate serve` (serve_config.h): the YAML file, read with yaml-cpp (its
// exceptions stop here), the flags over it, and the ranges every setting must keep.
#include "gate/app/serve_config.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "yaml-cpp/yaml.h"

namespace claimgate::gate {
namespace {

// "gate.max_batch": the dotted path of a key, for messages.
std::string KeyPath(absl::string_view where, absl::string_view key) {
  return where.empty() ? std::string(key) : absl::StrCat(where, ".", key);
}

const char* NodeKind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
    case YAML::NodeType::Undefined:
      break;
  }
  return "a value";
}

// Reads the scalar `where.key` of `parent` into `out` when present. InvalidArgument naming the key
// for a list, a map, nothing, or a value that does not convert (yaml-cpp's exceptions stop here).
template <typename T>
absl::Status Read(const YAML::Node& parent, absl::string_view where, const char* key, T* out) {
  if (!parent || !parent.IsMap() || !parent[key]) return absl::OkStatus();
  const YAML::Node node = parent[key];
  if (!node.IsScalar()) {
    return absl::InvalidArgumentError(absl::StrCat("config key '", KeyPath(where, key),
                                                   "': expected a single value, got ",
                                                   NodeKind(node)));
  }
  try {
    *out = node.as<T>();
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(absl::StrCat("config key '", KeyPath(where, key), "': '",
                                                   node.Scalar(), "' is not ",
                                                   std::is_same_v<T, std::string> ? "text"
                                                   : std::is_same_v<T, bool>      ? "true or false"
                                                                                  : "a number"));
  }
  return absl::OkStatus();
}

// A byte size: read signed (yaml-cpp wraps "-1" into a huge unsigned), refused when negative.
absl::Status ReadBytes(const YAML::Node& parent, absl::string_view where, const char* key,
                       uint64_t* out) {
  int64_t v = static_cast<int64_t>(*out);
  if (absl::Status s = Read(parent, where, key, &v); !s.ok()) return s;
  if (v < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("config key '", KeyPath(where, key), "': must not be negative, got ", v));
  }
  *out = static_cast<uint64_t>(v);
  return absl::OkStatus();
}

constexpr int64_t kMaxPartitions = 10000;
constexpr int64_t kMaxBatch = 100000;
constexpr int64_t kMaxBatchLingerMs = 1000;
constexpr int64_t kMaxStalenessSeconds = 366LL * 24 * 3600;

// Kafka's rules for a topic name (1-249 of [A-Za-z0-9._-], not "." or ".."); the eight topics
// distinct, since a gate reading its own output would loop.
absl::Status ValidTopics(const kafka::Topics& t) {
  std::set<std::string> seen;
  for (const kafka::TopicDefinition& topic : kafka::TopicTable()) {
    const std::string& name = t.*topic.field;
    const bool legal =
        !name.empty() && name.size() <= 249 && name != "." && name != ".." &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                 c == '-';
        });
    if (!legal) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config key 'topics.", topic.key,
          "': a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -), got '", name, "'"));
    }
    if (!seen.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat("config key 'topics.", topic.key, "': '",
                                                     name, "' names another topic too"));
    }
  }
  return absl::OkStatus();
}

// The keys of the `topics:` section: one a topic of the table.
std::set<std::string> TopicKeys() {
  std::set<std::string> keys;
  for (const kafka::TopicDefinition& topic : kafka::TopicTable()) keys.insert(topic.key);
  return keys;
}

// librdkafka properties the runtime sets itself: exactly-once, consumer groups, reading its own
// outputs and catching up depend on them, so the `kafka:` section may not change them.
const std::map<std::string, std::string>& OwnedKafkaProperties() {
  static const auto* owned = new std::map<std::string, std::string>{
      {"bootstrap.servers", "give --bootstrap-servers"},
      {"transactional.id", "set gate.transactional_id / ledger.transactional_id or --instance"},
      {"enable.idempotence", "transactions require it"},
      {"acks", "transactions require acks=all"},
      {"isolation.level", "the runtime reads its own outputs read_committed"},
      {"group.id", "set gate.group_id / ledger.group_id"},
      {"group.instance.id", "one static member id would be shared by every client"},
      {"enable.auto.commit", "offsets are committed inside each transaction"},
      {"enable.auto.offset.store", "offsets are committed inside each transaction"},
      {"auto.offset.reset", "a new group must read its input from the start"},
      {"enable.partition.eof", "catching up is detected at the end of each partition"},
  };
  return *owned;
}

// A misspelt key must not pass silently as a default: InvalidArgument naming it.
absl::Status KnownKeys(const YAML::Node& node, const std::string& where,
                       const std::set<std::string>& known) {
  if (!node) return absl::OkStatus();
  if (!node.IsMap())
    return absl::InvalidArgumentError(absl::StrCat("config key '", where, "' must be a map"));
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config key '", where, "': a key must be a name, got ", NodeKind(kv.first)));
    }
    const std::string key = kv.first.Scalar();
    if (!known.count(key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config: unknown key '", where.empty() ? "" : where + ".", key,
                       "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// The `http:` section (serve_config.h).
absl::Status LoadHttpConfig(const YAML::Node& h, ServeOptions* o) {
  if (absl::Status s = KnownKeys(h, "http",
                                 {"token", "token_file", "tls_cert_file", "tls_key_file",
                                  "client_ca_file", "max_connections", "workers",
                                  "idle_timeout_seconds", "read_timeout_seconds",
                                  "write_timeout_seconds", "max_header_bytes",
                                  "status_rate_per_second", "status_burst"});
      !s.ok()) {
    return s;
  }
  HttpLimits& l = o->http.limits;
  int idle = static_cast<int>(absl::ToInt64Seconds(l.idle_timeout));
  int read = static_cast<int>(absl::ToInt64Seconds(l.read_timeout));
  int write = static_cast<int>(absl::ToInt64Seconds(l.write_timeout));
  for (absl::Status s : {Read(h, "http", "token_file", &o->http_token_file),
                         Read(h, "http", "tls_cert_file", &o->http.tls.cert_file),
                         Read(h, "http", "tls_key_file", &o->http.tls.key_file),
                         Read(h, "http", "client_ca_file", &o->http.tls.client_ca_file),
                         Read(h, "http", "max_connections", &l.max_connections),
                         Read(h, "http", "workers", &l.workers),
                         Read(h, "http", "idle_timeout_seconds", &idle),
                         Read(h, "http", "read_timeout_seconds", &read),
                         Read(h, "http", "write_timeout_seconds", &write),
                         Read(h, "http", "max_header_bytes", &l.max_header_bytes),
                         Read(h, "http", "status_rate_per_second",
                              &o->http.status_rate_per_second),
                         Read(h, "http", "status_burst", &o->http.status_burst)}) {
    if (!s.ok()) return s;
  }
  if (h && h["token"]) {
    if (absl::Status s = Read(h, "http", "token", &o->http_token); !s.ok()) return s;
    o->http_token_source = "http.token";
  }
  for (const auto& [key, value] : std::vector<std::pair<const char*, double>>{
           {"max_connections", l.max_connections},
           {"workers", l.workers},
           {"idle_timeout_seconds", idle},
           {"read_timeout_seconds", read},
           {"write_timeout_seconds", write},
           {"max_header_bytes", l.max_header_bytes},
           {"status_rate_per_second", o->http.status_rate_per_second},
           {"status_burst", o->http.status_burst}}) {
    if (!(value > 0))
      return absl::InvalidArgumentError(absl::StrCat("config key 'http.", key, "': must be > 0"));
  }
  if (l.max_header_bytes < 1024)
    return absl::InvalidArgumentError("config key 'http.max_header_bytes': at least 1024");
  l.idle_timeout = absl::Seconds(idle);
  l.read_timeout = absl::Seconds(read);
  l.write_timeout = absl::Seconds(write);
  return absl::OkStatus();
}

// The `kafka:` section: librdkafka properties for every client, but not those the runtime owns.
absl::Status ReadKafkaProperties(const YAML::Node& kafka, ServeOptions* o) {
  if (!kafka) return absl::OkStatus();
  if (!kafka.IsMap()) return absl::InvalidArgumentError("config key 'kafka' must be a map");
  for (const auto& kv : kafka) {
    if (!kv.first.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config key 'kafka': a key must be a name, got ", NodeKind(kv.first)));
    }
    std::string value;
    if (absl::Status s = Read(kafka, "kafka", kv.first.Scalar().c_str(), &value); !s.ok()) return s;
    const std::string& key = kv.first.Scalar();
    if (auto owned = OwnedKafkaProperties().find(key); owned != OwnedKafkaProperties().end()) {
      return absl::InvalidArgumentError(absl::StrCat("config key 'kafka.", key,
                                                     "': set by claimgate itself (",
                                                     owned->second, "); remove it"));
    }
    o->ledger.kafka.properties[key] = value;
    o->gate.kafka.properties[key] = value;
  }
  return absl::OkStatus();
}

absl::Status ReadTopicsAndSettings(const YAML::Node& root, ServeOptions* o) {
  kafka::Topics topics = o->gate.topics;
  const YAML::Node t = root["topics"];
  for (const kafka::TopicDefinition& topic : kafka::TopicTable()) {
    if (absl::Status s = Read(t, "topics", topic.key, &(topics.*topic.field)); !s.ok()) return s;
  }
  o->gate.topics = o->ledger.topics = topics;
  std::string profile = o->gate.default_profile, mode = o->gate.shadow ? "shadow" : "enforce";
  for (absl::Status s : {Read(root, "", "profile", &profile), Read(root, "", "mode", &mode),
                         Read(root, "", "create_topics", &o->create_topics),
                         Read(root, "", "claims_partitions", &o->claims_partitions),
                         Read(root, "", "status_partitions", &o->status_partitions),
                         LoadHttpConfig(root["http"], o)}) {
    if (!s.ok()) return s;
  }
  if (mode != "enforce" && mode != "shadow")
    return absl::InvalidArgumentError("config key 'mode': enforce or shadow");
  o->gate.default_profile = o->ledger.default_profile = profile;
  o->gate.shadow = mode == "shadow";
  const YAML::Node g = root["gate"];
  int64_t staleness = absl::ToInt64Seconds(o->gate.staleness_bound);
  int64_t owner_timeout = absl::ToInt64Seconds(o->gate.owner_timeout);
  int64_t linger_ms = absl::ToInt64Milliseconds(o->gate.batch_linger);
  for (absl::Status s : {Read(g, "gate", "group_id", &o->gate.group_id),
                         Read(g, "gate", "transactional_id", &o->gate.transactional_id),
                         Read(g, "gate", "staleness_seconds", &staleness),
                         ReadBytes(g, "gate", "hot_tier_bytes", &o->gate.store.hot_tier_bytes),
                         ReadBytes(g, "gate", "block_cache_bytes",
                                   &o->gate.store.block_cache_bytes),
                         ReadBytes(g, "gate", "write_buffer_bytes",
                                   &o->gate.store.write_buffer_bytes),
                         Read(g, "gate", "max_batch", &o->gate.max_batch),
                         Read(g, "gate", "max_claim_bytes", &o->gate.max_claim_bytes),
                         Read(g, "gate", "duplicate_codes", &o->gate.duplicate_codes),
                         Read(g, "gate", "owner_timeout_seconds", &owner_timeout),
                         Read(g, "gate", "batch_linger_ms", &linger_ms)}) {
    if (!s.ok()) return s;
  }
  if (owner_timeout < 1 || owner_timeout > 3600)
    return absl::InvalidArgumentError("config key 'gate.owner_timeout_seconds': 1 to 3600");
  o->gate.owner_timeout = absl::Seconds(owner_timeout);
  o->gate.batch_linger = absl::Milliseconds(linger_ms);  // its range: ValidateServeOptions
  o->gate.staleness_bound = absl::Seconds(staleness);  // its range: ValidateServeOptions
  const YAML::Node l = root["ledger"];
  for (absl::Status s : {Read(l, "ledger", "group_id", &o->ledger.group_id),
                         Read(l, "ledger", "transactional_id", &o->ledger.transactional_id),
                         Read(l, "ledger", "max_batch", &o->ledger.max_batch)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status LoadServeConfig(const std::string& path, ServeOptions* o) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", e.what()));
  }
  if (root.IsNull()) return ValidateServeOptions(*o);  // an empty file: every default
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", path, ": the top level must be a map of keys, got ",
                     NodeKind(root)));
  }
  try {
    for (absl::Status st :
         {KnownKeys(root, "",
                    {"kafka", "topics", "profile", "mode", "create_topics", "claims_partitions",
                     "status_partitions", "gate", "ledger", "http"}),
          KnownKeys(root["topics"], "topics", TopicKeys()),
          KnownKeys(root["gate"], "gate",
                    {"group_id", "transactional_id", "staleness_seconds", "hot_tier_bytes",
                     "block_cache_bytes", "write_buffer_bytes", "max_batch",
                     "max_claim_bytes", "duplicate_codes", "owner_timeout_seconds",
                     "batch_linger_ms"}),
          KnownKeys(root["ledger"], "ledger", {"group_id", "transactional_id", "max_batch"}),
          ReadKafkaProperties(root["kafka"], o), ReadTopicsAndSettings(root, o)}) {
      if (!st.ok()) {
        return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", st.message()));
      }
    }
  } catch (const YAML::Exception& e) {  // a shape no check above foresaw: still exit 2, not abort
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", e.what()));
  }
  if (absl::Status s = ValidateServeOptions(*o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status ValidateServeOptions(const ServeOptions& o) {
  auto in_range = [](const char* key, int64_t v, int64_t lo, int64_t hi) {
    if (v >= lo && v <= hi) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("config key '", key, "': ", lo, "..", hi, ", got ", v));
  };
  for (absl::Status s :
       {in_range("claims_partitions", o.claims_partitions, 1, kMaxPartitions),
        in_range("status_partitions", o.status_partitions, 1, kMaxPartitions),
        in_range("gate.max_batch", o.gate.max_batch, 1, kMaxBatch),
        in_range("gate.max_claim_bytes", o.gate.max_claim_bytes, 1, int64_t{1} << 30),
        in_range("gate.batch_linger_ms", absl::ToInt64Milliseconds(o.gate.batch_linger), 0,
                 kMaxBatchLingerMs),
        in_range("ledger.max_batch", o.ledger.max_batch, 1, kMaxBatch),
        in_range("gate.staleness_seconds", absl::ToInt64Seconds(o.gate.staleness_bound), 1,
                 kMaxStalenessSeconds),
        in_range("gate.write_buffer_bytes", static_cast<int64_t>(o.gate.store.write_buffer_bytes),
                 64 << 10, int64_t{1} << 40),
        ValidTopics(o.gate.topics), ValidTopics(o.ledger.topics)}) {
    if (!s.ok()) return s;
  }
  for (auto [key, id] : std::vector<std::pair<const char*, const std::string*>>{
           {"gate.group_id", &o.gate.group_id},
           {"gate.transactional_id", &o.gate.transactional_id},
           {"ledger.group_id", &o.ledger.group_id},
           {"ledger.transactional_id", &o.ledger.transactional_id}}) {
    if (id->empty() || id->size() > 255) {
      return absl::InvalidArgumentError(
          absl::StrCat("config key '", key, "': 1 to 255 characters, got '", *id, "'"));
    }
  }
  if (o.gate.group_id == o.ledger.group_id) {
    return absl::InvalidArgumentError(
        "config keys 'gate.group_id' and 'ledger.group_id' must differ");
  }
  if (o.gate.transactional_id == o.ledger.transactional_id) {
    return absl::InvalidArgumentError(
        "config keys 'gate.transactional_id' and 'ledger.transactional_id' must differ (each "
        "would fence the other)");
  }
  return absl::OkStatus();
}

absl::StatusOr<ServeOptions> ApplyServeFlags(const ServeFlags& flags) {
  using kafka::Format;
  ServeOptions o = flags.options;
  if (!flags.config_path.empty()) {
    const std::string role = o.role;
    if (absl::Status s = LoadServeConfig(flags.config_path, &o); !s.ok()) return s;
    o.role = role;
  }
  auto given = [&](const char* flag) { return flags.given.count(flag) > 0; };
  if (!flags.http_token_env.empty()) {
    o.http_token = flags.http_token_env;
    o.http_token_source = "CLAIMGATE_HTTP_TOKEN";
  }
  if (given("--http-token-file")) o.http_token_file = flags.http_token_file;
  o.gate.kafka.bootstrap_servers = o.ledger.kafka.bootstrap_servers = flags.bootstrap;
  if (given("--profile")) o.gate.default_profile = o.ledger.default_profile = flags.profile;
  if (given("--mode")) o.gate.shadow = flags.mode == "shadow";
  o.gate.input_format = o.ledger.input_format =
      flags.input_format == "json" ? Format::kJson : Format::kProtobuf;
  o.gate.output_format = o.ledger.output_format =
      flags.output_format == "json" ? Format::kJson : Format::kProtobuf;
  o.gate.status_format = o.ledger.output_format;
  if (given("--instance")) o.gate.transactional_id = "claimgate-gate-" + flags.instance;
  o.state_dir = flags.state_dir;
  o.gate.store.path = flags.state_dir + "/gate";
  o.ledger.state_path = flags.state_dir + "/ledger";
  if (flags.no_create_topics) o.create_topics = false;
  return o;
}

std::vector<kafka::TopicSpec> ServeTopicSpecs(const ServeOptions& o) {
  std::vector<kafka::TopicSpec> specs;
  for (const kafka::TopicDefinition& topic : kafka::TopicTable()) {
    kafka::TopicSpec& spec = specs.emplace_back();
    spec.name = o.gate.topics.*topic.field;
    spec.partitions =
        kafka::PartitionCount(topic.partitions, o.claims_partitions, o.status_partitions);
    spec.config.insert(topic.configs.begin(), topic.configs.end());
  }
  return specs;
}

}  // namespace claimgate::gate
