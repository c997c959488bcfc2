// A real Prometheus server (Debian's `prometheus`, started here on a free loopback port and stopped
// after) scrapes a running `claimgate serve`; a PromQL query over Prometheus's HTTP API returns the
// decision counters with the values the test caused. Skipped where prometheus is not installed.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ledger/kafka/kafka.h"
#include "tests/testing/kafka_testing.h"

namespace claimgate {
namespace {

using claimgate::testing::Child;
using claimgate::testing::FreePort;
using claimgate::testing::ReadTopic;
using claimgate::testing::SpawnClaimgate;
using claimgate::testing::SpawnProgram;

TEST(PrometheusTest, ScrapesTheGateAndAnswersPromQlWithTheDecisionCounts) {
  const std::string prometheus = "/usr/bin/prometheus";
  if (!std::filesystem::exists(prometheus)) GTEST_SKIP() << "prometheus is not installed";

  Child broker;
  const std::string bootstrap = claimgate::testing::SpawnMockBroker(&broker);
  ASSERT_FALSE(bootstrap.empty());
  const kafka::ClientConfig config{bootstrap, {}};
  std::vector<std::string> ledger, claims;
  claimgate::testing::SpecExample(&ledger, &claims);
  auto producer = std::move(*kafka::MakeProducer(config, ""));
  auto send = [&](const std::string& topic, const std::string& v) {
    claimgate::testing::Send(producer.get(), topic, "", v);
  };
  for (const auto& l : ledger) send("ledger-events", l);
  producer->flush(10000);

  const std::string dir = ::testing::TempDir() + "/prometheus_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const int gate_port = FreePort();
  Child serve;
  SpawnClaimgate({"serve", "--bootstrap-servers", bootstrap, "--input-format", "json",
                  "--state-dir", dir + "/state", "--no-create-topics", "--http-address",
                  absl::StrCat("127.0.0.1:", gate_port)},
                 &serve);
  absl::SleepFor(absl::Seconds(3));  // the ledger publishes before the first claim
  for (const auto& l : claims) send("claims", l);
  producer->flush(10000);
  for (absl::Time deadline = absl::Now() + absl::Seconds(60);
       ReadTopic(config, "claim-decisions", 3).size() < claims.size() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  ASSERT_EQ(ReadTopic(config, "claim-decisions", 3).size(), claims.size());

  const int prom_port = FreePort();
  std::ofstream(dir + "/prometheus.yml") << "global:\n  scrape_interval: 1s\n"
                                            "scrape_configs:\n  - job_name: claimgate\n"
                                            "    static_configs:\n      - targets: ['127.0.0.1:"
                                         << gate_port << "']\n";
  Child server;
  SpawnProgram(prometheus,
               {"--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/tsdb",
                absl::StrCat("--web.listen-address=127.0.0.1:", prom_port)},
               &server);
  httplib::Client api("127.0.0.1", prom_port);
  std::string body;
  bool found = false;
  for (absl::Time deadline = absl::Now() + absl::Seconds(60); !found && absl::Now() < deadline;) {
    absl::SleepFor(absl::Seconds(1));
    auto r = api.Get("/api/v1/query?query=sum(claimgate_decisions_total)");
    if (!r || r->status != 200) continue;
    body = r->body;
    found = body.find(absl::StrCat("\"", claims.size(), "\"]")) != std::string::npos;
  }
  EXPECT_TRUE(found) << body;  // {"status":"success","data":{"result":[{"value":[t,"3"]}]}}
  httplib::Client gate("127.0.0.1", gate_port);  // caught up: ready (serve_test sees 503 before)
  auto ready = gate.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto reasons = api.Get("/api/v1/query?query=claimgate_ready");
  ASSERT_TRUE(reasons);
  EXPECT_NE(reasons->body.find("\"service\":\"gate\""), std::string::npos) << reasons->body;
  EXPECT_EQ(server.Terminate(), 0);
  EXPECT_EQ(serve.Terminate(), 0);
  std::cout << "PromQL sum(claimgate_decisions_total): " << body << "\n";
}

}  // namespace
}  // namespace claimgate
