// The process of `claimgate serve` and the embedded `claimgate demo` (serve.h): the services of the
// configured roles, their metrics and HTTP endpoint, and their lifecycle.
#include "gate/app/serve.h"

#include <filesystem>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gate/service/audit_topic.h"
#include "gate/service/code_owner.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_server.h"
#include "gate/service/process_metrics.h"
#include "gate/service/replay_kafka.h"
#include "gate/service/state_binding.h"
#include "gate/service/status_api.h"
#include "gate/synthetic/synthetic.h"
#include "ledger/codec.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/service/ledger_metrics.h"

namespace claimgate::gate {
namespace {

// Which services a process runs: each exports its own series and no other (a gate exporting
// claimgate_ready{service="ledger"} 0 would fire LedgerNotReady wherever a gate runs).
struct Roles {
  bool ledger = true;
  bool gate = true;
  bool codes = true;  // the code owner (with a gate, or alone)
};

Roles RolesOf(const std::string& role) {
  return {role == "all" || role == "ledger", role == "all" || role == "gate",
          role == "all" || role == "gate" || role == "codes"};
}

// The process's metrics registry, its HTTP endpoint and the readiness it reports.
struct Observability {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::atomic<bool> ready = false;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<ledger::LedgerMetrics> ledger;
  std::unique_ptr<GateMetrics> gate;
  std::unique_ptr<CodeOwnerMetrics> codes;
  std::unique_ptr<HttpMetrics> http_metrics;
  ledger::ConsumerLag lag;  // of every input topic of the services run
  ProcessMetrics process;

  // The store the status query reads; null until the gate has started (and for a ledger alone).
  std::atomic<const StatusStore*> store = nullptr;

  absl::Status Start(const std::string& address, const std::string& token, HttpOptions options,
                     Roles roles, std::ostream& log, bool any_port_if_taken = false) {
    ledger::RegisterBuildInfo(*registry, CLAIMGATE_VERSION_STRING);
    if (roles.ledger) ledger = std::make_unique<ledger::LedgerMetrics>(*registry);
    if (roles.gate) {
      gate = std::make_unique<GateMetrics>(*registry);
      // The feed has not been confirmed yet: the process's start stands for it until the gate
      // service starts (a gate that cannot reach its cluster ages from here, not from 1970).
      gate->feed_confirmed.Set(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
    }
    if (roles.codes) codes = std::make_unique<CodeOwnerMetrics>(*registry);
    http_metrics = std::make_unique<HttpMetrics>(*registry);
    if (address.empty()) return absl::OkStatus();
    options.log = &log;
    options.metrics = http_metrics.get();
    options.collectables = {&lag, &process};
    StatusEndpoint status;
    status.token = token;
    status.now = [] { return absl::Now(); };
    status.read = [this](absl::string_view id) -> absl::StatusOr<v1::PersonStatus> {
      const StatusStore* st = store.load();
      if (st == nullptr) return absl::UnavailableError("the gate has not started");
      return st->ReadPersonStatus(id);
    };
    auto h = HttpServer::Start(address, registry.get(), &ready, status, options);
    if (absl::IsUnavailable(h.status()) && any_port_if_taken) {
      log << "claimgate: " << address << " is taken (" << h.status().message()
          << "); any free port instead\n";
      const std::string any = address.substr(0, address.rfind(':')) + ":0";
      h = HttpServer::Start(any, registry.get(), &ready, std::move(status), options);
    }
    if (!h.ok()) return h.status();
    http = std::move(*h);
    log << "claimgate: /metrics, /livez and /readyz on " << address.substr(0, address.rfind(':'))
        << ":" << http->port() << (options.tls.cert_file.empty() ? " (HTTP)" : " (HTTPS)") << "\n";
    return absl::OkStatus();
  }
};

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


// Says whether a start-up step failed only because `stop` was set: the run then ends without an
// error (exit status 0).
bool StoppedDuringStartUp(const absl::Status& s, const std::atomic<bool>& stop) {
  return absl::IsCancelled(s) && stop.load();
}

// Binds the state directory to the cluster (waiting for a broker), then creates missing topics.
// Every later step of RunServe is skipped once `stop` is set.
absl::Status PrepareCluster(const ServeOptions& o, const std::atomic<bool>& stop,
                            std::ostream& log) {
  if (!o.state_dir.empty() && !stop.load()) {
    absl::StatusOr<std::string> cluster = WaitForClusterId(o.gate.kafka, stop, log);
    if (StoppedDuringStartUp(cluster.status(), stop)) return absl::OkStatus();
    if (!cluster.ok()) return cluster.status();
    if (absl::Status s = BindStateDirectory(o.state_dir, {*cluster, o.gate.topics}, log); !s.ok())
      return s;
  }
  if (o.create_topics && !stop.load()) {
    absl::Status s = kafka::CreateTopics(o.gate.kafka, ServeTopicSpecs(o), 10000, &stop);
    if (StoppedDuringStartUp(s, stop)) return absl::OkStatus();
    if (!s.ok()) {
      // A cluster without the admin API (librdkafka's mock) answers nothing: carry on with what
      // exists.
      log << "claimgate serve: warning: creating topics: " << s.message() << " (continuing)\n";
    }
  }
  return absl::OkStatus();
}

// The services of the configured roles; null for a role not run.
struct Services {
  std::unique_ptr<ledger::LedgerService> ledger;
  std::unique_ptr<GateService> gate;
  std::unique_ptr<CodeOwner> codes;
};

// The code owner of a process (docs/duplicate-codes.md): in the group `<gate group>-codes`, with
// the transactional id `<gate transactional id>-codes` and its store under the state directory.
CodeOwnerOptions OwnerOptions(const ServeOptions& o, const std::atomic<bool>& stop,
                              std::ostream& log) {
  CodeOwnerOptions c;
  c.kafka = o.gate.kafka;
  c.topics = o.gate.topics;
  c.group_id = o.gate.group_id + "-codes";
  c.transactional_id = o.gate.transactional_id + "-codes";
  c.store.path = o.state_dir.empty() ? o.gate.store.path + "-codes" : o.state_dir + "/codes";
  c.store.block_cache_bytes = o.gate.store.block_cache_bytes;
  c.store.write_buffer_bytes = o.gate.store.write_buffer_bytes;
  c.max_batch = o.gate.max_batch;
  c.stall_aborts = o.gate.stall_aborts;
  c.stall_after = o.gate.stall_after;
  c.retry_backoff_max = o.gate.retry_backoff_max;
  c.log = &log;
  c.stop = &stop;
  return c;
}

// Starts the services of the configured roles, the ledger first (it replays its events), unless
// `stop` is set. The error of a service that fails to start, logged and with the service in front.
absl::Status StartServices(const ServeOptions& o, const ledger::ProfileSet& profiles,
                           const std::atomic<bool>& stop, Clock* clock, Observability& obs,
                           Services* services, std::ostream& log) {
  if ((o.role == "all" || o.role == "ledger") && !stop.load()) {
    ledger::LedgerServiceOptions ledger_options = o.ledger;
    ledger_options.stop = &stop;
    ledger_options.metrics = obs.ledger.get();
    ledger_options.lag = &obs.lag;
    auto l = ledger::LedgerService::Start(ledger_options, &profiles);
    if (StoppedDuringStartUp(l.status(), stop)) return absl::OkStatus();
    if (!l.ok()) {
      log << "claimgate serve: error: the ledger service failed to start: " << l.status() << "\n";
      return From("ledger service start-up", l.status());
    }
    services->ledger = std::move(*l);
    log << "claimgate serve: ledger replayed " << services->ledger->stats().replayed
        << " events (" << services->ledger->stats().replayed_local << " from its own store)\n";
  }
  if ((o.role == "all" || o.role == "gate") && !stop.load()) {
    GateServiceOptions gate_options = o.gate;
    gate_options.log = &log;
    gate_options.stop = &stop;
    gate_options.metrics = obs.gate.get();
    gate_options.lag = &obs.lag;
    auto g = GateService::Start(gate_options, &profiles, clock);
    if (StoppedDuringStartUp(g.status(), stop)) return absl::OkStatus();
    if (!g.ok()) {
      log << "claimgate serve: error: the gate service failed to start: " << g.status() << "\n";
      return From("gate service start-up", g.status());
    }
    services->gate = std::move(*g);
    obs.store = &services->gate->store();
  }
  if ((o.role == "all" || o.role == "gate" || o.role == "codes") && o.gate.duplicate_codes &&
      !stop.load()) {
    CodeOwnerOptions owner_options = OwnerOptions(o, stop, log);
    owner_options.metrics = obs.codes.get();
    auto c = CodeOwner::Start(owner_options);
    if (StoppedDuringStartUp(c.status(), stop)) return absl::OkStatus();
    if (!c.ok()) {
      log << "claimgate serve: error: the code owner failed to start: " << c.status() << "\n";
      return From("code owner start-up", c.status());
    }
    services->codes = std::move(*c);
  }
  return absl::OkStatus();
}

// Runs the started services, the ledger on a thread of its own, until `stop` is set or one fails
// (the first error stops both). Returns that error with its service in front.
absl::Status RunServices(const Services& services, Observability& obs,
                         const std::atomic<bool>& stop, std::ostream& log) {
  std::atomic<bool> halt = false;
  absl::Status ledger_status, gate_status, codes_status;
  auto stopping = [&] { return stop.load() || halt.load(); };
  std::thread ledger_thread;
  if (services.ledger != nullptr) {
    ledger_thread = std::thread([&] {
      while (!stopping()) {
        absl::StatusOr<int> n = services.ledger->RunOnce(200);
        if (!n.ok()) {
          ledger_status = n.status();
          halt = true;
        }
      }
    });
  }
  std::thread codes_thread;
  CodeOwner* codes = services.codes.get();
  if (codes != nullptr) {
    codes_thread = std::thread([&] {
      while (!stopping()) {
        absl::StatusOr<int> n = codes->RunOnce(200);
        if (!n.ok()) {
          codes_status = n.status();
          halt = true;
        }
        if (services.gate == nullptr) obs.ready = !codes->stalled();
      }
    });
  }
  GateService* gate = services.gate.get();
  bool was_ready = false;
  while (gate != nullptr && !stopping()) {
    absl::StatusOr<int> n = gate->RunOnce(200);
    if (!n.ok()) {
      gate_status = n.status();
      halt = true;
    }
    obs.ready = gate->ready() && (codes == nullptr || !codes->stalled());
    if (gate->ready() && !was_ready) {
      log << "claimgate serve: gate ready (" << gate->stats().status_records
          << " status records)\n";
      was_ready = true;
    }
  }
  if (ledger_thread.joinable()) ledger_thread.join();
  if (codes_thread.joinable()) codes_thread.join();
  if (codes != nullptr) {
    const CodeOwnerStats& st = codes->stats();
    log << "claimgate serve: code owner stopped: " << st.requests << " requests, " << st.found
        << " duplicates found, " << st.settled << " codes settled, " << st.released
        << " released, " << st.reversals << " reversals, " << st.unreadable << " unreadable, "
        << st.transactions << " transactions, " << st.aborted << " aborted\n";
  }
  if (gate != nullptr) {
    const GateServiceStats& st = gate->stats();
    log << "claimgate serve: gate stopped: " << st.decided << " decided, " << st.dead_lettered
        << " dead-lettered, " << st.skipped << " skipped (decided before), " << st.repaired
        << " decisions rebuilt from audit records, " << st.transactions << " transactions, "
        << st.aborted << " aborted\n";
  }
  // Each failure once, with its service; the first one stopped the other service.
  if (!ledger_status.ok())
    log << "claimgate serve: error: the ledger service failed: " << ledger_status << "\n";
  if (!gate_status.ok())
    log << "claimgate serve: error: the gate service failed: " << gate_status << "\n";
  if (!codes_status.ok())
    log << "claimgate serve: error: the code owner failed: " << codes_status << "\n";
  if (!ledger_status.ok()) return From("ledger service", ledger_status);
  if (!gate_status.ok()) return From("gate service", gate_status);
  return From("code owner", codes_status);
}

}  // namespace

absl::Status RunServe(const ServeOptions& o, const ledger::ProfileSet& profiles,
                      const std::atomic<bool>& stop, std::ostream& log) {
  // Declared before `obs`, so that the HTTP endpoint stops before the services go away, and the
  // clock before the gate that reads it.
  SystemClock clock;
  Services services;
  Observability obs;
  absl::StatusOr<std::string> token = StatusToken(o, log);
  if (!token.ok()) return token.status();
  if (absl::Status s = obs.Start(o.http_address, *token, o.http, RolesOf(o.role), log); !s.ok())
    return s;
  if (absl::Status s = PrepareCluster(o, stop, log); !s.ok()) return s;
  if (absl::Status s = StartServices(o, profiles, stop, &clock, obs, &services, log); !s.ok())
    return s;
  if (stop.load()) return absl::OkStatus();
  if (services.gate == nullptr && services.ledger == nullptr && services.codes == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown role '", o.role, "' (all, ledger, gate, codes)"));
  }
  // A ledger alone is ready once it has replayed; a code owner alone while it is not stalled.
  obs.ready = services.gate == nullptr;
  return RunServices(services, obs, stop, log);
}

namespace {

// What the demo streamed to its cluster.
struct DemoStream {
  synthetic::SyntheticOptions population;
  int64_t ledger_events = 0;
  int64_t claims = 0;
};

// The population and its year: ledger events to ledger-events, claims (up to d.claims) to claims.
absl::StatusOr<DemoStream> ProduceDemoStream(const DemoOptions& d, const ServeOptions& o) {
  auto producer = kafka::MakeProducer(o.gate.kafka, "");
  if (!producer.ok()) return producer.status();
  DemoStream stream;
  synthetic::SyntheticOptions& pop = stream.population;
  pop.persons = d.persons;
  pop.institutions = std::max<int64_t>(1, d.persons / 10);
  pop.assessment_rate = 0.2;  // enough violations for suspensions and terminations to show
  std::string bytes;
  const int64_t events = static_cast<int64_t>(d.claims / (1 - pop.assessment_rate)) + 100;
  synthetic::GenerateStream(pop, events, [&](const v1::Event& e) {
    if (e.body_case() == v1::Event::kClaim && stream.claims >= d.claims) return;
    e.SerializeToString(&bytes);
    const bool claim = e.body_case() == v1::Event::kClaim;
    const std::string& topic = claim ? o.gate.topics.claims : o.gate.topics.ledger_events;
    const std::string key = claim ? e.claim().claim_id() : std::string();
    while ((*producer)->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                bytes.data(), bytes.size(), key.empty() ? nullptr : key.data(),
                                key.size(), 0, nullptr) == RdKafka::ERR__QUEUE_FULL) {
      (*producer)->poll(10);
    }
    ++(claim ? stream.claims : stream.ledger_events);
  });
  (*producer)->flush(30000);
  return stream;
}

// The ledger, run until it has applied the demo's `ledger_events`; then it publishes every status
// (a gate is ready once it has caught up with them).
absl::StatusOr<std::unique_ptr<ledger::LedgerService>> CatchUpLedger(
    const DemoOptions& d, const ServeOptions& o, const ledger::ProfileSet& profiles,
    int64_t ledger_events, const std::atomic<bool>& stop, std::ostream& out) {
  auto ledger_service = ledger::LedgerService::Start(o.ledger, &profiles);
  if (!ledger_service.ok()) return ledger_service.status();
  const absl::Time t0 = absl::Now();
  absl::Time shown = t0;
  while ((*ledger_service)->stats().next_offset < ledger_events) {
    if (stop.load()) return absl::CancelledError("stopped by a signal");
    absl::StatusOr<int> n = (*ledger_service)->RunOnce(500);
    if (!n.ok()) return n.status();
    if (absl::Now() - t0 > absl::Seconds(d.duration_seconds))
      return absl::DeadlineExceededError("ledger");
    if (absl::Now() - shown >= absl::Seconds(1)) {
      shown = absl::Now();
      out << absl::StrFormat("\r%6.1f s  ledger: %8d of %d events applied   ",
                             absl::ToDoubleSeconds(shown - t0),
                             (*ledger_service)->stats().next_offset, ledger_events)
          << std::flush;
    }
  }
  (*ledger_service)->PublishPopulationNow();
  out << absl::StrFormat(
      "\rledger: %d events applied in %.1f s, %d refused%20s\n",
      (*ledger_service)->stats().applied, absl::ToDoubleSeconds(absl::Now() - t0),
      (*ledger_service)->stats().refused, "");
  return ledger_service;
}

int64_t OutcomeCount(const GateServiceStats& s, const std::string& outcome) {
  return s.outcomes.count(outcome) ? s.outcomes.at(outcome) : 0;
}

// Runs `gate` until it has decided or dead-lettered `claims` claims or the demo's duration is up,
// with a progress line a second. The seconds it ran.
absl::StatusOr<double> RunDemoGate(const DemoOptions& d, int64_t claims, GateService& gate,
                                   Observability& obs, const std::atomic<bool>& stop,
                                   std::ostream& out) {
  const absl::Time start = absl::Now();
  absl::Time last = start;
  int64_t last_done = 0;
  auto done = [&] { return gate.stats().decided + gate.stats().dead_lettered; };
  // The progress line, rewritten in place; the rate over the time since the last one.
  auto show = [&] {
    const auto& s = gate.stats();
    const absl::Time now = absl::Now();
    out << absl::StrFormat(
               "\r%6.1f s  %8d decided  %8.0f claims/s  ACCEPT %d  REJECT %d  FLAG %d  DLQ %d   ",
               absl::ToDoubleSeconds(now - start), s.decided,
               (done() - last_done) / std::max(1e-3, absl::ToDoubleSeconds(now - last)),
               OutcomeCount(s, "ACCEPT"), OutcomeCount(s, "REJECT"), OutcomeCount(s, "FLAG"),
               s.dead_lettered)
        << std::flush;
    last = now;
    last_done = done();
  };
  while (done() < claims && absl::Now() - start < absl::Seconds(d.duration_seconds)) {
    if (stop.load()) return absl::CancelledError("stopped by a signal");
    absl::StatusOr<int> n = gate.RunOnce(200);
    if (!n.ok()) return n.status();
    obs.ready = gate.ready();
    if (absl::Now() - last >= absl::Seconds(1)) show();
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  show();  // the last state, not the one of up to a second ago
  return seconds;
}

// The gate's tables: claims by outcome and by reason, then the totals.
void PrintGateSummary(const GateServiceStats& s, double seconds, std::ostream& out) {
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
}

// The gate phase: a gate on a temporary store decides the demo's claims, then its tables. The
// store is removed. DeadlineExceeded when claims are left undecided.
absl::Status DecideDemoClaims(const DemoOptions& d, ServeOptions o,
                              const ledger::ProfileSet& profiles, int64_t claims,
                              Observability& obs, const std::atomic<bool>& stop,
                              std::ostream& out) {
  const std::string state =
      absl::StrCat(std::filesystem::temp_directory_path().string(), "/claimgate-demo-", getpid());
  std::filesystem::remove_all(state);
  o.gate.store.path = state;
  o.gate.store.hot_tier_bytes = 64 << 20;
  o.gate.store.block_cache_bytes = 32 << 20;
  SystemClock clock;
  auto gate = GateService::Start(o.gate, &profiles, &clock);
  if (!gate.ok()) return gate.status();
  // The code owner beside it, on a thread of its own: the gate waits for its answers.
  std::ostringstream owner_log;
  auto owner = CodeOwner::Start(OwnerOptions(o, stop, owner_log));
  if (!owner.ok()) return owner.status();
  std::atomic<bool> owner_stop = false;
  absl::Status owner_status;
  std::thread owner_thread([&] { owner_status = (*owner)->Run(owner_stop); });
  obs.store = &(*gate)->store();
  absl::StatusOr<double> seconds = RunDemoGate(d, claims, **gate, obs, stop, out);
  owner_stop = true;
  owner_thread.join();
  if (!owner_status.ok()) return owner_status;
  if (!seconds.ok()) return seconds.status();
  const GateServiceStats& s = (*gate)->stats();
  PrintGateSummary(s, *seconds, out);
  const bool complete = s.decided + s.dead_lettered >= claims;
  obs.store = nullptr;  // no status query may reach the store from here on (the endpoint stays)
  gate->reset();
  owner->reset();
  std::filesystem::remove_all(state);
  std::filesystem::remove_all(state + "-codes");
  if (!complete)
    return absl::DeadlineExceededError("the demo's claims were not all decided in time");
  return absl::OkStatus();
}

// The audit trail, as an auditor would check it (docs/audit.md): the hash chains of claim-audit,
// and every decision replayed against the record from the topics.
absl::Status VerifyDemoAudit(const ServeOptions& o, const ledger::ProfileSet& profiles,
                             std::ostream& out) {
  const absl::Time audit_start = absl::Now();
  out << "\naudit: checking the hash chains of " << o.gate.topics.audit << " ..." << std::flush;
  AuditTopicOptions audit;
  audit.kafka = o.gate.kafka;
  audit.topic = o.gate.topics.audit;
  ChainVerifier verifier(/*partial=*/false);
  if (absl::Status st = VerifyAuditTopic(audit, &verifier); !st.ok()) return st;
  out << absl::StrFormat(" %d records; replaying each decision against the record ...",
                         verifier.records())
      << std::flush;
  KafkaReplayOptions replay;
  replay.kafka = o.gate.kafka;
  replay.topics = o.gate.topics;
  std::ostringstream differences;
  absl::StatusOr<ReplayTally> tally = ReplayKafka(replay, profiles, differences);
  if (!tally.ok()) return tally.status();
  out << absl::StrFormat(" done\n\n%-36s %10d\n%-36s %10d\n%-36s %10d\n%-36s %10d\n%-36s %10.1f\n",
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

}  // namespace

absl::Status RunDemo(const DemoOptions& d, const ledger::ProfileSet& profiles,
                     const std::atomic<bool>& stop, std::ostream& out) {
  Observability obs;
  // A taken port (a serve, another demo): any free one will do for a demo.
  if (absl::Status s = obs.Start(d.http_address, "", {}, Roles(), out, /*any_port_if_taken=*/true);
      !s.ok()) {
    return s;
  }
  auto cluster = kafka::MockCluster::Start(1);
  if (!cluster.ok()) return cluster.status();
  ServeOptions o;
  o.ledger.metrics = obs.ledger.get();
  o.ledger.lag = &obs.lag;
  o.gate.metrics = obs.gate.get();
  o.gate.lag = &obs.lag;
  o.gate.kafka.bootstrap_servers = o.ledger.kafka.bootstrap_servers =
      (*cluster)->bootstrap_servers();
  for (const kafka::TopicSpec& t : ServeTopicSpecs(o)) {
    if (absl::Status s = (*cluster)->CreateTopic(t.name, t.partitions); !s.ok()) return s;
  }
  absl::StatusOr<DemoStream> stream = ProduceDemoStream(d, o);
  if (!stream.ok()) return stream.status();
  out << absl::StrFormat(
      "claimgate demo: mock cluster %s; %d persons, %d institutions; %d ledger events, "
      "%d claims\n",
      (*cluster)->bootstrap_servers(), stream->population.persons,
      stream->population.institutions, stream->ledger_events, stream->claims);
  // Kept to the end, as the cluster: the gate reads what it published.
  auto ledger_service = CatchUpLedger(d, o, profiles, stream->ledger_events, stop, out);
  if (!ledger_service.ok()) return ledger_service.status();
  if (absl::Status s = DecideDemoClaims(d, o, profiles, stream->claims, obs, stop, out); !s.ok())
    return s;
  if (absl::Status s = VerifyDemoAudit(o, profiles, out); !s.ok()) return s;
  if (d.linger && obs.http != nullptr) {
    out << "claimgate demo: done; /metrics stays up on port " << obs.http->port()
        << " until Ctrl-C (--linger)" << std::endl;
    while (!stop.load()) absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::OkStatus();
}

}  // namespace claimgate::gate
