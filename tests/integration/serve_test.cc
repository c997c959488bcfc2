// `claimgate serve` end to end as scripts run it: against `claimgate mock-broker`, JSON claims in,
// decisions out, SIGTERM for a graceful stop (exit 0). And the configuration file.
#include "gate/service/serve.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ledger/kafka/kafka.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate::gate {
namespace {

using claimgate::testing::Child;
using claimgate::testing::ReadTopic;
using claimgate::testing::SpawnClaimgate;

TEST(ServeTest, DecidesFromMockBrokerAndStopsGracefullyOnSigterm) {
  Child broker;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&broker);
  ASSERT_FALSE(bootstrap.empty());
  const kafka::ClientConfig config{bootstrap, {}};

  std::vector<std::string> ledger, claims;
  claimgate::testing::SpecExample(&ledger, &claims);
  auto producer = kafka::MakeProducer(config, "");
  ASSERT_TRUE(producer.ok());
  auto send = [&](const std::string& topic, const std::string& v) {
    claimgate::testing::Send(producer->get(), topic, "", v);
  };
  for (const auto& l : ledger) send("ledger-events", l);
  (*producer)->flush(10000);

  const std::string state = ::testing::TempDir() + "/serve_test_state";
  std::filesystem::remove_all(state);
  Child serve;
  SpawnClaimgate({"serve", "--http-address", "127.0.0.1:0", "--bootstrap-servers", bootstrap,
                  "--input-format", "json", "--state-dir", state, "--no-create-topics"},
                 &serve);
  // The ledger publishes before the gate reads its first claim: give the status records a head
  // start.
  absl::SleepFor(absl::Seconds(3));
  for (const auto& l : claims) send("claims", l);
  (*producer)->flush(10000);

  int decided = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60);
       decided < 3 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(500));
    decided = static_cast<int>(ReadTopic(config, "claim-decisions", 3).size());
  }
  EXPECT_EQ(decided, 3);
  EXPECT_EQ(ReadTopic(config, "claim-audit", 3).size(), 3u);
  EXPECT_EQ(serve.Terminate(), 0);
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
ledger:
  transactional_id: ledger-prod
)";
  ServeOptions o;
  EXPECT_EQ(o.gate.max_claim_bytes, 1048576);  // 1 MiB unless configured
  ASSERT_TRUE(LoadServeConfig(path, &o).ok());
  EXPECT_EQ(o.gate.max_claim_bytes, 200000);
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
  Child serve;
  // No broker is needed: the ledger service cannot start with an unknown profile.
  claimgate::testing::SpawnProgram(
      "/bin/sh",
      {"-c", absl::StrCat("exec '", CLAIMGATE_BINARY_DIR, "/gate/claimgate' serve --role ledger",
                          " --bootstrap-servers 127.0.0.1:1 --no-create-topics --http-address ''",
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

}  // namespace
}  // namespace claimgate::gate
