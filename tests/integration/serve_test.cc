// `claimgate serve` end to end as scripts run it: against `claimgate mock-broker` and Apache Kafka,
// JSON claims in, decisions out, SIGTERM for a graceful stop (exit 0). And the configuration file.
#include "gate/app/serve.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/app/command.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ledger/kafka/kafka.h"
#include "tests/testing/kafka_testing.h"
#include "tests/testing/test_broker.h"

namespace claimgate::gate {
namespace {

using claimgate::testing::Child;
using claimgate::testing::ReadTopic;
using claimgate::testing::SpawnClaimgate;

// `serve --role all` with `args` on `bootstrap` decides SPEC §7's example claims (JSON in), then
// stops gracefully on SIGTERM (exit 0).
void DecideSpecExample(const std::string& bootstrap, const kafka::Topics& topics,
                       const std::vector<std::string>& args) {
  const kafka::ClientConfig config{bootstrap, {}};
  std::vector<std::string> ledger, claims;
  claimgate::testing::SpecExample(&ledger, &claims);
  auto producer = kafka::MakeProducer(config, "");
  ASSERT_TRUE(producer.ok());
  auto send = [&](const std::string& topic, const std::string& v) {
    claimgate::testing::Send(producer->get(), topic, "", v);
  };
  Child serve;
  std::vector<std::string> all = {"serve", "--http-address", "127.0.0.1:0", "--bootstrap-servers",
                                  bootstrap, "--input-format", "json"};
  all.insert(all.end(), args.begin(), args.end());
  SpawnClaimgate(all, &serve);
  // The ledger publishes before the gate reads its first claim: give the status records a head
  // start. (Sent after serve started: on Apache Kafka, serve creates the topics.)
  for (absl::Time until = absl::Now() + absl::Seconds(30);
       claimgate::testing::TopicPartitions(config, topics.ledger_events) == 0 &&
       absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  for (const auto& l : ledger) send(topics.ledger_events, l);
  (*producer)->flush(10000);
  absl::SleepFor(absl::Seconds(3));
  for (const auto& l : claims) send(topics.claims, l);
  (*producer)->flush(10000);

  int decided = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60);
       decided < 3 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(500));
    decided = static_cast<int>(ReadTopic(config, topics.decisions, 3).size());
  }
  EXPECT_EQ(decided, 3);
  EXPECT_EQ(ReadTopic(config, topics.audit, 3).size(), 3u);
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST(ServeTest, DecidesFromMockBrokerAndStopsGracefullyOnSigterm) {
  Child broker;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&broker);
  ASSERT_FALSE(bootstrap.empty());
  const std::string state = ::testing::TempDir() + "/serve_test_state";
  std::filesystem::remove_all(state);
  DecideSpecExample(bootstrap, kafka::Topics(), {"--state-dir", state, "--no-create-topics"});
}

// Runs `claimgate args` to its exit (at most 60 s): exit status and everything it printed.
std::pair<int, std::string> RunToExit(const std::string& args) {
  const std::string command =
      absl::StrCat("timeout 60 ", CLAIMGATE_BINARY_DIR, "/gate/claimgate ", args, " 2>&1");
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string output;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) output += buf;
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// The same on Apache Kafka, where serve creates its topics itself (the admin API), with names,
// groups and transactional ids of this test's own from its configuration file.
TEST(ServeTest, DecidesOnApacheKafkaCreatingItsTopics) {
  CLAIMGATE_START_BROKER(broker, claimgate::testing::BrokerKind::kApache);
  const std::string state = ::testing::TempDir() + "/serve_test_apache_state";
  std::filesystem::remove_all(state);
  std::ofstream(state + ".yaml") << broker->ServeYaml();
  DecideSpecExample(broker->bootstrap_servers(), broker->topics(),
                    {"--state-dir", state, "--config", state + ".yaml"});
  // The auditors' commands take the same file: its topics (this test's own names) and kafka:
  // properties. Without it they would read the default topic names.
  const std::string from = absl::StrCat("--bootstrap-servers ", broker->bootstrap_servers(),
                                        " --config ", state, ".yaml");
  auto [status, out] = RunToExit("audit verify " + from);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"verified\":3,"), std::string::npos) << out;
  std::tie(status, out) = RunToExit("replay --against recorded --input-format json " + from);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("\"same\":3,"), std::string::npos) << out;
  std::tie(status, out) = RunToExit("audit verify --config " + state + ".yaml -");
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("--config is for reading the topic"), std::string::npos) << out;
}

// Serves the spec example's ledger events with `state` until the ledger has published a status.
void ServeLedgerOnce(const std::string& bootstrap, const std::string& state) {
  const kafka::ClientConfig config{bootstrap, {}};
  std::vector<std::string> ledger, claims;
  claimgate::testing::SpecExample(&ledger, &claims);
  auto producer = kafka::MakeProducer(config, "");
  ASSERT_TRUE(producer.ok());
  for (const auto& l : ledger) claimgate::testing::Send(producer->get(), "ledger-events", "", l);
  (*producer)->flush(10000);
  Child serve;
  SpawnClaimgate({"serve", "--http-address", "", "--bootstrap-servers", bootstrap,
                  "--input-format", "json", "--state-dir", state, "--no-create-topics"},
                 &serve);
  size_t published = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60);
       published == 0 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(500));
    published = ReadTopic(config, "person-status", 3).size();
  }
  EXPECT_GT(published, 0u);
  EXPECT_EQ(serve.Terminate(), 0);
}

// `serve` with `state` against `bootstrap`, expected to refuse to start: its status and output.
std::pair<int, std::string> ServeStateToExit(const std::string& bootstrap,
                                             const std::string& state) {
  return RunToExit(absl::StrCat("serve --http-address '' --bootstrap-servers ", bootstrap,
                                " --input-format json --no-create-topics --state-dir ", state));
}

// Issue 12.11: README's walk-through run again against a new mock-broker with the same state
// directory. Before, the ledger took the re-sent events for applied ones, published nothing, and
// C1 came out ACCEPT; now serve refuses to start (exit 2) and says how to reset.
TEST(ServeTest, RefusesAStateDirectoryBuiltFromAnotherCluster) {
  const std::string state = ::testing::TempDir() + "/serve_test_bound_state";
  std::filesystem::remove_all(state);
  {
    Child broker;
    ServeLedgerOnce(claimgate::testing::SpawnMockBroker(&broker), state);
  }
  std::ifstream binding(state + "/cluster-binding");
  std::string first_line;
  std::getline(binding, first_line);
  EXPECT_EQ(first_line.rfind("cluster_id=mockCluster", 0), 0u) << first_line;

  Child other;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&other);
  auto [status, output] = ServeStateToExit(bootstrap, state);
  EXPECT_EQ(status, 2) << output;
  EXPECT_NE(output.find("was built from another cluster or other topics (cluster_id was "),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("Resetting a state directory"), std::string::npos) << output;

  // Other topic names on the same cluster: refused as well.
  std::filesystem::remove_all(state);
  ServeLedgerOnce(bootstrap, state);
  const std::string config = state + "-config.yaml";
  std::ofstream(config) << "topics: {dlq: other-dlq}\n";
  std::tie(status, output) =
      RunToExit(absl::StrCat("serve --http-address '' --bootstrap-servers ", bootstrap,
                             " --config ", config, " --no-create-topics --state-dir ", state));
  EXPECT_EQ(status, 2) << output;
  EXPECT_NE(output.find("topics.dlq was 'claims-dlq', is 'other-dlq'"), std::string::npos)
      << output;
}

// A state directory of an earlier version (no binding file) is bound to the cluster it meets; the
// ledger store still refuses a topic that ends before it does.
TEST(ServeTest, LedgerStoreLongerThanItsTopicIsRefused) {
  const std::string state = ::testing::TempDir() + "/serve_test_unbound_state";
  std::filesystem::remove_all(state);
  {
    Child broker;
    ServeLedgerOnce(claimgate::testing::SpawnMockBroker(&broker), state);
  }
  std::filesystem::remove(state + "/cluster-binding");
  Child other;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&other);
  auto [status, output] = ServeStateToExit(bootstrap, state);
  EXPECT_EQ(status, 2) << output;
  EXPECT_NE(output.find("has no cluster binding (an earlier version made it)"), std::string::npos)
      << output;
  EXPECT_NE(output.find("but the topic ends at offset 0"), std::string::npos) << output;
}

TEST(ServeConfigTest, ReadsKafkaPropertiesTopicsAndSettings) {
  const std::string path = ::testing::TempDir() + "/serve_config.yaml";
  std::ofstream(path) << R"(
kafka:
  security.protocol: SASL_SSL
  sasl.mechanisms: PLAIN
topics:
  claims: prod-claims
  dlq: prod-claims-dlq
profile: hebei
mode: shadow
claims_partitions: 12
gate:
  staleness_seconds: 30
  hot_tier_bytes: 1048576
  max_claim_bytes: 200000
  batch_linger_ms: 0
ledger:
  transactional_id: ledger-prod
)";
  ServeOptions o;
  EXPECT_EQ(o.gate.max_claim_bytes, 1048576);  // 1 MiB unless configured
  EXPECT_EQ(o.gate.batch_linger, absl::Milliseconds(5));
  ASSERT_TRUE(LoadServeConfig(path, &o).ok());
  EXPECT_EQ(o.gate.max_claim_bytes, 200000);
  EXPECT_EQ(o.gate.batch_linger, absl::ZeroDuration());
  EXPECT_EQ(o.gate.kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(o.ledger.kafka.properties.at("sasl.mechanisms"), "PLAIN");
  EXPECT_EQ(o.gate.topics.claims, "prod-claims");
  EXPECT_EQ(o.ledger.topics.dlq, "prod-claims-dlq");
  EXPECT_EQ(o.gate.topics.decisions, "claim-decisions");  // untouched keys keep their defaults
  EXPECT_EQ(o.gate.default_profile, "hebei");
  EXPECT_TRUE(o.gate.shadow);
  EXPECT_EQ(o.claims_partitions, 12);
  EXPECT_EQ(o.gate.staleness_bound, absl::Seconds(30));
  EXPECT_EQ(o.gate.store.hot_tier_bytes, 1048576u);
  EXPECT_EQ(o.ledger.transactional_id, "ledger-prod");

  std::ofstream(path) << "mode: sometimes\n";
  EXPECT_FALSE(LoadServeConfig(path, &o).ok());
  std::ofstream(path) << "gate: {hot_tier_bytes: lots}\n";
  EXPECT_FALSE(LoadServeConfig(path, &o).ok());
  EXPECT_FALSE(LoadServeConfig(path + ".missing", &o).ok());
  // A misspelt key is an error that names it, not a silent default.
  std::ofstream(path) << "gate: {staleness_secs: 30}\n";
  absl::Status misspelt = LoadServeConfig(path, &o);
  EXPECT_TRUE(absl::IsInvalidArgument(misspelt));
  EXPECT_NE(misspelt.message().find("gate.staleness_secs"), std::string::npos) << misspelt;
  std::ofstream(path) << "topic: {claims: x}\n";
  EXPECT_FALSE(LoadServeConfig(path, &o).ok());
}

// Precedence (ApplyServeFlags): a flag given on the command line, then the file, then defaults;
// --role is the command line's alone, and the stores lie under the state directory.
TEST(ServeConfigTest, FlagsGivenWinOverTheFileAndTheFileOverDefaults) {
  const std::string path = ::testing::TempDir() + "/serve_config_flags.yaml";
  std::ofstream(path) << "profile: hebei\nmode: shadow\ngate: {transactional_id: from-file}\n";
  ServeFlags flags;
  flags.config_path = path;
  flags.bootstrap = "127.0.0.1:1";
  flags.state_dir = "/var/lib/x";
  flags.options.role = "gate";
  flags.mode = "enforce";  // not given: the file's shadow stays
  flags.instance = "7";
  flags.given = {"--instance"};
  flags.http_token_env = "t0ken";
  absl::StatusOr<ServeOptions> o = ApplyServeFlags(flags);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->role, "gate");
  EXPECT_EQ(o->gate.default_profile, "hebei");
  EXPECT_TRUE(o->gate.shadow);
  EXPECT_EQ(o->gate.transactional_id, "claimgate-gate-7");
  EXPECT_EQ(o->ledger.kafka.bootstrap_servers, "127.0.0.1:1");
  EXPECT_EQ(o->http_token_source, "CLAIMGATE_HTTP_TOKEN");
  EXPECT_EQ(o->gate.store.path, "/var/lib/x/gate");
  EXPECT_EQ(o->ledger.state_path, "/var/lib/x/ledger");
  flags.given.insert("--mode");
  EXPECT_FALSE(ApplyServeFlags(flags)->gate.shadow);
  flags.config_path = path + ".missing";
  EXPECT_TRUE(absl::IsInvalidArgument(ApplyServeFlags(flags).status()));
}

// The topics serve creates follow the table (ledger/kafka/topics.h): configured names and
// partition counts; ledger-events kept for ever (as create-topics.sh has it), status compacted.
TEST(ServeConfigTest, TopicSpecsFollowTheTopicTable) {
  ServeOptions o;
  o.gate.topics.claims = "prod-claims";
  o.claims_partitions = 12;
  o.status_partitions = 5;
  std::map<std::string, kafka::TopicSpec> specs;
  for (const kafka::TopicSpec& spec : ServeTopicSpecs(o)) specs[spec.name] = spec;
  ASSERT_EQ(specs.size(), 11u);
  EXPECT_EQ(specs["ledger-events"].partitions, 1);
  const std::map<std::string, std::string> forever = {{"retention.bytes", "-1"},
                                                      {"retention.ms", "-1"}};
  EXPECT_EQ(specs["ledger-events"].config, forever);
  EXPECT_EQ(specs["prod-claims"].partitions, 12);
  EXPECT_EQ(specs["claims-dlq"].partitions, 12);
  EXPECT_EQ(specs["person-status"].partitions, 5);
  EXPECT_EQ(specs["institution-status"].config.at("cleanup.policy"), "compact");
  EXPECT_EQ(specs["insured-status"].partitions, 5);
  EXPECT_EQ(specs["insured-status"].config.at("cleanup.policy"), "compact");
  EXPECT_TRUE(specs["claim-audit"].config.empty());
  EXPECT_EQ(specs["ledger-notices"].partitions, 1);
  // The code owners' input is their changelog too (docs/duplicate-codes.md): kept.
  EXPECT_EQ(specs["code-checks"].partitions, 12);
  EXPECT_EQ(specs["code-checks"].config, forever);
  EXPECT_EQ(specs["code-results"].partitions, 12);
  EXPECT_EQ(specs["code-results"].config.at("retention.ms"), "86400000");
}

// Issue 12.9: every shape or value a key cannot take is InvalidArgument naming the key; nothing
// aborts (yaml-cpp's exceptions stop in LoadServeConfig).
TEST(ServeConfigTest, EveryBadShapeOrValueNamesItsKey) {
  const std::string path = ::testing::TempDir() + "/serve_config_bad.yaml";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"gate: {max_batch: [1, 2]}\n", "'gate.max_batch': expected a single value, got a list"},
      {"gate: {max_batch: {a: 1}}\n", "'gate.max_batch': expected a single value, got a map"},
      {"gate: {max_batch:}\n", "'gate.max_batch': expected a single value, got nothing"},
      {"gate: {max_batch: many}\n", "'gate.max_batch': 'many' is not a number"},
      {"gate: {duplicate_codes: sometimes}\n",
       "'gate.duplicate_codes': 'sometimes' is not true or false"},
      {"gate: {owner_timeout_seconds: 0}\n", "'gate.owner_timeout_seconds': 1 to 3600"},
      {"gate: {batch_linger_ms: 1001}\n", "'gate.batch_linger_ms': 0..1000, got 1001"},
      {"gate: {batch_linger_ms: -1}\n", "'gate.batch_linger_ms': 0..1000, got -1"},
      {"kafka: {linger.ms: [5]}\n", "'kafka.linger.ms': expected a single value"},
      {"topics: {claims: [a]}\n", "'topics.claims': expected a single value"},
      {"profile: {a: b}\n", "'profile': expected a single value, got a map"},
      {"create_topics: maybe\n", "'create_topics': 'maybe' is not true or false"},
      {"http: [1]\n", "'http' must be a map"},
      {"gate: 5\n", "'gate' must be a map"},
      {"- a\n- b\n", "the top level must be a map of keys, got a list"},
      {"? {a: 1}\n: x\n", "a key must be a name, got a map"},
      {"gate: {max_batch: 0}\n", "'gate.max_batch': 1..100000, got 0"},
      {"ledger: {max_batch: -3}\n", "'ledger.max_batch': 1..100000, got -3"},
      {"gate: {staleness_seconds: -5}\n", "'gate.staleness_seconds': 1.."},
      {"gate: {staleness_seconds: 0}\n", "'gate.staleness_seconds': 1.."},
      {"claims_partitions: 0\n", "'claims_partitions': 1..10000, got 0"},
      {"status_partitions: -1\n", "'status_partitions': 1..10000, got -1"},
      {"gate: {hot_tier_bytes: -1}\n", "'gate.hot_tier_bytes': must not be negative"},
      {"gate: {write_buffer_bytes: 0}\n", "'gate.write_buffer_bytes': 65536.."},
      {"topics: {claims: ''}\n", "'topics.claims': a Kafka topic name"},
      {"topics: {claims: 'a b'}\n", "'topics.claims': a Kafka topic name"},
      {"topics: {audit: '..'}\n", "'topics.audit': a Kafka topic name"},
      {"topics: {decisions: claims}\n", "'topics.decisions': 'claims' names another topic too"},
      {"gate: {group_id: ''}\n", "'gate.group_id': 1 to 255 characters"},
      {"gate: {group_id: claimgate-ledger}\n", "'gate.group_id' and 'ledger.group_id' must differ"},
      {"ledger: {transactional_id: claimgate-gate-0}\n", "must differ (each would fence"},
  };
  for (const auto& [yaml, expected] : cases) {
    std::ofstream(path) << yaml;
    ServeOptions o;
    const absl::Status s = LoadServeConfig(path, &o);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << yaml << ": " << s;
    EXPECT_NE(s.message().find(expected), std::string::npos) << yaml << ": " << s;
  }
  std::ofstream(path) << "";  // an empty file: every default
  ServeOptions o;
  EXPECT_TRUE(LoadServeConfig(path, &o).ok());
}

// Issue 12.10: the librdkafka properties exactly-once depends on are the runtime's.
TEST(ServeConfigTest, RefusesKafkaPropertiesTheRuntimeOwns) {
  const std::string path = ::testing::TempDir() + "/serve_config_owned.yaml";
  for (const char* key :
       {"transactional.id", "isolation.level", "enable.idempotence", "group.id", "acks",
        "enable.auto.commit", "enable.auto.offset.store", "auto.offset.reset",
        "enable.partition.eof", "group.instance.id", "bootstrap.servers"}) {
    std::ofstream(path) << "kafka:\n  client.id: x\n  " << key << ": something\n";
    ServeOptions o;
    const absl::Status s = LoadServeConfig(path, &o);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << key;
    EXPECT_NE(s.message().find(absl::StrCat("'kafka.", key, "': set by claimgate itself")),
              std::string::npos)
        << s;
  }
}

// The binary: a bad configuration is exit 2 with the key named, never an abort (exit 134).
TEST(ServeConfigTest, BadConfigurationExitsTwoNamingTheKey) {
  const std::string path = ::testing::TempDir() + "/serve_config_exit.yaml";
  const std::string state = ::testing::TempDir() + "/serve_config_exit_state";
  for (const std::string yaml : {"gate: {max_batch: [1]}\n", "kafka: {isolation.level: x}\n",
                                 "kafka: {linger.ms: {a: 1}}\n", "- 1\n"}) {
    std::ofstream(path) << yaml;
    const auto [status, output] =
        RunToExit(absl::StrCat("serve --config ", path, " --bootstrap-servers 127.0.0.1:1",
                               " --state-dir ", state, " --http-address ''"));
    ASSERT_NE(status, -1) << yaml << output;  // an abort shows as 134 through timeout(1)
    EXPECT_EQ(status, 2) << yaml << output;
    EXPECT_NE(output.find("claimgate: config "), std::string::npos) << yaml << output;
  }
}

// The configuration files shipped in deploy/ are valid.
TEST(ServeConfigTest, DeployConfigurationsLoad) {
  int files = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CLAIMGATE_SOURCE_DIR) + "/deploy/config")) {
    if (entry.path().extension() != ".yaml") continue;
    ServeOptions o;
    EXPECT_TRUE(LoadServeConfig(entry.path().string(), &o).ok()) << entry.path();
    ++files;
  }
  EXPECT_GE(files, 3);
}

// A service that fails ends the process with a message naming the service and the error, and a
// non-zero exit status; it does not claim a signal it never received (issue 12, item 12).
TEST(ServeTest, SaysWhichServiceFailedAndWhy) {
  const std::string state = ::testing::TempDir() + "/serve_test_failing";
  const std::string err = ::testing::TempDir() + "/serve_test_failing.stderr";
  std::filesystem::remove_all(state);
  // A broker answers (serve binds its state directory to the cluster first); the ledger service
  // then cannot start with an unknown profile.
  Child broker;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&broker);
  Child serve;
  claimgate::testing::SpawnProgram(
      "/bin/sh",
      {"-c", absl::StrCat("exec '", CLAIMGATE_BINARY_DIR, "/gate/claimgate' serve --role ledger",
                          " --bootstrap-servers ", bootstrap,
                          " --no-create-topics --http-address ''",
                          " --profile no-such-profile --state-dir '", state, "' 2>'", err, "'")},
      &serve);
  int status = 0;
  ASSERT_EQ(waitpid(serve.pid, &status, 0), serve.pid);
  serve.pid = -1;
  std::ifstream in(err);
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::cout << said;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_EQ(said.find("signal"), std::string::npos) << said;
  EXPECT_NE(said.find("the ledger service failed to start"), std::string::npos) << said;
  EXPECT_NE(said.find("no-such-profile"), std::string::npos) << said;
  EXPECT_NE(said.find("exiting with status 2"), std::string::npos) << said;
}

// SIGTERM while start-up waits for an unreachable cluster: exit 0 within seconds, not after the
// start-up calls' timeouts (minutes).
TEST(ServeTest, StopsPromptlyOnSigtermDuringStartUp) {
  const std::string state = ::testing::TempDir() + "/serve_test_unreachable";
  std::filesystem::remove_all(state);
  const int port = claimgate::testing::FreePort();
  Child serve;
  SpawnClaimgate({"serve", "--http-address", absl::StrCat("127.0.0.1:", port),
                  "--bootstrap-servers", "127.0.0.1:1", "--state-dir", state},
                 &serve);
  absl::SleepFor(absl::Seconds(2));
  // Alive without Kafka, and not ready.
  httplib::Client http("127.0.0.1", port);
  auto live = http.Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto ready = http.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  const absl::Time t0 = absl::Now();
  EXPECT_EQ(serve.Terminate(), 0);
  const absl::Duration took = absl::Now() - t0;
  std::cout << "exit " << absl::FormatDuration(took) << " after SIGTERM\n";
  EXPECT_LT(took, absl::Seconds(20));
}

// Item 8 of issue 12: the `http:` section: the token file, TLS, the limits; a bad value names its
// key.
TEST(ServeConfigTest, ReadsHttpSection) {
  const std::string path = ::testing::TempDir() + "/serve_config_http.yaml";
  std::ofstream(path) << R"(
http:
  token_file: /run/secrets/claimgate-http/token
  tls_cert_file: /etc/tls/tls.crt
  tls_key_file: /etc/tls/tls.key
  client_ca_file: /etc/tls/ca.crt
  max_connections: 64
  workers: 2
  idle_timeout_seconds: 3
  read_timeout_seconds: 7
  max_header_bytes: 8192
  status_rate_per_second: 2.5
  status_burst: 10
)";
  ServeOptions o;
  ASSERT_TRUE(LoadServeConfig(path, &o).ok());
  EXPECT_EQ(o.http_token_file, "/run/secrets/claimgate-http/token");
  EXPECT_EQ(o.http.tls.cert_file, "/etc/tls/tls.crt");
  EXPECT_EQ(o.http.tls.key_file, "/etc/tls/tls.key");
  EXPECT_EQ(o.http.tls.client_ca_file, "/etc/tls/ca.crt");
  EXPECT_EQ(o.http.limits.max_connections, 64);
  EXPECT_EQ(o.http.limits.workers, 2);
  EXPECT_EQ(o.http.limits.idle_timeout, absl::Seconds(3));
  EXPECT_EQ(o.http.limits.read_timeout, absl::Seconds(7));
  EXPECT_EQ(o.http.limits.write_timeout, absl::Seconds(10));  // the default
  EXPECT_EQ(o.http.limits.max_header_bytes, 8192);
  EXPECT_EQ(o.http.status_rate_per_second, 2.5);
  EXPECT_EQ(o.http.status_burst, 10);
  EXPECT_TRUE(o.http_token.empty());

  std::ofstream(path) << "http: {token: s3cret}\n";
  ServeOptions t;
  ASSERT_TRUE(LoadServeConfig(path, &t).ok());
  EXPECT_EQ(t.http_token, "s3cret");
  EXPECT_EQ(t.http_token_source, "http.token");

  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"http: {max_connections: 0}", "http.max_connections"},
           {"http: {idle_timeout_seconds: -1}", "http.idle_timeout_seconds"},
           {"http: {max_header_bytes: 100}", "http.max_header_bytes"},
           {"http: {status_burst: lots}", "status_burst"},
           {"http: {tokenfile: x}", "http.tokenfile"}}) {
    std::ofstream(path) << text << "\n";
    ServeOptions bad;
    const absl::Status s = LoadServeConfig(path, &bad);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << text;
    EXPECT_NE(s.message().find(key), std::string::npos) << text << ": " << s;
  }
}

// `claimgate serve --http-token-file`: the status query needs that token (the gate has not started
// here, so an authorized request gets 503, an unauthorized one 401); an empty token file stops
// the start with exit 2 and a message naming it.
TEST(ServeTest, StatusQueryTokenFromFile) {
  const std::string dir = ::testing::TempDir() + "/serve_test_token";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/token") << "file-token-0123456789\n";
  std::ofstream(dir + "/empty") << "\n";
  const int port = claimgate::testing::FreePort();
  Child serve;
  SpawnClaimgate({"serve", "--http-address", absl::StrCat("127.0.0.1:", port),
                  "--bootstrap-servers", "127.0.0.1:1", "--state-dir", dir + "/state",
                  "--http-token-file", dir + "/token"},
                 &serve);
  httplib::Client http("127.0.0.1", port);
  bool live = false;
  for (absl::Time until = absl::Now() + absl::Seconds(10); !live && absl::Now() < until;) {
    absl::SleepFor(absl::Milliseconds(100));
    live = static_cast<bool>(http.Get("/livez"));
  }
  ASSERT_TRUE(live);
  EXPECT_EQ(http.Get("/v1/persons/P1/status")->status, 401);
  EXPECT_EQ(http.Get("/v1/persons/P1/status",
                     {{"Authorization", "Bearer file-token-0123456789"}})->status,
            503);
  EXPECT_EQ(serve.Terminate(), 0);

  Child refused;
  SpawnClaimgate({"serve", "--http-address", "127.0.0.1:0", "--bootstrap-servers", "127.0.0.1:1",
                  "--state-dir", dir + "/state", "--http-token-file", dir + "/empty"},
                 &refused);
  int status = 0;
  waitpid(refused.pid, &status, 0);
  refused.pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
}

// Issue 15 item 1: each role exports the series of the services it runs, nothing else (a gate
// exporting claimgate_ready{service="ledger"} 0 fired LedgerNotReady wherever a gate ran). Item 3:
// every known label value of a counter is there at 0 before anything happened, so that increase()
// sees the first event.
TEST(ServeTest, EachRoleExportsOnlyItsOwnSeriesEachFromZero) {
  Child broker;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&broker);
  ASSERT_FALSE(bootstrap.empty());
  auto scrape = [&](const std::string& role) {
    const std::string state = ::testing::TempDir() + "/serve_test_role_" + role;
    std::filesystem::remove_all(state);
    const int port = claimgate::testing::FreePort();
    Child serve;
    SpawnClaimgate({"serve", "--role", role, "--bootstrap-servers", bootstrap, "--state-dir", state,
                    "--no-create-topics", "--http-address", absl::StrCat("127.0.0.1:", port)},
                   &serve);
    httplib::Client client("127.0.0.1", port);
    std::string body;
    for (absl::Time until = absl::Now() + absl::Seconds(30); body.empty() && absl::Now() < until;) {
      if (auto r = client.Get("/metrics"); r && r->status == 200) {
        body = r->body;
      } else {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    EXPECT_EQ(serve.Terminate(), 0) << role;
    return body;
  };
  const std::string ledger = scrape("ledger");
  EXPECT_NE(ledger.find("claimgate_ready{service=\"ledger\"}"), std::string::npos) << ledger;
  EXPECT_NE(ledger.find("claimgate_ledger_position"), std::string::npos);
  for (const char* other : {"service=\"gate\"", "claimgate_decisions_total",
                            "claimgate_store_records", "claimgate_status_feed_staleness_seconds",
                            "claimgate_hot_tier_bytes"}) {
    EXPECT_EQ(ledger.find(other), std::string::npos) << other << " in the ledger's\n" << ledger;
  }
  for (const char* zero : {"claimgate_ledger_refusals_total{reason=\"DUPLICATE_EVENT\"} 0\n",
                           "claimgate_ledger_refusals_total{reason=\"MALFORMED\"} 0\n",
                           "claimgate_ledger_events_applied_total{type=\"score_assessed\"} 0\n"}) {
    EXPECT_NE(ledger.find(zero), std::string::npos) << zero << " not in\n" << ledger;
  }
  EXPECT_EQ(ledger.find("type=\"claim\""), std::string::npos);  // claims are not ledger events
  const std::string gate = scrape("gate");
  for (const char* zero : {"claimgate_decisions_total{outcome=\"REJECT\"} 0\n",
                           "claimgate_decision_reasons_total{reason=\"STATUS_STALE\"} 0\n",
                           "claimgate_dead_letters_total{reason=\"MALFORMED\"} 0\n",
                           "claimgate_dead_letters_total{reason=\"OUTPUT_TOO_LARGE\"} 0\n"}) {
    EXPECT_NE(gate.find(zero), std::string::npos) << zero << " not in\n" << gate;
  }
  EXPECT_NE(gate.find("claimgate_ready{service=\"gate\"}"), std::string::npos) << gate;
  EXPECT_NE(gate.find("claimgate_status_feed_staleness_seconds"), std::string::npos);
  for (const char* other : {"service=\"ledger\"", "claimgate_ledger_"}) {
    EXPECT_EQ(gate.find(other), std::string::npos) << other << " in the gate's\n" << gate;
  }
  EXPECT_NE(gate.find("claimgate_code_requests_total{kind=\"CHECK\"} 0\n"), std::string::npos);
  // A code owner alone (`--role codes`, which the command line refused until issue 12's review).
  const std::string codes = scrape("codes");
  for (const char* zero : {"claimgate_code_requests_total{kind=\"CHECK\"} 0\n",
                           "claimgate_code_duplicates_found_total 0\n"}) {
    EXPECT_NE(codes.find(zero), std::string::npos) << zero << " not in\n" << codes;
  }
  for (const char* other : {"service=\"ledger\"", "service=\"gate\"", "claimgate_ledger_",
                            "claimgate_decisions_total"}) {
    EXPECT_EQ(codes.find(other), std::string::npos) << other << " in the owner's\n" << codes;
  }
}

// The first stop signal asks to finish; a second one half a second or more later ends the process
// at once (128 + the signal), whatever it is waiting for.
TEST(StopOnSignalDeathTest, ASecondSignalEndsTheProcessAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        StopOnSignal signals;
        kill(getpid(), SIGINT);
        while (!signals.stop().load()) absl::SleepFor(absl::Milliseconds(10));
        absl::SleepFor(absl::Milliseconds(600));
        kill(getpid(), SIGINT);
        absl::SleepFor(absl::Seconds(30));  // a start-up call that does not look at `stop`
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGINT), "second signal 2, stopping now");
}

// Two signals within half a second are one request (GNU timeout signals the process, then its
// group): the process finishes as after one.
TEST(StopOnSignalDeathTest, TwoSignalsAtOnceAreOneRequest) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        StopOnSignal signals;
        kill(getpid(), SIGTERM);
        kill(getpid(), SIGTERM);
        while (!signals.stop().load()) absl::SleepFor(absl::Milliseconds(10));
        absl::SleepFor(absl::Seconds(1));
        std::_Exit(7);  // finished on its own
      },
      ::testing::ExitedWithCode(7), "");
}

}  // namespace
}  // namespace claimgate::gate
