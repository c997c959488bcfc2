// The operations endpoint: /livez always answers, /readyz follows the readiness flag (503 until
// ready), /metrics serves the registry in Prometheus text format (checked with `promtool check
// metrics` where promtool exists), and a bad address is refused.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_server.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ledger/ledger.h"
#include "ledger/profile.h"
#include "ledger/service/ledger_metrics.h"
#include "tests/testing/events.h"

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

// GET /v1/persons/{id}/status?at=: the published status as of `at`, a bearer token when one is
// set, 4xx with a JSON error for bad ids, bad times and unknown persons.
TEST(HttpServerTest, StatusQueryAnswersAsOfWithTokenAndErrors) {
  auto profiles = std::move(*ledger::ProfileSet::Builtin());
  auto ledger = std::move(*ledger::Ledger::Create(profiles.get(), "national"));
  testing::EventBuilder b;
  ledger->Apply(b.Institution("H1", "national"));
  ledger->Apply(b.Register("P1", "H1", "2025-01-02"));
  ledger->Apply(b.Commit("P1", "H1", "2025-01-03"));
  ledger->Apply(b.Score("A1", "P1", "H1", 9, "2025-03-01"));  // 9 points: suspended
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  StatusEndpoint endpoint;
  endpoint.token = "s3cret";
  endpoint.now = [] { return testing::T("2025-02-01"); };
  endpoint.read = [&](absl::string_view id) -> absl::StatusOr<v1::PersonStatus> {
    const v1::PersonStatus* p = ledger->FindPerson(id);
    if (p == nullptr) return absl::NotFoundError("no person");
    return *p;
  };
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, endpoint);
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  const httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};

  auto no_token = client.Get("/v1/persons/P1/status");
  ASSERT_TRUE(no_token);
  EXPECT_EQ(no_token->status, 401);
  EXPECT_EQ(no_token->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(client.Get("/v1/persons/P1/status", {{"Authorization", "Bearer wrong"}})->status, 401);

  auto before = client.Get("/v1/persons/P1/status", auth);  // `now`: 2025-02-01
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  EXPECT_EQ(before->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(before->body.find("\"state\":\"NORMAL\""), std::string::npos) << before->body;
  auto after = client.Get("/v1/persons/P1/status?at=2025-06-01T00:00:00%2B08:00", auth);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_NE(after->body.find("\"state\":\"SUSPENDED\""), std::string::npos) << after->body;
  EXPECT_NE(after->body.find("\"year_points\":9"), std::string::npos) << after->body;
  EXPECT_NE(after->body.find("\"institution_id\":\"H1\""), std::string::npos) << after->body;

  for (const auto& [path, code] : std::vector<std::pair<std::string, int>>{
           {"/v1/persons/P1/status?at=yesterday", 400},
           {"/v1/persons/bad%22id/status", 400},
           {"/v1/persons/" + std::string(65, 'x') + "/status", 400},
           {"/v1/persons/NOBODY/status", 404}}) {
    auto r = client.Get(path, auth);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, code) << path;
    EXPECT_EQ(r->body.rfind("{\"error\":", 0), 0u) << path << " " << r->body;
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
