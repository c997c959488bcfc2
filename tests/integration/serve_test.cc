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
ledger:
  transactional_id: ledger-prod
)";
  ServeOptions o;
  ASSERT_TRUE(LoadServeConfig(path, &o).ok());
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

}  // namespace
}  // namespace claimgate::gate
