// `claimgate demo`: the embedded default (RunDemo, serve.h), or with --events a summary of the file
// path over a JSONL file.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "gate/app/command.h"
#include "gate/app/serve.h"
#include "gate/check/check.h"
#include "gate/clock.h"

#ifndef CLAIMGATE_SOURCE_DIR
#define CLAIMGATE_SOURCE_DIR "."
#endif

namespace claimgate::gate {
namespace {

struct DemoFlags {
  DemoOptions options;
  std::string events;
  std::string decisions;
};

// The sample year, from the working directory or the source tree (for the help text).
std::string DefaultDemoEvents() {
  const std::string relative = "docs/examples/demo-2025.jsonl";
  if (std::filesystem::exists(relative)) return relative;
  return std::string(CLAIMGATE_SOURCE_DIR) + "/" + relative;
}

// --events: the file decided by the file path, its summary table on standard output.
int RunFileDemo(const DemoFlags& flags, const ledger::ProfileSet& profiles) {
  std::ifstream file(flags.events);
  if (!file) return Fail("cannot read " + flags.events);
  std::ofstream decisions;
  std::ofstream discard;
  std::ostream* out = &discard;
  if (!flags.decisions.empty()) {
    decisions.open(flags.decisions);
    if (!decisions) return Fail("cannot write " + flags.decisions);
    out = &decisions;
  }
  std::ostringstream refusals;
  CheckOptions options;
  options.source_file = flags.events;
  SystemClock clock;
  auto summary = RunCheck(file, *out, refusals, profiles, options, clock);
  if (!summary.ok()) return Fail(std::string(summary.status().message()));
  std::cout << "claimgate demo: " << flags.events << "\n\n" << FormatSummary(*summary);
  if (!flags.decisions.empty()) std::cout << "\ndecisions written to " << flags.decisions << "\n";
  return 0;
}

int RunDemoCommand(const DemoFlags& flags, Context& context) {
  const ledger::ProfileSet* profiles = context.Profiles();
  if (profiles == nullptr) return 2;
  if (!flags.events.empty()) return RunFileDemo(flags, *profiles);
  // SIGINT/SIGTERM end the demo (and --linger's wait); a second one at once.
  const StopOnSignal signals;
  const absl::Status s = RunDemo(flags.options, *profiles, signals.stop(), std::cout);
  if (absl::IsCancelled(s) && signals.stop().load()) {
    std::cout << std::endl;
    return 0;
  }
  if (!s.ok()) return Fail(std::string(s.ToString()));
  return 0;
}

}  // namespace

Command AddDemoCommand(CLI::App& app) {
  auto flags = std::make_shared<DemoFlags>();
  DemoOptions& o = flags->options;
  CLI::App* demo = app.add_subcommand(
      "demo",
      "embedded default: mock Kafka cluster, synthetic population and claims, ledger + gate");
  demo->add_option("--duration", o.duration_seconds,
                   "upper bound of each phase (the ledger's, then the claims'), seconds")
      ->capture_default_str();
  demo->add_option("--claims", o.claims, "claims to stream")->capture_default_str();
  demo->add_option("--persons", o.persons, "population size")->capture_default_str();
  demo->add_option("--http-address", o.http_address,
                   "HOST:PORT of /metrics, /livez, /readyz (empty: none; taken: any free port)")
      ->capture_default_str();
  demo->add_flag("--linger", o.linger,
                 "after the report, keep /metrics up until Ctrl-C (for Prometheus and Grafana)");
  demo->add_option(
      "--events", flags->events,
      "instead: decide a JSONL file with the file path (e.g. " + DefaultDemoEvents() + ")");
  demo->add_option("--decisions", flags->decisions,
                   "with --events: also write the decisions here");
  return {demo, [flags](Context& context) { return RunDemoCommand(*flags, context); }};
}

}  // namespace claimgate::gate
