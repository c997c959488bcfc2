// The process's log: lines "claimgate <component>: [warning: |error: ]text" become records with
// time, level and component, as text or JSON; below the level they are dropped.
#include "ledger/kafka/logging.h"

#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace claimgate::logging {
namespace {

TEST(LoggingTest, ParsesComponentAndLevelFromTheLine) {
  Level level;
  std::string component, message;
  ParseLine("claimgate gate: warning: consuming claims: down", &level, &component, &message);
  EXPECT_EQ(level, Level::kWarning);
  EXPECT_EQ(component, "gate");
  EXPECT_EQ(message, "consuming claims: down");
  ParseLine("claimgate serve: error: the gate service failed", &level, &component, &message);
  EXPECT_EQ(level, Level::kError);
  EXPECT_EQ(component, "serve");
  ParseLine("claimgate: /metrics on 127.0.0.1:9464", &level, &component, &message);
  EXPECT_EQ(level, Level::kInfo);
  EXPECT_EQ(component, "claimgate");
  EXPECT_EQ(message, "/metrics on 127.0.0.1:9464");
  ParseLine("something else: entirely", &level, &component, &message);
  EXPECT_EQ(component, "claimgate");
  EXPECT_EQ(message, "something else: entirely");
}

TEST(LoggingTest, TextRecordsHaveTimeLevelAndTheLine) {
  Configure({Level::kInfo, false});
  ::testing::internal::CaptureStderr();
  {
    LineLog log;
    log << "claimgate serve: gate ready (" << 3 << " status records)\n";
    log << "claimgate gate: warning: consuming claims: broker down\n";
    log << "claimgate serve: a last line without its newline";
  }
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info claimgate serve: gate ready )"
                      R"(\(3 status records\)\n)")))
      << out;
  EXPECT_NE(out.find("Z warning claimgate gate: consuming claims: broker down\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Z info claimgate serve: a last line without its newline\n"),
            std::string::npos)
      << out;
}

TEST(LoggingTest, JsonRecordsAreOneValidObjectALineEvenForInvalidUtf8) {
  Configure({Level::kInfo, true});
  ::testing::internal::CaptureStderr();
  {
    LineLog log;
    log << "claimgate http: error: bad \xff\xfe bytes and a \"quote\"\n";
  }
  const std::string out = ::testing::internal::GetCapturedStderr();
  Configure({});
  ASSERT_FALSE(out.empty());
  ASSERT_EQ(out.back(), '\n');
  const nlohmann::json record = nlohmann::json::parse(out);
  EXPECT_EQ(record["level"], "error");
  EXPECT_EQ(record["component"], "http");
  EXPECT_EQ(record["message"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes and a \"quote\"");
  EXPECT_TRUE(std::regex_match(record["time"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST(LoggingTest, RecordsBelowTheLevelAreDropped) {
  Configure({Level::kWarning, false});
  ::testing::internal::CaptureStderr();
  Write(Level::kInfo, "serve", "not shown");
  Write(Level::kWarning, "serve", "shown");
  const std::string out = ::testing::internal::GetCapturedStderr();
  Configure({});
  EXPECT_EQ(out.find("not shown"), std::string::npos) << out;
  EXPECT_NE(out.find("warning claimgate serve: shown"), std::string::npos) << out;
  Level level;
  EXPECT_TRUE(ParseLevel("debug", &level).ok());
  EXPECT_EQ(level, Level::kDebug);
  EXPECT_FALSE(ParseLevel("verbose", &level).ok());
}

}  // namespace
}  // namespace claimgate::logging
