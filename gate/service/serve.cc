// Service wiring, configuration file, embedded demo.
#include "gate/service/serve.h"

#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gate/service/audit_topic.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_server.h"
#include "gate/service/replay_kafka.h"
#include "gate/synthetic.h"
#include "ledger/codec.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/service/ledger_metrics.h"
#include "yaml-cpp/yaml.h"

namespace claimgate::gate {
namespace {

template <typename T>
absl::Status Read(const YAML::Node& node, const char* key, T* out) {
  if (!node || !node[key]) return absl::OkStatus();
  try {
    *out = node[key].as<T>();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config key '", key, "': ", e.what()));
  }
  return absl::OkStatus();
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
    const std::string key = kv.first.as<std::string>();
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

  // The store the status query reads; null until the gate has started (and for a ledger alone).
  std::atomic<const StatusStore*> store = nullptr;

  absl::Status Start(const std::string& address, const std::string& token, std::ostream& log) {
    ledger::RegisterBuildInfo(*registry, CLAIMGATE_VERSION_STRING);
    ledger = std::make_unique<ledger::LedgerMetrics>(*registry);
    gate = std::make_unique<GateMetrics>(*registry);
    if (address.empty()) return absl::OkStatus();
    StatusEndpoint status;
    status.token = token;
    status.now = [] { return absl::Now(); };
    status.read = [this](absl::string_view id) -> absl::StatusOr<v1::PersonStatus> {
      const StatusStore* st = store.load();
      if (st == nullptr) return absl::UnavailableError("the gate has not started");
      return st->ReadPersonStatus(id);
    };
    auto h = HttpServer::Start(address, registry.get(), &ready, std::move(status));
    if (!h.ok()) return h.status();
    http = std::move(*h);
    log << "claimgate: /metrics, /livez and /readyz on " << address.substr(0, address.rfind(':'))
        << ":" << http->port() << "\n";
    return absl::OkStatus();
  }
};

// The status with the service it came from in front (the process's last words name it).
absl::Status From(absl::string_view service, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(service, ": ", s.message()));
}

}  // namespace

absl::Status LoadServeConfig(const std::string& path, ServeOptions* o) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config ", path, ": ", e.what()));
  }
  for (absl::Status st :
       {KnownKeys(root, "",
                  {"kafka", "topics", "profile", "mode", "create_topics", "claims_partitions",
                   "status_partitions", "gate", "ledger", "http"}),
        KnownKeys(root["http"], "http", {"token"}),
        KnownKeys(root["topics"], "topics",
                  {"ledger_events", "claims", "person_status", "institution_status", "decisions",
                   "audit", "notices", "dlq"}),
        KnownKeys(root["gate"], "gate",
                  {"group_id", "transactional_id", "staleness_seconds", "hot_tier_bytes",
                   "block_cache_bytes", "write_buffer_bytes", "max_batch", "max_claim_bytes"}),
        KnownKeys(root["ledger"], "ledger", {"group_id", "transactional_id", "max_batch"})}) {
    if (!st.ok()) return st;
  }
  if (const YAML::Node kafka = root["kafka"]) {
    if (!kafka.IsMap()) return absl::InvalidArgumentError("config key 'kafka' must be a map");
    for (const auto& kv : kafka) {
      const std::string key = kv.first.as<std::string>(), value = kv.second.as<std::string>();
      o->ledger.kafka.properties[key] = value;
      o->gate.kafka.properties[key] = value;
    }
  }
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
    if (absl::Status s = Read(t, key, field); !s.ok()) return s;
  }
  o->gate.topics = o->ledger.topics = topics;
  std::string profile = o->gate.default_profile, mode = o->gate.shadow ? "shadow" : "enforce";
  if (absl::Status s = Read(root, "profile", &profile); !s.ok()) return s;
  if (absl::Status s = Read(root, "mode", &mode); !s.ok()) return s;
  if (mode != "enforce" && mode != "shadow")
    return absl::InvalidArgumentError("config key 'mode': enforce or shadow");
  o->gate.default_profile = o->ledger.default_profile = profile;
  o->gate.shadow = mode == "shadow";
  if (absl::Status s = Read(root, "create_topics", &o->create_topics); !s.ok()) return s;
  if (absl::Status s = Read(root, "claims_partitions", &o->claims_partitions); !s.ok()) return s;
  if (absl::Status s = Read(root, "status_partitions", &o->status_partitions); !s.ok()) return s;
  if (absl::Status s = Read(root["http"], "token", &o->http_token); !s.ok()) return s;
  const YAML::Node g = root["gate"];
  int staleness = static_cast<int>(absl::ToInt64Seconds(o->gate.staleness_bound));
  for (absl::Status s : {Read(g, "group_id", &o->gate.group_id),
                         Read(g, "transactional_id", &o->gate.transactional_id),
                         Read(g, "staleness_seconds", &staleness),
                         Read(g, "hot_tier_bytes", &o->gate.store.hot_tier_bytes),
                         Read(g, "block_cache_bytes", &o->gate.store.block_cache_bytes),
                         Read(g, "write_buffer_bytes", &o->gate.store.write_buffer_bytes),
                         Read(g, "max_batch", &o->gate.max_batch),
                         Read(g, "max_claim_bytes", &o->gate.max_claim_bytes)}) {
    if (!s.ok()) return s;
  }
  o->gate.staleness_bound = absl::Seconds(staleness);
  const YAML::Node l = root["ledger"];
  for (absl::Status s : {Read(l, "group_id", &o->ledger.group_id),
                         Read(l, "transactional_id", &o->ledger.transactional_id),
                         Read(l, "max_batch", &o->ledger.max_batch)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status RunServe(const ServeOptions& o, const ledger::ProfileSet& profiles,
                      const std::atomic<bool>& stop, std::ostream& log) {
  // Declared before `obs`, so that the HTTP endpoint stops before the services go away.
  std::unique_ptr<ledger::LedgerService> ledger_service;
  std::unique_ptr<GateService> gate_service;
  Observability obs;
  if (absl::Status s = obs.Start(o.http_address, o.http_token, log); !s.ok()) return s;
  if (o.create_topics && !stop.load()) {
    if (absl::Status s = kafka::CreateTopics(o.gate.kafka, TopicSpecs(o)); !s.ok()) {
      // A cluster without the admin API (librdkafka's mock) answers nothing: carry on with what
      // exists.
      log << "claimgate serve: creating topics: " << s.message() << " (continuing)\n";
    }
  }
  // A stop during start-up ends it without an error (exit status 0).
  auto stopped = [&](const absl::Status& s) { return absl::IsCancelled(s) && stop.load(); };
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
  if (absl::Status s = obs.Start(d.http_address, "", out); !s.ok()) return s;
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
