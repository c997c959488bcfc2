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

namespace {

// Counts the bytes written to it and, when asked, keeps a digest of them, so that two runs can be
// compared without holding a gigabyte of decisions. The digest (a byte at a time, so that it does
// not depend on how the writes are cut) costs about a nanosecond a byte, a second on a million
// lines: it is taken only when the two paths are compared.
class DigestBuf final : public std::streambuf {
 public:
  explicit DigestBuf(bool digest) : digest_on_(digest) {}
  int64_t bytes() const { return bytes_; }
  uint64_t digest() const { return digest_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (!digest_on_) {
      bytes_ += n;
      return n;
    }
    for (std::streamsize i = 0; i < n; ++i) Add(s[i]);
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) Add(static_cast<char>(c));
    return c;
  }

 private:
  void Add(char c) {  // FNV-1a
    digest_ = (digest_ ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    ++bytes_;
  }
  bool digest_on_;
  int64_t bytes_ = 0;
  uint64_t digest_ = 14695981039346656037ull;
};

struct Timed {
  absl::StatusOr<gate::CheckSummary> summary;
  double seconds = 0;
  int64_t bytes = 0;
  uint64_t digest = 0;
};

Timed TimeCheck(const std::string& input, const ledger::ProfileSet& profiles, bool fast_path,
                bool digest) {
  std::istringstream in(input);
  DigestBuf out_buf(digest), err_buf(digest);
  std::ostream decisions(&out_buf), refusals(&err_buf);
  gate::FixedClock clock(absl::FromUnixSeconds(1767225600));  // 2026-01-01: the same bytes
  gate::CheckOptions check_options;
  check_options.fast_path = fast_path;
  const absl::Time t0 = absl::Now();
  Timed t{gate::RunCheck(in, decisions, refusals, profiles, check_options, clock), 0, 0, 0};
  t.seconds = Seconds(t0);
  t.bytes = out_buf.bytes() + err_buf.bytes();
  t.digest = out_buf.digest() ^ (err_buf.digest() * 31);
  return t;
}

}  // namespace

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
  const Timed fast = TimeCheck(input, **profiles, true, options.compare_protobuf);
  if (!fast.summary.ok()) {
    std::cerr << fast.summary.status() << "\n";
    return 2;
  }
  const gate::CheckSummary& summary = *fast.summary;
  std::cout << gate::FormatSummary(summary);
  gate::Json figures = {{"lines", summary.lines},
                        {"claims", summary.claims},
                        {"ledger_events", summary.ledger_events},
                        {"seconds", gate::Fixed(fast.seconds, 3)},
                        {"lines_per_sec", gate::Fixed(summary.lines / fast.seconds, 0)},
                        {"output_bytes", fast.bytes},
                        {"rss_bytes", PeakRssBytes()}};
  if (options.compare_protobuf) {
    const Timed slow = TimeCheck(input, **profiles, false, true);
    if (!slow.summary.ok()) {
      std::cerr << slow.summary.status() << "\n";
      return 2;
    }
    figures["protobuf_seconds"] = gate::Fixed(slow.seconds, 3);
    figures["protobuf_lines_per_sec"] = gate::Fixed(summary.lines / slow.seconds, 0);
    figures["same_bytes"] = slow.bytes == fast.bytes && slow.digest == fast.digest;
    if (slow.bytes != fast.bytes || slow.digest != fast.digest) {
      std::cout << gate::JsonText(figures) << "\n";
      std::cerr << "the two paths wrote different bytes\n";
      return 1;
    }
  }
  std::cout << gate::JsonText(figures) << "\n";
  return 0;
}

}  // namespace claimgate::bench
