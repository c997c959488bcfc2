#include "gate/service/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace claimgate::gate {
namespace {

prometheus::MetricFamily One(const char* name, const char* help, prometheus::MetricType type,
                             double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The system's boot time (seconds since the epoch), from /proc/stat's btime; 0 when unknown.
double BootTime() {
  std::istringstream stat(ReadFile("/proc/stat"));
  for (std::string line; std::getline(stat, line);) {
    double t = 0;
    if (line.rfind("btime ", 0) == 0 && absl::SimpleAtod(line.substr(6), &t)) return t;
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  // /proc/self/stat: "pid (comm) state ..."; comm may hold spaces and parentheses, so the fields
  // are counted from after the last ')': field 3 (state) is the first.
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  if (paren != std::string::npos) {
    const std::vector<absl::string_view> f =
        absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ', absl::SkipEmpty());
    double utime = 0, stime = 0, start = 0, vsize = 0, rss = 0;
    // utime (14), stime (15), starttime (22), vsize (23), rss (24): fields[n - 3].
    if (f.size() > 21 && absl::SimpleAtod(f[11], &utime) && absl::SimpleAtod(f[12], &stime) &&
        absl::SimpleAtod(f[19], &start) && absl::SimpleAtod(f[20], &vsize) &&
        absl::SimpleAtod(f[21], &rss)) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
      out.push_back(One("process_cpu_seconds_total",
                        "Total user and system CPU time spent in seconds", MetricType::Counter,
                        (utime + stime) / ticks));
      out.push_back(One("process_resident_memory_bytes", "Resident memory size in bytes",
                        MetricType::Gauge, rss * page));
      out.push_back(One("process_virtual_memory_bytes", "Virtual memory size in bytes",
                        MetricType::Gauge, vsize));
      if (const double boot = BootTime(); boot > 0) {
        out.push_back(One("process_start_time_seconds",
                          "Start time of the process since unix epoch in seconds",
                          MetricType::Gauge, boot + start / ticks));
      }
    }
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  if (!ec) {
    out.push_back(
        One("process_open_fds", "Number of open file descriptors", MetricType::Gauge, fds));
  }
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(One("process_max_fds", "Maximum number of open file descriptors",
                      MetricType::Gauge, static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace claimgate::gate
