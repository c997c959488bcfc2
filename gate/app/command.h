// The subcommands of `claimgate` (main.cc dispatches to them): each *_command.cc adds its CLI11
// subcommand, with its flags, help texts and defaults, and runs it once parsed. Here is what they
// share: the top-level options, the error exit, input files, time ranges and the stop signals.
#ifndef CLAIMGATE_GATE_APP_COMMAND_H_
#define CLAIMGATE_GATE_APP_COMMAND_H_

#include <signal.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "ledger/profile.h"

namespace claimgate::gate {

// What every subcommand may use: the top-level options.
class Context {
 public:
  std::string profiles_dir;  // --profiles-dir

  // The built-in profiles plus those of profiles_dir (a new province is a new file there), loaded
  // at the first call. Null after saying why on standard error: the caller exits with status 2.
  const ledger::ProfileSet* Profiles();

 private:
  std::unique_ptr<ledger::ProfileSet> profiles_;
};

// A subcommand: its CLI11 node, and the function that runs it once that node has been parsed. The
// function owns the flags' values; it returns the process's exit status.
struct Command {
  CLI::App* cli;
  std::function<int(Context&)> run;
};

// Each adds its subcommand to `app` (the order of the calls is the order of `claimgate --help`).
Command AddCheckCommand(CLI::App& app);
Command AddDemoCommand(CLI::App& app);
Command AddServeCommand(CLI::App& app);
Command AddMockBrokerCommand(CLI::App& app);
Command AddAuditVerifyCommand(CLI::App& app);  // `audit verify`
Command AddReplayCommand(CLI::App& app);
Command AddTopicsCommand(CLI::App& app);  // hidden from --help

// Writes "claimgate: <what>" to standard error and returns 2, the exit status of a usage error,
// unreadable input or a failed run.
int Fail(const std::string& what);

// The input of `check` and `audit verify`: the file `path`, opened into `file`, or standard input
// for "-". Null when the file cannot be read.
std::istream* OpenInput(const std::string& path, std::ifstream* file);

// --from / --to of `audit verify` and `replay`: RFC 3339 times into optional bounds (an empty text
// leaves its bound unset). False with the parser's message in `error` for a bad time.
bool ParseTimeRange(const std::string& from, const std::string& to,
                    std::optional<absl::Time>* from_time, std::optional<absl::Time>* to_time,
                    std::string* error);

// What `claimgate --version` prints: the version, the commit built from (`git_commit`) and the
// versions of the libraries it runs with (librdkafka and RocksDB as loaded, Protobuf as built).
std::string VersionText(const std::string& git_commit);

// For a mistyped subcommand: the closest of `names` (edit distance at most 2 and less than the
// word's length), or "" when none is close.
std::string ClosestName(const std::string& word, const std::vector<std::string>& names);

// SIGINT and SIGTERM, taken on a thread of its own from construction to destruction (construct it
// before librdkafka starts a thread: the signals are blocked first, and threads inherit the mask).
// The first sets stop() and calls `on_first` with the signal; a second one, half a second or more
// later, ends the process at once with status 128 + the signal (one sooner is the same request:
// GNU timeout, for one, signals the process and then its process group).
class StopOnSignal {
 public:
  explicit StopOnSignal(std::function<void(int)> on_first = {});
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  const std::atomic<bool>& stop() const { return stop_; }

 private:
  sigset_t signals_;
  std::atomic<bool> stop_ = false, finished_ = false;
  std::thread waiter_;
};

// Blocks SIGTERM and SIGINT in the calling thread and returns that set. Call it before librdkafka
// starts a thread (threads inherit the mask), then take the signal with sigwait() on the set.
sigset_t BlockStopSignals();

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_APP_COMMAND_H_
