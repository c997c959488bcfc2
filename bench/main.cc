// claimgate-bench: load generators and benchmarks. Each subcommand prints figures and, on its last line, one
// JSON object with the results.
#include <sys/resource.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/synthetic.h"
#include "gate/check.h"
#include "ledger/codec.h"

namespace {

int64_t PeakRssBytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"claimgate-bench: synthetic load and benchmarks"};
  app.require_subcommand(1);
  claimgate::bench::SyntheticOptions options;
  int64_t lines = 1000000;
  std::string out_path;

  CLI::App* gen = app.add_subcommand("gen", "write a synthetic JSONL event file (SPEC §7)");
  gen->add_option("--lines", lines, "stream events after the population")->capture_default_str();
  gen->add_option("--persons", options.persons)->capture_default_str();
  gen->add_option("--institutions", options.institutions)->capture_default_str();
  gen->add_option("--seed", options.seed)->capture_default_str();
  gen->add_option("--out", out_path, "output file")->required();

  CLI::App* check = app.add_subcommand("check", "time the file path (`claimgate check`) in process");
  check->add_option("--lines", lines, "stream events after the population")->capture_default_str();
  check->add_option("--persons", options.persons)->capture_default_str();
  check->add_option("--institutions", options.institutions)->capture_default_str();

  CLI11_PARSE(app, argc, argv);

  if (gen->parsed()) {
    std::ofstream out(out_path);
    if (!out) {
      std::cerr << "cannot write " << out_path << "\n";
      return 2;
    }
    int64_t written = 0;
    claimgate::bench::GenerateStream(options, lines, [&](const claimgate::v1::Event& e) {
      out << claimgate::ledger::ToJson(e) << '\n';
      ++written;
    });
    std::cout << absl::StrFormat("{\"lines\":%d,\"file\":\"%s\"}\n", written, out_path);
    return 0;
  }

  if (check->parsed()) {
    std::string input;
    {
      std::ostringstream buf;
      int64_t written = 0;
      claimgate::bench::GenerateStream(options, lines, [&](const claimgate::v1::Event& e) {
        buf << claimgate::ledger::ToJson(e) << '\n';
        ++written;
      });
      input = buf.str();
      std::cout << "generated " << written << " lines, " << input.size() << " bytes\n";
    }
    auto profiles = claimgate::ledger::ProfileSet::Builtin();
    if (!profiles.ok()) return 2;
    std::istringstream in(std::move(input));
    std::ostringstream decisions, refusals;
    claimgate::gate::SystemClock clock;
    claimgate::gate::CheckOptions check_options;
    const absl::Time t0 = absl::Now();
    auto summary = claimgate::gate::RunCheck(in, decisions, refusals, **profiles, check_options, clock);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
    if (!summary.ok()) {
      std::cerr << summary.status() << "\n";
      return 2;
    }
    std::cout << claimgate::gate::FormatSummary(*summary);
    std::cout << absl::StrFormat(
        "{\"lines\":%d,\"claims\":%d,\"ledger_events\":%d,\"seconds\":%.3f,\"lines_per_sec\":%.0f,"
        "\"rss_bytes\":%d}\n",
        summary->lines, summary->claims, summary->ledger_events, seconds, summary->lines / seconds,
        PeakRssBytes());
    return 0;
  }
  return 0;
}
