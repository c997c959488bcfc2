// The operations endpoint: /livez always answers, /readyz follows the readiness flag (503 until
// ready), /metrics serves the registry in Prometheus text format (checked with `promtool check
// metrics` where promtool exists), and a bad address is refused.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_server.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ledger/service/ledger_metrics.h"

namespace claimgate::gate {
namespace {

TEST(HttpServerTest, LivenessReadinessAndMetrics) {
  prometheus::Registry registry;
  ledger::RegisterBuildInfo(registry, "test");
  GateMetrics metrics(registry);
  ledger::LedgerMetrics ledger_metrics(registry);
  metrics.decisions.Add({{"outcome", "REJECT"}}).Increment(3);
  metrics.decision_duration.Observe(2e-6);
  std::atomic<bool> ready = false;
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());

  auto status_of = [&](const char* path) {
    auto r = client.Get(path);
    return r ? r->status : -1;  // -1: no answer
  };
  EXPECT_EQ(status_of("/livez"), 200);
  EXPECT_EQ(status_of("/readyz"), 503);
  ready = true;
  EXPECT_EQ(status_of("/readyz"), 200);
  EXPECT_EQ(status_of("/nothing-here"), 404);

  auto metrics_page = client.Get("/metrics");
  ASSERT_TRUE(metrics_page);
  EXPECT_EQ(metrics_page->status, 200);
  EXPECT_NE(metrics_page->get_header_value("Content-Type").find("text/plain"), std::string::npos);
  EXPECT_NE(metrics_page->body.find("claimgate_decisions_total{outcome=\"REJECT\"} 3\n"),
            std::string::npos);
  EXPECT_NE(metrics_page->body.find("claimgate_decision_duration_seconds_count 1\n"),
            std::string::npos);

  // Prometheus's own linter on the exposition.
  if (std::system("command -v promtool > /dev/null 2>&1") == 0) {
    const std::string path = ::testing::TempDir() + "/http_test_metrics.txt";
    std::ofstream(path) << metrics_page->body;
    EXPECT_EQ(std::system(absl::StrCat("promtool check metrics < ", path).c_str()), 0);
  } else {
    std::cout << "promtool not installed: exposition lint skipped\n";
  }
}

TEST(HttpServerTest, RefusesBadAddresses) {
  prometheus::Registry registry;
  std::atomic<bool> ready = false;
  EXPECT_TRUE(absl::IsInvalidArgument(HttpServer::Start("no-port", &registry, &ready).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(HttpServer::Start("127.0.0.1:70000", &registry, &ready).status()));
  auto first = HttpServer::Start("127.0.0.1:0", &registry, &ready);
  ASSERT_TRUE(first.ok());
  const auto taken =
      HttpServer::Start(absl::StrCat("127.0.0.1:", (*first)->port()), &registry, &ready);
  EXPECT_TRUE(absl::IsUnavailable(taken.status())) << taken.status();
}

}  // namespace
}  // namespace claimgate::gate
