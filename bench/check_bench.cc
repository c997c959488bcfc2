// `claimgate-bench check`: time the file path (`claimgate check`) in process on the synthetic
// stream, generated into memory first.
#include <iostream>
#include <sstream>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench.h"
#include "gate/check/check.h"

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
  std::cout << absl::StrFormat(
      "{\"lines\":%d,\"claims\":%d,\"ledger_events\":%d,\"seconds\":%.3f,\"lines_per_sec\":%.0f,"
      "\"rss_bytes\":%d}\n",
      summary->lines, summary->claims, summary->ledger_events, seconds, summary->lines / seconds,
      PeakRssBytes());
  return 0;
}

}  // namespace claimgate::bench
