// claimgate: the one binary (SPEC §7, DEVELOPERS.md). The only code not linked into tests.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gate/app/serve.h"
#include "gate/audit/audit_file.h"
#include "gate/check/check.h"
#include "gate/clock.h"
#include "gate/replay/replay_files.h"
#include "gate/service/audit_topic.h"
#include "gate/service/replay_kafka.h"
#include "ledger/calendar.h"
#include "ledger/kafka/mock_cluster.h"
#include "ledger/profile.h"

#ifndef CLAIMGATE_SOURCE_DIR
#define CLAIMGATE_SOURCE_DIR "."
#endif

namespace {

using claimgate::gate::CheckOptions;

int Fail(const std::string& what) {
  std::cerr << "claimgate: " << what << "\n";
  return 2;
}

// Builtin profiles plus, when given, those of a directory (a new province is a new file there).
std::unique_ptr<claimgate::ledger::ProfileSet> LoadProfiles(const std::string& dir,
                                                            std::string* error) {
  auto set = claimgate::ledger::ProfileSet::Builtin();
  if (!set.ok()) {
    *error = std::string(set.status().message());
    return nullptr;
  }
  if (!dir.empty()) {
    if (absl::Status s = (*set)->AddDirectory(dir); !s.ok()) {
      *error = std::string(s.message());
      return nullptr;
    }
  }
  return std::move(*set);
}

std::unique_ptr<claimgate::gate::Clock> MakeClock(const std::string& fixed, std::string* error) {
  if (fixed.empty()) return std::make_unique<claimgate::gate::SystemClock>();
  absl::StatusOr<absl::Time> t = claimgate::ledger::ParseRfc3339(fixed);
  if (!t.ok()) {
    *error = std::string(t.status().message());
    return nullptr;
  }
  return std::make_unique<claimgate::gate::FixedClock>(*t);
}

std::string DefaultDemoEvents() {
  const std::string relative = "docs/examples/demo-2025.jsonl";
  if (std::filesystem::exists(relative)) return relative;
  return std::string(CLAIMGATE_SOURCE_DIR) + "/" + relative;
}

// The input of `check` and `audit verify`: a file, or standard input for "-". Null when the file
// cannot be read.
std::istream* OpenInput(const std::string& path, std::ifstream* file) {
  if (path == "-") return &std::cin;
  file->open(path);
  return *file ? file : nullptr;
}

// --from / --to of `audit verify` and `replay`: RFC 3339 times into optional bounds.
bool ParseTimeRange(const std::string& from, const std::string& to,
                    std::optional<absl::Time>* from_time, std::optional<absl::Time>* to_time,
                    std::string* error) {
  for (auto [text, slot] : {std::pair{&from, from_time}, std::pair{&to, to_time}}) {
    if (text->empty()) continue;
    absl::StatusOr<absl::Time> t = claimgate::ledger::ParseRfc3339(*text);
    if (!t.ok()) {
      *error = std::string(t.status().message());
      return false;
    }
    *slot = *t;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"claimgate: real-time claim gate for medical-insurance payment eligibility"};
  app.require_subcommand(1);
  app.fallthrough();  // top-level options (--profiles-dir) may follow the subcommand
  app.set_version_flag("--version", claimgate::gate::GateVersion());

  std::string profiles_dir;
  app.add_option("--profiles-dir", profiles_dir, "extra policy profiles (*.textproto)")
      ->check(CLI::ExistingDirectory);

  // check
  CheckOptions check_options;
  std::string check_input;
  std::string mode = "enforce";
  std::string processing_time;
  std::string notices_path;
  CLI::App* check =
      app.add_subcommand("check", "apply ledger events and decide claims of a JSONL file");
  check
      ->add_option("--profile", check_options.default_profile,
                   "profile of institutions that name none")
      ->capture_default_str();
  check->add_option("--mode", mode, "enforce or shadow (every REJECT emitted as FLAG)")
      ->check(CLI::IsMember({"enforce", "shadow"}))
      ->capture_default_str();
  check->add_option("--notices", notices_path, "write ledger notices (JSON lines) to this file");
  check->add_option("--processing-time", processing_time,
                    "stamp every audit record with this RFC 3339 time (reproducible output)");
  check->add_option("input", check_input, "events, one JSON object a line ('-' for stdin)")
      ->required();

  // demo
  std::string demo_events;
  std::string demo_decisions;
  claimgate::gate::DemoOptions demo_options;
  CLI::App* demo = app.add_subcommand(
      "demo",
      "embedded default: mock Kafka cluster, synthetic population and claims, ledger + gate");
  demo->add_option("--duration", demo_options.duration_seconds,
                   "upper bound of the claim phase, seconds")
      ->capture_default_str();
  demo->add_option("--claims", demo_options.claims, "claims to stream")->capture_default_str();
  demo->add_option("--persons", demo_options.persons, "population size")->capture_default_str();
  demo->add_option("--http-address", demo_options.http_address,
                   "HOST:PORT of /metrics, /livez, /readyz (empty: none)")
      ->capture_default_str();
  demo->add_option(
      "--events", demo_events,
      "instead: decide a JSONL file with the file path (e.g. " + DefaultDemoEvents() + ")");
  demo->add_option("--decisions", demo_decisions, "with --events: also write the decisions here");

  // serve
  claimgate::gate::ServeOptions serve_options;
  std::string bootstrap, state_dir = "claimgate-state", config_path, input_format = "protobuf",
                         output_format = "protobuf", serve_profile = "national",
                         serve_mode = "enforce", instance = "0";
  bool no_create_topics = false;
  CLI::App* serve = app.add_subcommand("serve", "run the ledger and/or gate services on Kafka");
  serve->add_option("--bootstrap-servers", bootstrap, "HOST:PORT[,...]")->required();
  serve->add_option("--role", serve_options.role, "all, ledger or gate")
      ->check(CLI::IsMember({"all", "ledger", "gate"}))
      ->capture_default_str();
  serve
      ->add_option("--state-dir", state_dir,
                   "state directory: gate/ (the status store), ledger/ (the ledger's events)")
      ->capture_default_str();
  serve->add_option("--config", config_path,
                    "YAML configuration (kafka: librdkafka properties, topics: ...)");
  serve->add_option("--input-format", input_format, "json or protobuf")
      ->check(CLI::IsMember({"json", "protobuf"}))
      ->capture_default_str();
  serve->add_option("--output-format", output_format, "json or protobuf")
      ->check(CLI::IsMember({"json", "protobuf"}))
      ->capture_default_str();
  serve->add_option("--profile", serve_profile, "profile of institutions that name none")
      ->capture_default_str();
  serve->add_option("--mode", serve_mode, "enforce or shadow")
      ->check(CLI::IsMember({"enforce", "shadow"}))
      ->capture_default_str();
  serve->add_option("--instance", instance, "gate instance id (its transactional.id suffix)")
      ->capture_default_str();
  serve->add_flag("--no-create-topics", no_create_topics, "do not create missing topics");
  serve
      ->add_option("--http-address", serve_options.http_address,
                   "HOST:PORT of /metrics, /livez, /readyz (empty: none)")
      ->capture_default_str();
  std::string http_token_file;
  serve->add_option("--http-token-file", http_token_file,
                    "file holding the bearer token of GET /v1/persons/{id}/status (config "
                    "http.token_file); without a token or client CA that query is off");

  // mock-broker
  int mock_brokers = 3;
  CLI::App* mock = app.add_subcommand(
      "mock-broker", "run librdkafka's mock Kafka cluster on loopback until SIGTERM/SIGINT");
  mock->add_option("--brokers", mock_brokers, "number of brokers")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  // SPEC §2 topics; ledger-events has one partition: its order is the ledger's total order.
  std::string mock_topics =
      "ledger-events:1,claims:3,person-status:3,institution-status:3,claim-decisions:3,claim-audit:"
      "3,"
      "ledger-notices:1,claims-dlq:1";
  mock->add_option("--topics", mock_topics, "topics to create, NAME:PARTITIONS,...")
      ->capture_default_str();

  // audit verify
  CLI::App* audit = app.add_subcommand("audit", "audit trail tools");
  audit->require_subcommand(1);
  CLI::App* verify =
      audit->add_subcommand("verify", "check the hash chains of audit records (file or topic)");
  std::string verify_input, verify_bootstrap, verify_from, verify_to;
  claimgate::gate::AuditTopicOptions verify_topic;
  bool verify_partial = false;
  verify->add_option("input", verify_input,
                     "decisions as `check` writes them, or audit records, one JSON a line ('-': "
                     "stdin)");
  verify->add_option("--bootstrap-servers", verify_bootstrap, "instead: read the topic");
  verify->add_option("--topic", verify_topic.topic, "audit topic")->capture_default_str();
  verify->add_option("--partition", verify_topic.partition, "only this partition");
  verify->add_option("--from", verify_from, "records written at or after (RFC 3339)");
  verify->add_option("--to", verify_to, "records written before (RFC 3339)");
  std::vector<std::string> verify_heads;
  verify->add_option(
      "--expect-head", verify_heads,
      "CHAIN=SEQ:HASH kept from an earlier run (repeatable): the chain must reach it");
  verify->add_flag("--partial", verify_partial,
                   "a file's chains may start after seq 1 (an excerpt of a longer trail)");

  // replay
  CLI::App* replay = app.add_subcommand(
      "replay", "re-decide recorded claims: against the record (integrity) or the ledger now");
  claimgate::gate::ReplayOptions replay_options;
  std::string replay_against = "recorded", replay_format = "json", replay_events, replay_decisions;
  replay->add_option("--against", replay_against, "recorded or current")
      ->check(CLI::IsMember({"recorded", "current"}))
      ->required();
  replay->add_option("--events", replay_events, "ledger events and claims (SPEC §7) as decided");
  replay->add_option("--decisions", replay_decisions, "decisions as `claimgate check` wrote them");
  replay->add_option("--format", replay_format, "json (lines) or csv (the recoupment list)")
      ->check(CLI::IsMember({"json", "csv"}))
      ->capture_default_str();
  replay
      ->add_option("--profile", replay_options.default_profile,
                   "profile of institutions that name none (as given to check)")
      ->capture_default_str();
  replay->add_option("--threads", replay_options.threads, "worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  replay
      ->add_option("--progress-seconds", replay_options.progress_seconds,
                   "a progress line on stderr this often")
      ->capture_default_str();
  std::string replay_bootstrap, replay_from, replay_to, replay_config,
      replay_input_format = "protobuf";
  replay->add_option("--bootstrap-servers", replay_bootstrap,
                     "instead of files: the audit records of a time range on claim-audit");
  replay->add_option("--from", replay_from, "audit records written at or after (RFC 3339)");
  replay->add_option("--to", replay_to, "audit records written before (RFC 3339)");
  replay->add_option("--config", replay_config,
                     "the serve YAML configuration (kafka properties, topic names)");
  replay->add_option("--input-format", replay_input_format, "ledger events and claims, as served")
      ->check(CLI::IsMember({"json", "protobuf"}))
      ->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (verify->parsed()) {
    if (verify_input.empty() == verify_bootstrap.empty())
      return Fail("audit verify: give a file or --bootstrap-servers (one of the two)");
    claimgate::gate::ChainVerifier verifier(verify_partial || !verify_bootstrap.empty());
    for (const std::string& head : verify_heads) {
      std::string chain, hash;
      int64_t seq = 0;
      if (absl::Status s = claimgate::gate::ParseKeptHead(head, &chain, &seq, &hash); !s.ok())
        return Fail(std::string(s.message()));
      verifier.ExpectHead(chain, seq, hash);
    }
    absl::Status s;
    if (!verify_bootstrap.empty()) {
      verify_topic.kafka.bootstrap_servers = verify_bootstrap;
      std::string bad;
      if (!ParseTimeRange(verify_from, verify_to, &verify_topic.from, &verify_topic.to, &bad))
        return Fail(absl::StrCat("audit verify: ", bad));
      s = claimgate::gate::VerifyAuditTopic(verify_topic, &verifier);
    } else {
      std::ifstream file;
      std::istream* in = OpenInput(verify_input, &file);
      if (in == nullptr) return Fail("cannot read " + verify_input);
      s = claimgate::gate::VerifyAuditLines(*in, &verifier);
    }
    if (!s.ok()) return Fail(absl::StrCat("audit verify: ", s.ToString()));
    verifier.Finish();
    for (const auto& chain : verifier.chains())
      std::cout << claimgate::gate::ChainVerifier::ChainJson(chain) << "\n";
    std::cout << verifier.SummaryJson() << std::endl;
    return verifier.breaks() == 0 ? 0 : 1;
  }

  if (mock->parsed()) {
    // Block the signals before librdkafka starts its threads, then wait for one of them here.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    auto cluster = claimgate::kafka::MockCluster::Start(mock_brokers);
    if (!cluster.ok()) return Fail(std::string(cluster.status().message()));
    for (absl::string_view spec : absl::StrSplit(mock_topics, ',', absl::SkipEmpty())) {
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
    std::cout << (*cluster)->bootstrap_servers()
              << std::endl;  // the contract: first line of stdout
    int sig = 0;
    sigwait(&stop, &sig);
    std::cerr << "claimgate mock-broker: signal " << sig << ", stopping\n";
    return 0;
  }

  std::string error;
  std::unique_ptr<claimgate::ledger::ProfileSet> profiles = LoadProfiles(profiles_dir, &error);
  if (profiles == nullptr) return Fail(error);

  if (replay->parsed()) {
    replay_options.against = replay_against == "current" ? claimgate::gate::Against::kCurrent
                                                         : claimgate::gate::Against::kRecorded;
    replay_options.csv = replay_format == "csv";
    replay_options.progress = &std::cerr;
    const bool files = !replay_events.empty() || !replay_decisions.empty();
    if (files == !replay_bootstrap.empty())
      return Fail("replay: give --events and --decisions, or --bootstrap-servers");
    if (files && (replay_events.empty() || replay_decisions.empty()))
      return Fail("replay: give both --events and --decisions");
    const auto started = std::chrono::steady_clock::now();
    std::ios::sync_with_stdio(false);
    absl::StatusOr<claimgate::gate::ReplayTally> tally;
    if (files) {
      tally = claimgate::gate::ReplayFiles(replay_events, replay_decisions, replay_options,
                                           *profiles, std::cout);
    } else {
      claimgate::gate::ServeOptions config;
      if (!replay_config.empty()) {
        if (absl::Status s = claimgate::gate::LoadServeConfig(replay_config, &config); !s.ok())
          return Fail(std::string(s.message()));
      }
      claimgate::gate::KafkaReplayOptions ko;
      ko.kafka = config.gate.kafka;
      ko.kafka.bootstrap_servers = replay_bootstrap;
      ko.topics = config.gate.topics;
      ko.input_format = replay_input_format == "json" ? claimgate::kafka::Format::kJson
                                                      : claimgate::kafka::Format::kProtobuf;
      std::string bad;
      if (!ParseTimeRange(replay_from, replay_to, &ko.from, &ko.to, &bad))
        return Fail(absl::StrCat("replay: ", bad));
      ko.replay = replay_options;
      tally = claimgate::gate::ReplayKafka(ko, *profiles, std::cout);
    }
    if (!tally.ok()) return Fail(absl::StrCat("replay: ", tally.status().ToString()));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    (replay_options.csv ? std::cerr : std::cout)
        << tally->SummaryJson(replay_options.against, seconds) << std::endl;
    const bool failed =
        tally->errors() > 0 ||
        (replay_options.against == claimgate::gate::Against::kRecorded && tally->differ() > 0);
    return failed ? 1 : 0;
  }

  if (check->parsed()) {
    std::unique_ptr<claimgate::gate::Clock> clock = MakeClock(processing_time, &error);
    if (clock == nullptr) return Fail("--processing-time: " + error);
    check_options.shadow = mode == "shadow";
    check_options.source_file = check_input;
    std::ofstream notices;
    if (!notices_path.empty()) {
      notices.open(notices_path);
      if (!notices) return Fail("cannot write " + notices_path);
      check_options.notices = &notices;
    }
    std::ifstream file;
    std::istream* in = OpenInput(check_input, &file);
    if (in == nullptr) return Fail("cannot read " + check_input);
    std::ios::sync_with_stdio(false);
    auto summary =
        claimgate::gate::RunCheck(*in, std::cout, std::cerr, *profiles, check_options, *clock);
    if (!summary.ok()) return Fail(std::string(summary.status().message()));
    std::cout.flush();
    return 0;
  }

  if (serve->parsed()) {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // librdkafka's threads inherit the mask
    using claimgate::kafka::Format;
    // Precedence: flags given on the command line, then the configuration file, then defaults.
    auto& o = serve_options;
    if (!config_path.empty()) {
      const std::string role = o.role;
      if (absl::Status s = claimgate::gate::LoadServeConfig(config_path, &o); !s.ok()) {
        return Fail(std::string(s.message()));
      }
      o.role = role;
    }
    auto given = [&](const char* flag) { return serve->count(flag) > 0; };
    if (const char* token = std::getenv("CLAIMGATE_HTTP_TOKEN"); token != nullptr && *token != 0) {
      o.http_token = token;
      o.http_token_source = "CLAIMGATE_HTTP_TOKEN";
    }
    if (given("--http-token-file")) o.http_token_file = http_token_file;
    o.gate.kafka.bootstrap_servers = o.ledger.kafka.bootstrap_servers = bootstrap;
    if (given("--profile")) o.gate.default_profile = o.ledger.default_profile = serve_profile;
    if (given("--mode")) o.gate.shadow = serve_mode == "shadow";
    o.gate.input_format = o.ledger.input_format =
        input_format == "json" ? Format::kJson : Format::kProtobuf;
    o.gate.output_format = o.ledger.output_format =
        output_format == "json" ? Format::kJson : Format::kProtobuf;
    o.gate.status_format = o.ledger.output_format;
    if (given("--instance")) o.gate.transactional_id = "claimgate-gate-" + instance;
    std::error_code made;
    std::filesystem::create_directories(state_dir, made);
    if (made) return Fail("--state-dir " + state_dir + ": " + made.message());
    o.state_dir = state_dir;
    o.gate.store.path = state_dir + "/gate";
    o.ledger.state_path = state_dir + "/ledger";
    if (no_create_topics) o.create_topics = false;
    if (absl::Status s = claimgate::gate::ValidateServeOptions(o); !s.ok()) {
      return Fail(absl::StrCat("serve: ", s.message()));
    }
    std::atomic<bool> stop = false, finished = false;
    std::thread waiter([&] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      if (finished.load()) return;  // released below: the services ended by themselves
      std::cerr << "claimgate serve: signal " << sig << ", finishing the open transaction\n";
      stop = true;
    });
    const absl::Status s = claimgate::gate::RunServe(o, *profiles, stop, std::cerr);
    finished = true;
    if (!stop.load()) pthread_kill(waiter.native_handle(), SIGTERM);  // release the waiter
    waiter.join();
    if (!s.ok()) {
      // RunServe has said which service failed; the supervisor sees a non-zero exit.
      std::cerr << "claimgate serve: exiting with status 2 after an error: " << s.ToString()
                << "\n";
      return 2;
    }
    return 0;
  }

  if (demo->parsed() && demo_events.empty()) {
    const absl::Status s = claimgate::gate::RunDemo(demo_options, *profiles, std::cout);
    if (!s.ok()) return Fail(std::string(s.ToString()));
    return 0;
  }

  if (demo->parsed()) {
    std::ifstream file(demo_events);
    if (!file) return Fail("cannot read " + demo_events);
    std::ofstream decisions;
    std::ofstream discard;
    std::ostream* out = &discard;
    if (!demo_decisions.empty()) {
      decisions.open(demo_decisions);
      if (!decisions) return Fail("cannot write " + demo_decisions);
      out = &decisions;
    }
    std::ostringstream refusals;
    CheckOptions options;
    options.source_file = demo_events;
    claimgate::gate::SystemClock clock;
    auto summary = claimgate::gate::RunCheck(file, *out, refusals, *profiles, options, clock);
    if (!summary.ok()) return Fail(std::string(summary.status().message()));
    std::cout << "claimgate demo: " << demo_events << "\n\n"
              << claimgate::gate::FormatSummary(*summary);
    if (!demo_decisions.empty()) std::cout << "\ndecisions written to " << demo_decisions << "\n";
    return 0;
  }
  return 0;
}
