// The operations endpoint: /livez always answers, /readyz follows the readiness flag (503 until
// ready), /metrics serves the registry in Prometheus text format (checked with `promtool check
// metrics` where promtool exists), and a bad address is refused.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gate/json/json_writer.h"
#include "gate/service/gate_metrics.h"
#include "gate/service/http_server.h"
#include "gate/service/status_api.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ledger/calendar.h"
#include "ledger/ledger.h"
#include "ledger/profile.h"
#include "ledger/service/ledger_metrics.h"
#include "tests/testing/events.h"
#include "tests/testing/kafka_testing.h"

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
  // Issue 15 item 9: the documented query as typed (as curl sends it, not URL-encoded), whose '+'
  // arrives as a space, means the same.
  client.set_url_encode(false);
  auto typed = client.Get("/v1/persons/P1/status?at=2025-06-01T00:00:00+08:00", auth);
  client.set_url_encode(true);
  ASSERT_TRUE(typed);
  EXPECT_EQ(typed->status, 200);
  EXPECT_EQ(typed->body, after->body);
  // Item 9: the answer is in UTC, and `at` in UTC means the same.
  EXPECT_NE(after->body.find(R"("at":"2025-05-31T16:00:00Z")"), std::string::npos) << after->body;
  auto utc = client.Get("/v1/persons/P1/status?at=2025-05-31T16:00:00Z", auth);
  ASSERT_TRUE(utc);
  EXPECT_EQ(utc->body, after->body);

  for (const auto& [path, code] : std::vector<std::pair<std::string, int>>{
           {"/v1/persons/P1/status?at=yesterday", 400},
           {"/v1/persons/bad%22id/status", 400},
           {"/v1/persons/" + std::string(65, 'x') + "/status", 400},
           {"/v1/persons/NOBODY/status", 404}}) {
    auto r = client.Get(path, auth);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, code) << path;
    EXPECT_EQ(r->body.rfind("{\"error\":", 0), 0u) << path << " " << r->body;
    EXPECT_TRUE(Json::accept(r->body)) << path << " " << r->body;
  }
}

// A ledger with one suspended physician, P1, and the status endpoint reading it.
struct StatusFixture {
  std::unique_ptr<ledger::ProfileSet> profiles = std::move(*ledger::ProfileSet::Builtin());
  std::unique_ptr<ledger::Ledger> ledger =
      std::move(*ledger::Ledger::Create(profiles.get(), "national"));
  std::atomic<int> reads = 0;  // lookups the endpoint made

  StatusFixture() {
    testing::EventBuilder b;
    ledger->Apply(b.Institution("H1", "national"));
    ledger->Apply(b.Register("P1", "H1", "2025-01-02"));
    ledger->Apply(b.Commit("P1", "H1", "2025-01-03"));
    ledger->Apply(b.Score("A1", "P1", "H1", 9, "2025-03-01"));
  }
  StatusEndpoint Endpoint(const std::string& token) {
    StatusEndpoint endpoint;
    endpoint.token = token;
    endpoint.now = [] { return testing::T("2025-06-01"); };
    endpoint.read = [this](absl::string_view id) -> absl::StatusOr<v1::PersonStatus> {
      ++reads;
      const v1::PersonStatus* p = ledger->FindPerson(id);
      if (p == nullptr) return absl::NotFoundError("no person");
      return *p;
    };
    return endpoint;
  }
};

// The status query's answer, byte for byte; its times in UTC like every other output (issue 15
// item 9), whatever offset `at` was given in.
TEST(StatusApiTest, PersonStatusJsonBytes) {
  StatusFixture f;
  EXPECT_EQ(PersonStatusJson(*f.ledger->FindPerson("P1"),
                             *ledger::ParseRfc3339("2025-06-01T00:00:00+08:00")),
            R"({"person_id":"P1","at":"2025-05-31T16:00:00Z","state":"SUSPENDED",)"
            R"("since":"2025-02-28T16:00:00Z","until":"2025-06-30T16:00:00Z",)"
            R"("year":2025,"year_points":9,"registrations":[{"institution_id":"H1",)"
            R"("role":"PHYSICIAN","standing":"SUSPENDED",)"
            R"("registered_since":"2025-01-01T16:00:00Z","registered_until":null}],)"
            R"("ledger_position":4})");
}

// Issue 15 item 11: an institution id that is not UTF-8 (a ledger event read from Protobuf bytes)
// comes out as U+FFFD, and the answer parses as JSON.
TEST(StatusApiTest, InvalidUtf8NeverReachesTheAnswer) {
  StatusFixture f;
  v1::PersonStatus person = *f.ledger->FindPerson("P1");
  person.add_registrations()->set_institution_id("H\xff");
  const std::string body = PersonStatusJson(person, testing::T("2025-06-01"));
  EXPECT_TRUE(Json::accept(body)) << body;
  EXPECT_EQ(Json::parse(body)["registrations"][1]["institution_id"], "H\xEF\xBF\xBD");
}

// Item 8 of issue 12: without a credential the status query is off (a person's sanction status is
// personal data), with a message saying so, and nothing is looked up.
TEST(HttpStatusAuthTest, OffWithoutCredential) {
  StatusFixture f;
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, f.Endpoint(""));
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  auto r = client.Get("/v1/persons/P1/status");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("off"), std::string::npos) << r->body;
  EXPECT_EQ(f.reads.load(), 0);
  EXPECT_EQ(client.Get("/livez")->status, 200);  // the probes stay open
}

// 401 comes before the id, the time or the person is looked at: the answer to an unauthenticated
// client is the same whether the person exists, the id is malformed or the time is bad.
TEST(HttpStatusAuthTest, UnauthorizedBeforeAnyValidationOrLookup) {
  StatusFixture f;
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, f.Endpoint("s3cret-token"));
  ASSERT_TRUE(server.ok()) << server.status();
  httplib::Client client("127.0.0.1", (*server)->port());
  for (const std::string path :
       {"/v1/persons/P1/status", "/v1/persons/NOBODY/status", "/v1/persons/bad%22id/status",
        "/v1/persons/P1/status?at=yesterday"}) {
    for (const httplib::Headers& headers :
         std::vector<httplib::Headers>{{},
                                       {{"Authorization", "Bearer s3cret-toke"}},
                                       {{"Authorization", "Bearer s3cret-token2"}},
                                       {{"Authorization", "Basic s3cret-token"}},
                                       {{"Authorization", "s3cret-token"}}}) {
      auto r = client.Get(path, headers);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 401) << path;
      EXPECT_EQ(r->body, "{\"error\":\"a bearer token is required\"}") << path;
    }
  }
  EXPECT_EQ(f.reads.load(), 0);
}

// A raw GET from a chosen loopback source address (127.0.0.2 is another client); the status code
// (0: no answer).
int RawGetFrom(const char* source, int port, const std::string& path, const std::string& token) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{}, to{};
  from.sin_family = to.sin_family = AF_INET;
  inet_pton(AF_INET, source, &from.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  to.sin_port = htons(port);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  int code = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) == 0 &&
      connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0) {
    const std::string request = absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: x\r\n",
                                             "Authorization: Bearer ", token,
                                             "\r\nConnection: close\r\n\r\n");
    char answer[64] = {0};
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size()) &&
        recv(fd, answer, sizeof(answer) - 1, MSG_WAITALL) >= 12) {
      code = std::atoi(answer + 9);  // "HTTP/1.1 200"
    }
  }
  close(fd);
  return code;
}

// A per-client token bucket: one address that asks too fast gets 429 with Retry-After (also for
// wrong tokens: guessing is throttled), another address is not affected.
TEST(HttpStatusAuthTest, RateLimitedPerClientAddress) {
  StatusFixture f;
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, f.Endpoint("s3cret-token"));
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::map<int, int> codes;
  for (int i = 0; i < 100; ++i)
    ++codes[RawGetFrom("127.0.0.1", port, "/v1/persons/P1/status", i % 2 ? "s3cret-token" : "x")];
  EXPECT_GT(codes[429], 0);
  EXPECT_GT(codes[200], 0);
  EXPECT_EQ(codes[200] + codes[401] + codes[429], 100);
  EXPECT_EQ(RawGetFrom("127.0.0.2", port, "/v1/persons/P1/status", "s3cret-token"), 200);
  EXPECT_EQ(RawGetFrom("127.0.0.1", port, "/livez", ""), 200);  // probes are not limited
  httplib::Client client("127.0.0.1", port);
  auto limited = client.Get("/v1/persons/P1/status", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_FALSE(limited->get_header_value("Retry-After").empty());
}

// A raw connection to the server that has sent `bytes` and is left open.
int OpenRaw(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  to.sin_port = htons(port);
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) return -1;
  if (!bytes.empty()) send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  return fd;
}

// The answer's status code on a raw connection (0: closed without one, -1: nothing in 5 s).
int AnswerCode(int fd) {
  char answer[64] = {0};
  const ssize_t n = recv(fd, answer, sizeof(answer) - 1, 0);
  if (n < 0) return -1;
  return n >= 12 ? std::atoi(answer + 9) : 0;
}

// Item 7: the number of connections is bounded; at the bound the oldest unfinished request makes
// room, so connections held open cannot lock a probe out.
TEST(HttpLimitsTest, ConnectionBoundEvictsTheOldestUnfinishedRequest) {
  prometheus::Registry registry;
  HttpMetrics metrics(registry);
  std::atomic<bool> ready = true;
  HttpOptions options;
  options.metrics = &metrics;
  options.limits.max_connections = 4;
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, {}, options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(OpenRaw(port, "GET /livez HTTP/1.1\r\n"));
    absl::SleepFor(absl::Milliseconds(50));  // distinct accept times: the first is the oldest
  }
  const int probe = OpenRaw(port, "GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(AnswerCode(probe), 200);
  EXPECT_EQ(AnswerCode(held[0]), 503);  // evicted
  EXPECT_EQ(metrics.dropped.Add({{"reason", "evicted"}}).Value(), 1);
  for (int fd : held) close(fd);
  close(probe);
}

// Item 7: a request's size is bounded: its head (431), its number of headers (431) and its body
// (413, before any of it is read).
TEST(HttpLimitsTest, RefusesOversizedRequests) {
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string many_headers = "GET /livez HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i) absl::StrAppend(&many_headers, "X-", i, ": y\r\n");
  for (const auto& [request, code] : std::vector<std::pair<std::string, int>>{
           {"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n", 200},
           {many_headers + "\r\n", 431},
           {"GET /livez HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", 431},
           {"GET /livez HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 413},
           {"POST /livez HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            413},
           {"GET /livez HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 200}}) {
    const int fd = OpenRaw((*server)->port(), request);
    EXPECT_EQ(AnswerCode(fd), code) << request.substr(0, 60);
    close(fd);
  }
}

// Item 8: every status request leaves one access line (method, path template, code, client
// address, latency) without the person id; the startup line says whether the query is on and why.
TEST(HttpStatusAuthTest, AccessLogWithoutPersonIdAndStartupLine) {
  StatusFixture f;
  prometheus::Registry registry;
  HttpMetrics metrics(registry);
  std::atomic<bool> ready = true;
  std::ostringstream log;
  HttpOptions options;
  options.log = &log;
  options.metrics = &metrics;
  auto server =
      HttpServer::Start("127.0.0.1:0", &registry, &ready, f.Endpoint("s3cret-token"), options);
  ASSERT_TRUE(server.ok()) << server.status();
  {
    httplib::Client client("127.0.0.1", (*server)->port());
    EXPECT_EQ(client.Get("/v1/persons/P1/status")->status, 401);
    EXPECT_EQ(
        client.Get("/v1/persons/P1/status", {{"Authorization", "Bearer s3cret-token"}})->status,
        200);
    EXPECT_EQ(
        client.Get("/v1/persons/NOBODY/status", {{"Authorization", "Bearer s3cret-token"}})->status,
        404);
    EXPECT_EQ(client.Get("/livez")->status, 200);
  }
  server->reset();  // joins the threads that write the log
  const std::string text = log.str();
  EXPECT_NE(text.find("claimgate: GET /v1/persons/{id}/status is on: a bearer token is required\n"),
            std::string::npos)
      << text;
  for (const int code : {401, 200, 404}) {
    const std::string line =
        absl::StrCat("claimgate http: GET /v1/persons/{id}/status ", code, " client=127.0.0.1 ");
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4) << text;  // startup + 3, no /livez
  EXPECT_EQ(text.find("P1"), std::string::npos) << text;
  EXPECT_EQ(text.find("NOBODY"), std::string::npos) << text;
  EXPECT_EQ(metrics.status_requests.Add({{"code", "401"}}).Value(), 1);
  EXPECT_EQ(metrics.status_requests.Add({{"code", "200"}}).Value(), 1);

  std::ostringstream off_log;
  options.log = &off_log;
  auto off = HttpServer::Start("127.0.0.1:0", &registry, &ready, f.Endpoint(""), options);
  ASSERT_TRUE(off.ok());
  EXPECT_NE(off_log.str().find("status is off: no credential is configured"), std::string::npos)
      << off_log.str();
}

TEST(BearerTokenTest, MatchesOnlyTheWholeTokenAfterTheScheme) {
  const BearerToken token("s3cret-token");
  EXPECT_TRUE(token.Matches("Bearer s3cret-token"));
  EXPECT_TRUE(token.Matches("bearer s3cret-token"));  // the scheme is case-insensitive
  for (const char* wrong : {"", "Bearer", "Bearer ", "Bearer s3cret-toke", "Bearer s3cret-token ",
                            "Bearer s3cret-tokenX", "Basic s3cret-token", "s3cret-token",
                            "Bearer  s3cret-token", "Bearer S3CRET-TOKEN"}) {
    EXPECT_FALSE(token.Matches(wrong)) << wrong;
  }
}

TEST(TokenFileTest, ReadsOneLineAndRefusesEmptyOrMissingFiles) {
  const std::string dir = ::testing::TempDir() + "/token_file_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/good") << "s3cret-token\n";
  std::ofstream(dir + "/empty") << " \n";
  std::ofstream(dir + "/two") << "a\nb\n";
  EXPECT_EQ(ReadTokenFile(dir + "/good").value_or(""), "s3cret-token");
  for (const char* bad : {"/empty", "/two", "/missing"}) {
    const auto t = ReadTokenFile(dir + bad);
    EXPECT_TRUE(absl::IsInvalidArgument(t.status())) << bad;
    EXPECT_NE(t.status().message().find(dir + bad), std::string::npos) << t.status();
  }
}

// The table of buckets stays bounded however many addresses ask; a full bucket is forgotten first.
TEST(RateLimiterTest, BoundedTablePerClientBuckets) {
  RateLimiter limiter(/*per_second=*/1, /*burst=*/2, /*max_clients=*/3);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  absl::Duration wait;
  EXPECT_TRUE(limiter.Admit("a", t0, &wait));
  EXPECT_TRUE(limiter.Admit("a", t0, &wait));
  EXPECT_FALSE(limiter.Admit("a", t0, &wait));
  EXPECT_EQ(wait, absl::Seconds(1));
  EXPECT_TRUE(limiter.Admit("a", t0 + absl::Seconds(1), &wait));  // refilled
  for (int i = 0; i < 1000; ++i) limiter.Admit(absl::StrCat("c", i), t0, &wait);
  EXPECT_EQ(limiter.clients(), 3u);
}

// Certificates for the TLS tests, made with the openssl command in a temporary directory: a CA,
// a server certificate and a client certificate it signed, and a client certificate another CA
// signed.
std::string MakeCertificates() {
  // One directory per process: ctest runs the TLS tests side by side.
  const std::string dir = absl::StrCat(::testing::TempDir(), "/http_test_tls_", getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  std::string script = absl::StrCat("cd ", dir, " && set -e && ");
  for (const char* ca : {"ca", "rogue"}) {
    absl::StrAppend(&script, "openssl req -x509 ", key, " -keyout ", ca, ".key -out ", ca,
                    ".pem -days 2 -subj /CN=", ca, " 2>/dev/null && ");
  }
  for (const auto& [name, ca] : std::vector<std::pair<std::string, std::string>>{
           {"server", "ca"}, {"client", "ca"}, {"stranger", "rogue"}}) {
    absl::StrAppend(&script, "openssl req ", key, " -keyout ", name, ".key -out ", name,
                    ".csr -subj /CN=", name, " 2>/dev/null && openssl x509 -req -in ", name,
                    ".csr -CA ", ca, ".pem -CAkey ", ca, ".key -CAcreateserial -out ", name,
                    ".pem -days 2 2>/dev/null && ");
  }
  absl::StrAppend(&script, "true");
  return std::system(script.c_str()) == 0 ? dir : "";
}

// Item 8: TLS on the listener; with client CAs the status query needs a client certificate they
// signed, while the probes and /metrics stay open to clients without one.
TEST(HttpTlsTest, ClientCertificatesGuardTheStatusQueryOnly) {
  const std::string dir = MakeCertificates();
  ASSERT_FALSE(dir.empty()) << "the openssl command failed";
  StatusFixture f;
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  std::ostringstream log;
  HttpOptions options;
  options.log = &log;
  options.tls = {dir + "/server.pem", dir + "/server.key", dir + "/ca.pem"};
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, f.Endpoint(""), options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  httplib::SSLClient anonymous("127.0.0.1", port);
  anonymous.enable_server_certificate_verification(false);
  auto live = anonymous.Get("/livez");
  ASSERT_TRUE(live) << httplib::to_string(live.error());
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(anonymous.Get("/metrics")->status, 200);
  auto refused = anonymous.Get("/v1/persons/P1/status");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(refused->body, "{\"error\":\"a client certificate is required\"}");

  httplib::SSLClient client("127.0.0.1", port, dir + "/client.pem", dir + "/client.key");
  client.set_ca_cert_path((dir + "/ca.pem").c_str());
  client.enable_server_certificate_verification(false);  // CN=server, not 127.0.0.1
  auto answered = client.Get("/v1/persons/P1/status");
  ASSERT_TRUE(answered) << httplib::to_string(answered.error());
  EXPECT_EQ(answered->status, 200);
  EXPECT_NE(answered->body.find("\"state\":\"SUSPENDED\""), std::string::npos);

  httplib::SSLClient stranger("127.0.0.1", port, dir + "/stranger.pem", dir + "/stranger.key");
  stranger.enable_server_certificate_verification(false);
  EXPECT_FALSE(stranger.Get("/v1/persons/P1/status"));  // the handshake fails

  httplib::Client plain("127.0.0.1", port);
  plain.set_read_timeout(3);
  auto cleartext = plain.Get("/livez");
  EXPECT_TRUE(!cleartext || cleartext->status != 200);
  EXPECT_NE(log.str().find("status is on: a client certificate is required"), std::string::npos)
      << log.str();
}

TEST(HttpTlsTest, RefusesUnusableTlsSettings) {
  const std::string dir = MakeCertificates();
  ASSERT_FALSE(dir.empty());
  prometheus::Registry registry;
  std::atomic<bool> ready = true;
  for (const auto& [tls, needle] : std::vector<std::pair<HttpTls, std::string>>{
           {{dir + "/server.pem", "", ""}, "go together"},
           {{dir + "/server.pem", dir + "/missing.key", ""}, "http.tls_key_file"},
           {{dir + "/server.pem", dir + "/client.key", ""}, "http.tls_key_file"},
           {{dir + "/server.pem", dir + "/server.key", dir + "/missing.pem"},
            "http.client_ca_file"},
           {{"", "", dir + "/ca.pem"}, "http.client_ca_file"}}) {
    HttpOptions options;
    options.tls = tls;
    const auto s = HttpServer::Start("127.0.0.1:0", &registry, &ready, {}, options);
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
    EXPECT_NE(s.status().message().find(needle), std::string::npos) << s.status();
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


// What a second process abusing the endpoint did, and how /livez fared meanwhile.
struct AbuseRun {
  std::string report;  // the abuser's line: MODE opened=A closed_by_server=B sent_bytes=C
  int probes = 0;      // /livez asked while the abuse ran
  int unanswered = 0;  // of those, not answered 200 within 3 seconds
  int64_t rss_growth_bytes = 0;  // largest resident size seen, less the size before
};

int64_t ResidentBytes() {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// Runs tests/integration/http_abuse.py (MODE, COUNT, SECONDS) against `port` and asks /livez
// every 250 ms while it runs.
AbuseRun Abuse(int port, const std::string& mode, int64_t count, int seconds) {
  // The in-process server's threads and buffers exist before the baseline is taken.
  httplib::Client("127.0.0.1", port).Get("/livez");
  AbuseRun run;
  const int64_t rss_before = ResidentBytes();
  claimgate::testing::Child abuser;
  claimgate::testing::SpawnProgram(
      "/usr/bin/env",
      {"python3", std::string(CLAIMGATE_SOURCE_DIR) + "/tests/integration/http_abuse.py",
       "--port", std::to_string(port), "--mode", mode, "--count", std::to_string(count),
       "--seconds", std::to_string(seconds)},
      &abuser);
  std::atomic<bool> done = false;
  std::thread probe([&] {
    absl::SleepFor(absl::Milliseconds(200));  // let the abuse start
    while (!done.load()) {
      httplib::Client client("127.0.0.1", port);
      client.set_connection_timeout(3);
      client.set_read_timeout(3);
      client.set_write_timeout(3);
      auto r = client.Get("/livez");
      ++run.probes;
      if (!r || r->status != 200) ++run.unanswered;
      run.rss_growth_bytes = std::max(run.rss_growth_bytes, ResidentBytes() - rss_before);
      absl::SleepFor(absl::Milliseconds(250));
    }
  });
  run.report = abuser.ReadLine();
  int status = 0;
  waitpid(abuser.pid, &status, 0);
  abuser.pid = -1;
  done = true;
  probe.join();
  return run;
}

// Item 7 of issue 12: slow senders, idle sockets, a flood, a huge body and a flood of headers,
// each from a second process, never keep /livez from answering nor grow the process without
// bound; the connections that hold on are cut, and counted by reason.
struct AbuseCase {
  std::string mode;
  int64_t count;
  std::string dropped;  // the reason every abusive connection is counted under; "": none
};

void PrintTo(const AbuseCase& c, std::ostream* os) { *os << c.mode << " " << c.count; }

class HttpAbuseTest : public ::testing::TestWithParam<AbuseCase> {};

TEST_P(HttpAbuseTest, LivezAnswersAndMemoryStaysBounded) {
  const AbuseCase& c = GetParam();
  prometheus::Registry registry;
  HttpMetrics metrics(registry);
  std::atomic<bool> ready = true;
  HttpOptions options;
  options.metrics = &metrics;
  options.limits.idle_timeout = absl::Seconds(2);
  options.limits.read_timeout = absl::Seconds(3);
  auto server = HttpServer::Start("127.0.0.1:0", &registry, &ready, {}, options);
  ASSERT_TRUE(server.ok()) << server.status();
  const AbuseRun run = Abuse((*server)->port(), c.mode, c.count, 6);
  std::cout << run.report << "; /livez asked " << run.probes << " times, unanswered "
            << run.unanswered << "; resident size grew " << (run.rss_growth_bytes >> 20)
            << " MiB\n";
  ASSERT_EQ(run.report.rfind(c.mode + " opened=", 0), 0u) << run.report;
  EXPECT_GT(run.probes, 0);
  EXPECT_EQ(run.unanswered, 0);
  EXPECT_LT(run.rss_growth_bytes, int64_t{64} << 20);
  int opened = 0, closed = 0;
  ASSERT_EQ(sscanf(run.report.c_str() + c.mode.size(), " opened=%d closed_by_server=%d", &opened,
                   &closed),
            2);
  if (c.mode != "flood") {
    EXPECT_EQ(closed, opened) << "every abusive connection is cut";
  }
  if (!c.dropped.empty()) {
    EXPECT_EQ(metrics.dropped.Add({{"reason", c.dropped}}).Value(), opened) << c.dropped;
  }
}

INSTANTIATE_TEST_SUITE_P(Issue12, HttpAbuseTest,
                         ::testing::Values(AbuseCase{"slow", 16, "read_timeout"},
                                           AbuseCase{"idle", 64, "idle_timeout"},
                                           AbuseCase{"flood", 4000, ""},
                                           AbuseCase{"body", int64_t{300} << 20, ""},
                                           AbuseCase{"headers", 2000000, "head_too_large"}),
                         [](const auto& info) { return info.param.mode; });

}  // namespace
}  // namespace claimgate::gate
