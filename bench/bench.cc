// What claimgate-bench's subcommands share: process memory, wall time, the stream as JSON lines.
#include "bench/bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "absl/time/clock.h"
#include "ledger/codec.h"

namespace claimgate::bench {

int64_t PeakRssBytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;
}

int64_t CurrentRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

double Seconds(absl::Time since) { return absl::ToDoubleSeconds(absl::Now() - since); }

int64_t WriteStream(const synthetic::SyntheticOptions& options, int64_t stream_events,
                    std::ostream& out) {
  int64_t written = 0;
  synthetic::GenerateStream(options, stream_events, [&](const v1::Event& e) {
    out << ledger::ToJson(e) << '\n';
    ++written;
  });
  return written;
}

}  // namespace claimgate::bench
