// Service wiring, configuration file, embedded demo.
#include "gate/app/serve.h"

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gate/service/audit_topic.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_server.h"
#include "gate/service/replay_kafka.h"
#include "gate/service/state_binding.h"
#include "gate/service/status_api.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/codec.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/service/ledger_metrics.h"
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
constexpr int64_t kMaxStalenessSeconds = 366LL * 24 * 3600;

// Kafka's rules for a topic name (1-249 of [A-Za-z0-9._-], not "." or ".."); the eight topics
// distinct, since a gate reading its own output would loop.
absl::Status ValidTopics(const kafka::Topics& t) {
  std::set<std::string> seen;
  for (auto [key, name] : std::vector<std::pair<const char*, const std::string*>>{
           {"ledger_events", &t.ledger_events},
           {"claims", &t.claims},
           {"person_status", &t.person_status},
           {"institution_status", &t.institution_status},
           {"decisions", &t.decisions},
           {"audit", &t.audit},
           {"notices", &t.notices},
           {"dlq", &t.dlq}}) {
    const bool legal =
        !name->empty() && name->size() <= 249 && *name != "." && *name != ".." &&
        std::all_of(name->begin(), name->end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                 c == '-';
        });
    if (!legal) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config key 'topics.", key, "': a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -), got '",
          *name, "'"));
    }
    if (!seen.insert(*name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("config key 'topics.", key, "': '", *name, "' names another topic too"));
    }
  }
  return absl::OkStatus();
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

std::vector<kafka::TopicSpec> TopicSpecs(const ServeOptions& o) {
  const kafka::Topics& t = o.gate.topics;
  const std::map<std::string, std::string> compact = {{"cleanup.policy", "compact"}};
  return {{t.ledger_events, 1, 1, {}},  // one partition: the ledger's total order
          {t.claims, o.claims_partitions, 1, {}},
          {t.person_status, o.status_partitions, 1, compact},
          {t.institution_status, o.status_partitions, 1, compact},
          {t.decisions, o.claims_partitions, 1, {}},
          {t.audit, o.claims_partitions, 1, {}},
          {t.notices, 1, 1, {}},
          {t.dlq, o.claims_partitions, 1, {}}};
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

// The process's metrics registry, its HTTP endpoint and the readiness it reports.
struct Observability {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::atomic<bool> ready = false;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<ledger::LedgerMetrics> ledger;
  std::unique_ptr<GateMetrics> gate;
  std::unique_ptr<HttpMetrics> http_metrics;

  // The store the status query reads; null until the gate has started (and for a ledger alone).
  std::atomic<const StatusStore*> store = nullptr;

  absl::Status Start(const std::string& address, const std::string& token, HttpOptions options,
                     std::ostream& log) {
    ledger::RegisterBuildInfo(*registry, CLAIMGATE_VERSION_STRING);
    ledger = std::make_unique<ledger::LedgerMetrics>(*registry);
    gate = std::make_unique<GateMetrics>(*registry);
    http_metrics = std::make_unique<HttpMetrics>(*registry);
    if (address.empty()) return absl::OkStatus();
    options.log = &log;
    options.metrics = http_metrics.get();
    StatusEndpoint status;
    status.token = token;
    status.now = [] { return absl::Now(); };
    status.read = [this](absl::string_view id) -> absl::StatusOr<v1::PersonStatus> {
      const StatusStore* st = store.load();
      if (st == nullptr) return absl::UnavailableError("the gate has not started");
      return st->ReadPersonStatus(id);
    };
    auto h = HttpServer::Start(address, registry.get(), &ready, std::move(status), options);
    if (!h.ok()) return h.status();
    http = std::move(*h);
    log << "claimgate: /metrics, /livez and /readyz on " << address.substr(0, address.rfind(':'))
        << ":" << http->port() << (options.tls.cert_file.empty() ? " (HTTP)" : " (HTTPS)") << "\n";
    return absl::OkStatus();
  }
};

// The `http:` section (serve.h).
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

// The status query's bearer token: the token file's, else CLAIMGATE_HTTP_TOKEN's or
// http.token's. InvalidArgument when a file and a value both set one, or the file is unusable.
absl::StatusOr<std::string> StatusToken(const ServeOptions& o, std::ostream& log) {
  if (!o.http_token_file.empty()) {
    if (!o.http_token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "http.token_file (--http-token-file) and ", o.http_token_source,
          " both set the status query's token: keep one (the file)"));
    }
    return ReadTokenFile(o.http_token_file);
  }
  if (!o.http_token.empty() && o.http_token_source == "http.token") {
    log << "claimgate: warning: the status query's token is in the configuration file "
           "(http.token), so whoever reads the file reads the token; move it to a file of its own "
           "(http.token_file) or to CLAIMGATE_HTTP_TOKEN\n";
  }
  return o.http_token;
}

// The status with the service it came from in front (the process's last words name it).
absl::Status From(absl::string_view service, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(service, ": ", s.message()));
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
  for (auto [key, field] : std::vector<std::pair<const char*, std::string*>>{
           {"ledger_events", &topics.ledger_events},
           {"claims", &topics.claims},
           {"person_status", &topics.person_status},
           {"institution_status", &topics.institution_status},
           {"decisions", &topics.decisions},
           {"audit", &topics.audit},
           {"notices", &topics.notices},
           {"dlq", &topics.dlq}}) {
    if (absl::Status s = Read(t, "topics", key, field); !s.ok()) return s;
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
  for (absl::Status s : {Read(g, "gate", "group_id", &o->gate.group_id),
                         Read(g, "gate", "transactional_id", &o->gate.transactional_id),
                         Read(g, "gate", "staleness_seconds", &staleness),
                         ReadBytes(g, "gate", "hot_tier_bytes", &o->gate.store.hot_tier_bytes),
                         ReadBytes(g, "gate", "block_cache_bytes",
                                   &o->gate.store.block_cache_bytes),
                         ReadBytes(g, "gate", "write_buffer_bytes",
                                   &o->gate.store.write_buffer_bytes),
                         Read(g, "gate", "max_batch", &o->gate.max_batch),
                         Read(g, "gate", "max_claim_bytes", &o->gate.max_claim_bytes)}) {
    if (!s.ok()) return s;
  }
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
          KnownKeys(root["topics"], "topics",
                    {"ledger_events", "claims", "person_status", "institution_status", "decisions",
                     "audit", "notices", "dlq"}),
          KnownKeys(root["gate"], "gate",
                    {"group_id", "transactional_id", "staleness_seconds", "hot_tier_bytes",
                     "block_cache_bytes", "write_buffer_bytes", "max_batch",
                     "max_claim_bytes"}),
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

absl::Status RunServe(const ServeOptions& o, const ledger::ProfileSet& profiles,
                      const std::atomic<bool>& stop, std::ostream& log) {
  // Declared before `obs`, so that the HTTP endpoint stops before the services go away.
  std::unique_ptr<ledger::LedgerService> ledger_service;
  std::unique_ptr<GateService> gate_service;
  Observability obs;
  absl::StatusOr<std::string> token = StatusToken(o, log);
  if (!token.ok()) return token.status();
  if (absl::Status s = obs.Start(o.http_address, *token, o.http, log); !s.ok()) return s;
  // A stop during start-up ends it without an error (exit status 0).
  auto stopped = [&](const absl::Status& s) { return absl::IsCancelled(s) && stop.load(); };
  if (!o.state_dir.empty() && !stop.load()) {
    absl::StatusOr<std::string> cluster = WaitForClusterId(o.gate.kafka, stop, log);
    if (stopped(cluster.status())) return absl::OkStatus();
    if (!cluster.ok()) return cluster.status();
    if (absl::Status s = BindStateDirectory(o.state_dir, {*cluster, o.gate.topics}, log); !s.ok())
      return s;
  }
  if (o.create_topics && !stop.load()) {
    if (absl::Status s = kafka::CreateTopics(o.gate.kafka, TopicSpecs(o)); !s.ok()) {
      // A cluster without the admin API (librdkafka's mock) answers nothing: carry on with what
      // exists.
      log << "claimgate serve: creating topics: " << s.message() << " (continuing)\n";
    }
  }
  if ((o.role == "all" || o.role == "ledger") && !stop.load()) {
    ledger::LedgerServiceOptions ledger_options = o.ledger;
    ledger_options.stop = &stop;
    ledger_options.metrics = obs.ledger.get();
    auto l = ledger::LedgerService::Start(ledger_options, &profiles);
    if (stopped(l.status())) return absl::OkStatus();
    if (!l.ok()) {
      log << "claimgate serve: the ledger service failed to start: " << l.status() << "\n";
      return From("ledger service start-up", l.status());
    }
    ledger_service = std::move(*l);
    log << "claimgate serve: ledger replayed " << ledger_service->stats().replayed << " events ("
        << ledger_service->stats().replayed_local << " from its own store)\n";
  }
  SystemClock clock;
  if ((o.role == "all" || o.role == "gate") && !stop.load()) {
    GateServiceOptions gate_options = o.gate;
    gate_options.log = &log;
    gate_options.stop = &stop;
    gate_options.metrics = obs.gate.get();
    auto g = GateService::Start(gate_options, &profiles, &clock);
    if (stopped(g.status())) return absl::OkStatus();
    if (!g.ok()) {
      log << "claimgate serve: the gate service failed to start: " << g.status() << "\n";
      return From("gate service start-up", g.status());
    }
    gate_service = std::move(*g);
    obs.store = &gate_service->store();
  }
  if (stop.load()) return absl::OkStatus();
  if (gate_service == nullptr && ledger_service == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown role '", o.role, "' (all, ledger, gate)"));
  }
  obs.ready = gate_service == nullptr;  // a ledger alone is ready once it has replayed
  // One thread a role; the first error stops both.
  std::atomic<bool> halt = false;
  absl::Status ledger_status, gate_status;
  auto stopping = [&] { return stop.load() || halt.load(); };
  std::thread ledger_thread;
  if (ledger_service != nullptr) {
    ledger_thread = std::thread([&] {
      while (!stopping()) {
        absl::StatusOr<int> n = ledger_service->RunOnce(200);
        if (!n.ok()) {
          ledger_status = n.status();
          halt = true;
        }
      }
    });
  }
  bool was_ready = false;
  while (gate_service != nullptr && !stopping()) {
    absl::StatusOr<int> n = gate_service->RunOnce(200);
    if (!n.ok()) {
      gate_status = n.status();
      halt = true;
    }
    obs.ready = gate_service->ready();
    if (gate_service->ready() && !was_ready) {
      log << "claimgate serve: gate ready (" << gate_service->stats().status_records
          << " status records)\n";
      was_ready = true;
    }
  }
  if (ledger_thread.joinable()) ledger_thread.join();
  if (gate_service != nullptr) {
    const GateServiceStats& st = gate_service->stats();
    log << "claimgate serve: gate stopped: " << st.decided << " decided, " << st.dead_lettered
        << " dead-lettered, " << st.skipped << " skipped (decided before), " << st.repaired
        << " decisions rebuilt from audit records, " << st.transactions << " transactions, "
        << st.aborted << " aborted\n";
  }
  // Each failure once, with its service; the first one stopped the other service.
  if (!ledger_status.ok())
    log << "claimgate serve: the ledger service failed: " << ledger_status << "\n";
  if (!gate_status.ok()) log << "claimgate serve: the gate service failed: " << gate_status << "\n";
  if (!ledger_status.ok()) return From("ledger service", ledger_status);
  return From("gate service", gate_status);
}

absl::Status RunDemo(const DemoOptions& d, const ledger::ProfileSet& profiles, std::ostream& out) {
  Observability obs;
  if (absl::Status s = obs.Start(d.http_address, "", {}, out); !s.ok()) return s;
  auto cluster = kafka::MockCluster::Start(1);
  if (!cluster.ok()) return cluster.status();
  ServeOptions o;
  o.ledger.metrics = obs.ledger.get();
  o.gate.metrics = obs.gate.get();
  o.gate.kafka.bootstrap_servers = o.ledger.kafka.bootstrap_servers =
      (*cluster)->bootstrap_servers();
  for (const kafka::TopicSpec& t : TopicSpecs(o)) {
    if (absl::Status s = (*cluster)->CreateTopic(t.name, t.partitions); !s.ok()) return s;
  }
  // The population and its year: ledger events to ledger-events, claims to claims.
  auto producer = kafka::MakeProducer(o.gate.kafka, "");
  if (!producer.ok()) return producer.status();
  synthetic::SyntheticOptions pop;
  pop.persons = d.persons;
  pop.institutions = std::max<int64_t>(1, d.persons / 10);
  pop.assessment_rate = 0.2;  // enough violations for suspensions and terminations to show
  int64_t ledger_events = 0, claims = 0;
  std::string bytes;
  const int64_t stream = static_cast<int64_t>(d.claims / (1 - pop.assessment_rate)) + 100;
  synthetic::GenerateStream(pop, stream, [&](const v1::Event& e) {
    if (e.body_case() == v1::Event::kClaim && claims >= d.claims) return;
    e.SerializeToString(&bytes);
    const bool claim = e.body_case() == v1::Event::kClaim;
    const std::string& topic = claim ? o.gate.topics.claims : o.gate.topics.ledger_events;
    const std::string key = claim ? e.claim().claim_id() : std::string();
    while ((*producer)->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                bytes.data(), bytes.size(), key.empty() ? nullptr : key.data(),
                                key.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
      (*producer)->poll(10);
    }
    ++(claim ? claims : ledger_events);
  });
  (*producer)->flush(30000);
  out << absl::StrFormat(
      "claimgate demo: mock cluster %s; %d persons, %d institutions; %d ledger events, "
      "%d claims\n",
      (*cluster)->bootstrap_servers(), pop.persons, pop.institutions, ledger_events, claims);

  // The ledger publishes every status first (a gate is ready once it has caught up with them).
  auto ledger_service = ledger::LedgerService::Start(o.ledger, &profiles);
  if (!ledger_service.ok()) return ledger_service.status();
  const absl::Time t0 = absl::Now();
  while ((*ledger_service)->stats().next_offset < ledger_events) {
    absl::StatusOr<int> n = (*ledger_service)->RunOnce(500);
    if (!n.ok()) return n.status();
    if (absl::Now() - t0 > absl::Seconds(d.duration_seconds))
      return absl::DeadlineExceededError("ledger");
  }
  (*ledger_service)->PublishPopulationNow();
  out << absl::StrFormat(
      "ledger: %d events applied in %.1f s, %d refused\n", (*ledger_service)->stats().applied,
      absl::ToDoubleSeconds(absl::Now() - t0), (*ledger_service)->stats().refused);

  const std::string state =
      absl::StrCat(std::filesystem::temp_directory_path().string(), "/claimgate-demo-", getpid());
  std::filesystem::remove_all(state);
  o.gate.store.path = state;
  o.gate.store.hot_tier_bytes = 64 << 20;
  o.gate.store.block_cache_bytes = 32 << 20;
  SystemClock clock;
  auto gate = GateService::Start(o.gate, &profiles, &clock);
  if (!gate.ok()) return gate.status();
  obs.store = &(*gate)->store();
  const absl::Time start = absl::Now();
  absl::Time last = start;
  int64_t last_done = 0;
  auto done = [&] { return (*gate)->stats().decided + (*gate)->stats().dead_lettered; };
  while (done() < claims && absl::Now() - start < absl::Seconds(d.duration_seconds)) {
    absl::StatusOr<int> n = (*gate)->RunOnce(200);
    if (!n.ok()) return n.status();
    obs.ready = (*gate)->ready();
    if (absl::Now() - last >= absl::Seconds(1)) {
      const auto& s = (*gate)->stats();
      out << absl::StrFormat(
                 "\r%6.1f s  %8d decided  %8.0f claims/s  ACCEPT %d  REJECT %d  FLAG %d  DLQ %d   ",
                 absl::ToDoubleSeconds(absl::Now() - start), s.decided,
                 (done() - last_done) / absl::ToDoubleSeconds(absl::Now() - last),
                 s.outcomes.count("ACCEPT") ? s.outcomes.at("ACCEPT") : 0,
                 s.outcomes.count("REJECT") ? s.outcomes.at("REJECT") : 0,
                 s.outcomes.count("FLAG") ? s.outcomes.at("FLAG") : 0, s.dead_lettered)
          << std::flush;
      last = absl::Now();
      last_done = done();
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const GateServiceStats& s = (*gate)->stats();
  out << "\n\n"
      << absl::StrFormat("%-36s %10s\n", "claims by outcome", "count") << std::string(47, '-')
      << "\n";
  for (const auto& [outcome, count] : s.outcomes)
    out << absl::StrFormat("%-36s %10d\n", outcome, count);
  out << absl::StrFormat("\n%-36s %10s\n", "claims by reason", "count") << std::string(47, '-')
      << "\n";
  for (const auto& [reason, count] : s.reasons)
    out << absl::StrFormat("%-36s %10d\n", reason, count);
  out << absl::StrFormat("\n%-36s %10d\n%-36s %10d\n%-36s %10d\n%-36s %10.0f\n", "claims decided",
                         s.decided, "dead-lettered", s.dead_lettered, "transactions committed",
                         s.transactions, "claims/s (gate, end to end)", s.decided / seconds);
  const bool complete = done() >= claims;
  obs.http.reset();  // no status query may reach the store from here on
  obs.store = nullptr;
  gate->reset();
  std::filesystem::remove_all(state);
  if (!complete)
    return absl::DeadlineExceededError("the demo's claims were not all decided in time");

  // The audit trail, as an auditor would check it (docs/audit.md): the hash chains of claim-audit,
  // and every decision replayed against the record from the topics.
  const absl::Time audit_start = absl::Now();
  AuditTopicOptions audit;
  audit.kafka = o.gate.kafka;
  audit.topic = o.gate.topics.audit;
  ChainVerifier verifier(/*partial=*/false);
  if (absl::Status st = VerifyAuditTopic(audit, &verifier); !st.ok()) return st;
  KafkaReplayOptions replay;
  replay.kafka = o.gate.kafka;
  replay.topics = o.gate.topics;
  std::ostringstream differences;
  absl::StatusOr<ReplayTally> tally = ReplayKafka(replay, profiles, differences);
  if (!tally.ok()) return tally.status();
  out << absl::StrFormat("\n%-36s %10d\n%-36s %10d\n%-36s %10d\n%-36s %10d\n%-36s %10.1f\n",
                         "audit records verified", verifier.records(), "audit chains",
                         verifier.chains().size(), "broken links", verifier.breaks(),
                         "replayed against the record: differ", tally->differ() + tally->errors(),
                         "audit check seconds", absl::ToDoubleSeconds(absl::Now() - audit_start));
  if (verifier.breaks() > 0 || tally->differ() > 0 || tally->errors() > 0) {
    out << verifier.SummaryJson() << "\n" << differences.str();
    return absl::DataLossError("the demo's audit trail does not verify");
  }
  return absl::OkStatus();
}

}  // namespace claimgate::gate
