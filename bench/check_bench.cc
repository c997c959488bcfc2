// `claimgate-bench check`: time the file path (`claimgate check`) in process on the synthetic
// stream, generated into memory first.
#include <iostream>
#include <sstream>
#include <string>

#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/check/check.h"
#include "gate/json/json_writer.h"

namespace claimgate::bench {

int RunCheckBench(const StreamOptions& options) {
  std::string input;
  {
    std::ostringstream buf;
    const int64_t written = WriteStream(options.synthetic, options.lines, buf);
    input = buf.str();
    std::cout << "generated " << written << " lines, " << input.size() << " bytes\n";
  }
  auto profiles = ledger::ProfileSet::Builtin();
  if (!profiles.ok()) return 2;
  std::istringstream in(std::move(input));
  std::ostringstream decisions, refusals;
  gate::SystemClock clock;
  gate::CheckOptions check_options;
  const absl::Time t0 = absl::Now();
  auto summary = gate::RunCheck(in, decisions, refusals, **profiles, check_options, clock);
  const double seconds = Seconds(t0);
  if (!summary.ok()) {
    std::cerr << summary.status() << "\n";
    return 2;
  }
  std::cout << gate::FormatSummary(*summary);
  std::cout << gate::JsonText({{"lines", summary->lines},
                               {"claims", summary->claims},
                               {"ledger_events", summary->ledger_events},
                               {"seconds", gate::Fixed(seconds, 3)},
                               {"lines_per_sec", gate::Fixed(summary->lines / seconds, 0)},
                               {"rss_bytes", PeakRssBytes()}})
            << "\n";
  return 0;
}

}  // namespace claimgate::bench
