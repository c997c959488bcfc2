// `claimgate-bench replay`: `claimgate replay` of a decisions file against its events file, in
// process; writes the two files first when they are missing (the synthetic stream, then the file
// path's decisions).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/check/check.h"
#include "gate/json/json_writer.h"
#include "gate/replay/replay_files.h"

namespace claimgate::bench {
namespace {

// Writes the events file (the synthetic stream) and the decisions `claimgate check` makes of it.
int WriteFiles(const ReplayBenchOptions& ro, const ledger::ProfileSet& profiles) {
  const absl::Time t0 = absl::Now();
  {
    std::ofstream out(ro.events);
    synthetic::SyntheticOptions options;
    options.persons = ro.persons;
    WriteStream(options, ro.lines, out);
  }
  std::ifstream in(ro.events);
  std::ofstream out(ro.decisions);
  std::ostringstream refusals;
  gate::FixedClock clock(absl::FromUnixSeconds(1767225600));
  gate::CheckOptions check_options;
  check_options.source_file = ro.events;
  auto summary = gate::RunCheck(in, out, refusals, profiles, check_options, clock);
  if (!summary.ok()) {
    std::cerr << summary.status() << "\n";
    return 2;
  }
  std::cout << "wrote " << ro.events << " and " << ro.decisions << " (" << summary->claims
            << " decisions) in " << Seconds(t0) << " s\n";
  return 0;
}

}  // namespace

int RunReplayBench(const ReplayBenchOptions& ro) {
  auto profiles = ledger::ProfileSet::Builtin();
  if (!profiles.ok()) return 2;
  if (!std::filesystem::exists(ro.events) || !std::filesystem::exists(ro.decisions)) {
    if (const int code = WriteFiles(ro, **profiles); code != 0) return code;
  }
  gate::ReplayOptions options;
  options.against = ro.against == "current" ? gate::Against::kCurrent : gate::Against::kRecorded;
  options.threads = ro.threads;
  options.progress = &std::cerr;
  std::ofstream differences("/dev/null");
  const absl::Time t0 = absl::Now();
  auto tally = gate::ReplayFiles(ro.events, ro.decisions, options, **profiles, differences);
  const double seconds = Seconds(t0);
  if (!tally.ok()) {
    std::cerr << tally.status() << "\n";
    return 2;
  }
  std::cout << tally->SummaryJson(options.against, seconds) << "\n";
  std::cout << gate::JsonText({{"replayed", tally->replayed()},
                               {"differ", tally->differ()},
                               {"errors", tally->errors()},
                               {"threads", ro.threads},
                               {"seconds", gate::Fixed(seconds, 1)},
                               {"decisions_per_sec", gate::Fixed(tally->replayed() / seconds, 0)},
                               {"events_bytes", std::filesystem::file_size(ro.events)},
                               {"decisions_bytes", std::filesystem::file_size(ro.decisions)},
                               {"peak_rss_bytes", PeakRssBytes()}})
            << "\n";
  return 0;
}

}  // namespace claimgate::bench
