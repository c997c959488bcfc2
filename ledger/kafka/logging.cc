#include "ledger/kafka/logging.h"

#include <atomic>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace claimgate::logging {
namespace {

std::atomic<bool> json_format = false;
// Time in UTC with milliseconds, then the level; the rest is the record's own text.
constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%eZ %l %v";

spdlog::level::level_enum SpdLevel(Level level) {
  switch (level) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarning:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

spdlog::logger& Logger() {
  static std::once_flag once;
  static std::shared_ptr<spdlog::logger> logger;
  std::call_once(once, [] {
    logger = std::make_shared<spdlog::logger>(
        "claimgate", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern(kTextPattern, spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::debug);  // every record at once: a crash loses none
  });
  return *logger;
}

}  // namespace

absl::Status ParseLevel(absl::string_view name, Level* level) {
  for (const Level l : {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (name == LevelName(l)) {
      *level = l;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("log level '", name, "': debug, info, warning or error"));
}

void Configure(const Options& options) {
  spdlog::logger& logger = Logger();
  json_format = options.json;
  logger.set_level(SpdLevel(options.level));
  // JSON records are whole lines of their own (time and level inside).
  logger.set_pattern(options.json ? "%v" : kTextPattern, spdlog::pattern_time_type::utc);
}

void Write(Level level, absl::string_view component, absl::string_view message) {
  spdlog::logger& logger = Logger();
  const spdlog::level::level_enum l = SpdLevel(level);
  if (!logger.should_log(l)) return;
  if (!json_format) {
    if (component == "claimgate") {
      logger.log(l, "claimgate: {}", std::string_view(message.data(), message.size()));
    } else {
      logger.log(l, "claimgate {}: {}", std::string_view(component.data(), component.size()),
                 std::string_view(message.data(), message.size()));
    }
    return;
  }
  // Time as the text format prints it (UTC, milliseconds).
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  nlohmann::ordered_json record;
  record["time"] = time;
  record["level"] = LevelName(level);
  record["component"] = std::string(component);
  record["message"] = std::string(message);
  // Invalid UTF-8 (a broker's or a peer's bytes) becomes U+FFFD rather than breaking the line.
  logger.log(l, "{}", record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void ParseLine(absl::string_view line, Level* level, std::string* component,
               std::string* message) {
  *level = Level::kInfo;
  *component = "claimgate";  // "claimgate: ...", or a line of another shape: the process itself
  absl::string_view text = line;
  if (!absl::ConsumePrefix(&text, "claimgate: ") && absl::StartsWith(text, "claimgate ")) {
    const absl::string_view rest = text.substr(10);  // "<component>: <text>"
    const size_t colon = rest.find(": ");
    if (colon != absl::string_view::npos && colon > 0 &&
        rest.substr(0, colon).find(' ') == absl::string_view::npos) {
      *component = std::string(rest.substr(0, colon));
      text = rest.substr(colon + 2);
    }
  }
  if (absl::ConsumePrefix(&text, "warning: ")) {
    *level = Level::kWarning;
  } else if (absl::ConsumePrefix(&text, "error: ")) {
    *level = Level::kError;
  }
  *message = std::string(text);
}

LineLog::LineLog() : std::ostream(&buffer_) {}

LineLog::~LineLog() { buffer_.Finish(); }

int LineLog::Buffer::overflow(int c) {
  if (c == traits_type::eof()) return 0;
  if (c == '\n') {
    Emit();
  } else {
    line_.push_back(static_cast<char>(c));
  }
  return c;
}

std::streamsize LineLog::Buffer::xsputn(const char* s, std::streamsize n) {
  for (std::streamsize i = 0; i < n; ++i) overflow(static_cast<unsigned char>(s[i]));
  return n;
}

void LineLog::Buffer::Emit() {
  Level level;
  std::string component, message;
  ParseLine(line_, &level, &component, &message);
  line_.clear();
  Write(level, component, message);
}

namespace {

// A librdkafka log line (syslog severity: 0 emergency .. 7 debug) from client `name`.
void KafkaLog(int severity, absl::string_view name, absl::string_view facility,
              absl::string_view text) {
  const Level level = severity <= 3   ? Level::kError
                      : severity == 4 ? Level::kWarning
                      : severity <= 6 ? Level::kInfo
                                      : Level::kDebug;
  Write(level, "kafka", absl::StrCat(name, name.empty() ? "" : " ", facility, ": ", text));
}

// A librdkafka error event. Most are transient (a broker down, a connection refused): librdkafka
// retries them, so they are warnings unless fatal.
void KafkaError(bool fatal, absl::string_view error, absl::string_view text) {
  Write(fatal ? Level::kError : Level::kWarning, "kafka", absl::StrCat(error, ": ", text));
}

class KafkaEventLogger : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_LOG) {
      KafkaLog(static_cast<int>(event.severity()), "", event.fac(), event.str());
    } else if (event.type() == RdKafka::Event::EVENT_ERROR) {
      KafkaError(event.fatal(), RdKafka::err2str(event.err()), event.str());
    }
  }
};

}  // namespace

void RouteKafkaLog(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_log_cb(
      conf, [](const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
        KafkaLog(level, rd_kafka_name(rk), fac, buf);
      });
  rd_kafka_conf_set_error_cb(
      conf, [](rd_kafka_t* /*rk*/, int err, const char* reason, void* /*opaque*/) {
        KafkaError(err == RD_KAFKA_RESP_ERR__FATAL,
                   rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)), reason);
      });
}

RdKafka::EventCb* KafkaEvents() {
  // Never destroyed: librdkafka's threads may log while static objects are destroyed.
  static KafkaEventLogger* logger = new KafkaEventLogger();
  return logger;
}

}  // namespace claimgate::logging
