// The process's log: one record a line on standard error, with time (UTC), level and component,
// as text or as JSON for log shippers (spdlog, Debian's libspdlog-dev; docs/dependencies.md).
//
// Code that logs writes whole lines "claimgate <component>: <text>" to a std::ostream (the services
// take an std::ostream*, which tests point at a stringstream). In a process, that ostream is a
// LineLog: each line becomes a record. The text may start with "warning: " or "error: " (its
// level; info otherwise). librdkafka's own log and error events come through KafkaEvents (every
// client of kafka.h gets it), as component "kafka".
//
//   text: 2026-12-03T05:12:22.123Z info claimgate serve: gate ready (0 status records)
//   json: {"time":"2026-12-03T05:12:22.123Z","level":"info","component":"serve",
//          "message":"gate ready (0 status records)"}
//
// No person, insured or claim id is logged at info level or above (docs/operations.md, "Logs").
#ifndef CLAIMGATE_LEDGER_KAFKA_LOGGING_H_
#define CLAIMGATE_LEDGER_KAFKA_LOGGING_H_

#include <memory>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafkacpp.h"

namespace claimgate::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

struct Options {
  Level level = Level::kInfo;  // records below it are dropped
  bool json = false;
};

// "debug", "info", "warning" or "error" (--log-level); InvalidArgument otherwise.
absl::Status ParseLevel(absl::string_view name, Level* level);

// Sets up the process's log (before the first record; the default is text at info).
void Configure(const Options& options);

// One record.
void Write(Level level, absl::string_view component, absl::string_view message);

// Writes one record a line: "claimgate <component>: [warning: |error: ]<text>" (a line of another
// shape is an info record of component "claimgate").
class LineLog : public std::ostream {
 public:
  LineLog();
  ~LineLog() override;

 private:
  class Buffer : public std::streambuf {
   public:
    void Finish() {  // a last line without its newline is a record too
      if (!line_.empty()) Emit();
    }

   protected:
    int overflow(int c) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;

   private:
    void Emit();
    std::string line_;
  };
  Buffer buffer_;
};

// Splits a line into level, component and message (what LineLog does with it).
void ParseLine(absl::string_view line, Level* level, std::string* component,
               std::string* message);

// librdkafka's log and error events into the log (component "kafka"): for a C++ client's
// "event_cb", and for a handle of the C API (the admin client, the mock cluster).
RdKafka::EventCb* KafkaEvents();
void RouteKafkaLog(rd_kafka_conf_t* conf);

}  // namespace claimgate::logging

#endif  // CLAIMGATE_LEDGER_KAFKA_LOGGING_H_
