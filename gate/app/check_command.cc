// `claimgate check`: the file path (gate/check/check.h) over a JSONL file or standard input.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "gate/app/command.h"
#include "gate/check/check.h"
#include "gate/clock.h"
#include "ledger/calendar.h"

namespace claimgate::gate {
namespace {

struct CheckFlags {
  CheckOptions options;
  std::string input;
  std::string mode = "enforce";
  std::string processing_time;
  std::string notices_path;
};

// The system clock, or one fixed at the RFC 3339 time `fixed` (reproducible audit records). Null
// with the parser's message in `error` for a bad time.
std::unique_ptr<Clock> MakeClock(const std::string& fixed, std::string* error) {
  if (fixed.empty()) return std::make_unique<SystemClock>();
  absl::StatusOr<absl::Time> t = ledger::ParseRfc3339(fixed);
  if (!t.ok()) {
    *error = std::string(t.status().message());
    return nullptr;
  }
  return std::make_unique<FixedClock>(*t);
}

int RunCheckCommand(const CheckFlags& flags, Context& context) {
  const ledger::ProfileSet* profiles = context.Profiles();
  if (profiles == nullptr) return 2;
  std::string error;
  std::unique_ptr<Clock> clock = MakeClock(flags.processing_time, &error);
  if (clock == nullptr) return Fail("--processing-time: " + error);
  CheckOptions options = flags.options;
  options.shadow = flags.mode == "shadow";
  options.source_file = flags.input;
  options.free_state = false;  // the process exits next
  std::ofstream notices;
  if (!flags.notices_path.empty()) {
    notices.open(flags.notices_path);
    if (!notices) return Fail("cannot write " + flags.notices_path);
    options.notices = &notices;
  }
  std::ifstream file;
  std::istream* in = OpenInput(flags.input, &file);
  if (in == nullptr) return Fail("cannot read " + flags.input);
  std::ios::sync_with_stdio(false);
  auto summary = RunCheck(*in, std::cout, std::cerr, *profiles, options, *clock);
  if (!summary.ok()) return Fail(std::string(summary.status().message()));
  std::cout.flush();
  return 0;
}

}  // namespace

Command AddCheckCommand(CLI::App& app) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* check =
      app.add_subcommand("check", "apply ledger events and decide claims of a JSONL file");
  check
      ->add_option("--profile", flags->options.default_profile,
                   "profile of institutions that name none")
      ->capture_default_str();
  check->add_option("--mode", flags->mode, "enforce or shadow (every REJECT emitted as FLAG)")
      ->check(CLI::IsMember({"enforce", "shadow"}))
      ->capture_default_str();
  check->add_option("--notices", flags->notices_path,
                    "write ledger notices (JSON lines) to this file");
  check->add_option("--codes-dir", flags->options.codes_dir,
                    "keep settled traceability codes (SPEC §8.3) in a code store in this directory "
                    "(memory bounded; default: in memory)");
  check->add_option("--processing-time", flags->processing_time,
                    "stamp every audit record with this RFC 3339 time (reproducible output)");
  check->add_option("input", flags->input, "events, one JSON object a line ('-' for stdin)")
      ->required();
  return {check, [flags](Context& context) { return RunCheckCommand(*flags, context); }};
}

}  // namespace claimgate::gate
