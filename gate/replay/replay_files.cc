#include "gate/replay/replay_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gate/audit/audit_file.h"
#include "gate/json/json_writer.h"
#include "gate/replay/json_lines.h"
#include "google/protobuf/arena.h"
#include "ledger/codec.h"
#include "ledger/history.h"

namespace claimgate::gate {
namespace {

// A read-only memory map of a whole file.
class MappedFile {
 public:
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0)
      return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return absl::DataLossError(absl::StrCat("cannot stat ", path));
    }
    auto f = std::unique_ptr<MappedFile>(new MappedFile);
    f->size_ = static_cast<size_t>(st.st_size);
    if (f->size_ > 0) {
      void* p = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        return absl::DataLossError(absl::StrCat("cannot map ", path, ": ", strerror(errno)));
      }
      ::madvise(p, f->size_, MADV_SEQUENTIAL);
      f->data_ = static_cast<const char*>(p);
    }
    ::close(fd);
    return f;
  }
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
  }
  absl::string_view bytes() const { return absl::string_view(data_, size_); }

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// The line starting at `from` (without its newline); `next` is where the following one starts.
absl::string_view LineAt(absl::string_view text, size_t from, size_t* next) {
  const size_t end = text.find('\n', from);
  const size_t stop = end == absl::string_view::npos ? text.size() : end;
  *next = end == absl::string_view::npos ? text.size() : end + 1;
  absl::string_view line = text.substr(from, stop - from);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// The events file after the first pass: where each claim line starts (by 1-based line number) and
// the ledger history built from the other lines.
struct EventsIndex {
  static constexpr uint64_t kNotAClaim = ~uint64_t{0};
  std::vector<uint64_t> claim_at;  // line number - 1 -> offset of a claim line, or kNotAClaim
  absl::flat_hash_set<std::string> reversed;  // claim ids of claim_reversed lines (SPEC §8.3)
};

// `text` cut into `n` byte ranges of whole lines.
std::vector<std::pair<size_t, size_t>> SplitLines(absl::string_view text, int n) {
  std::vector<std::pair<size_t, size_t>> ranges;
  size_t from = 0;
  for (int i = 0; i < n; ++i) {
    size_t to = i + 1 == n ? text.size() : text.size() * static_cast<size_t>(i + 1) / n;
    if (to < text.size()) {
      const size_t nl = text.find('\n', std::max(to, from));
      to = nl == absl::string_view::npos ? text.size() : nl + 1;
    }
    ranges.emplace_back(from, std::max(from, to));
    from = std::max(from, to);
  }
  return ranges;
}

// Two passes: the lines are classified and the ledger events parsed in parallel ranges; then the
// ledger events are applied in file order.
void IndexEvents(absl::string_view text, int threads, ledger::LedgerHistory* history,
                 EventsIndex* index) {
  struct Range {
    size_t from = 0, to = 0;
    std::vector<uint64_t> claim_at;
    std::vector<v1::Event> ledger;
    std::vector<std::string> reversed;
  };
  std::vector<Range> ranges;
  for (const auto& [from, to] : SplitLines(text, threads)) ranges.push_back({from, to, {}, {}, {}});
  std::vector<std::thread> workers;
  for (Range& range : ranges) {
    workers.emplace_back([text, r = &range] {
      JsonLineReader reader;
      v1::Event event;
      for (size_t at = r->from, next = 0; at < r->to; at = next) {
        const absl::string_view line = LineAt(text, at, &next);
        uint64_t claim_at = EventsIndex::kNotAClaim;
        switch (reader.Classify(line)) {
          case LineKind::kClaim:
            claim_at = at;
            break;
          case LineKind::kOther:
            // What `check` read: ledger events are applied, and a claim the scan could not tell
            // (an escaped key) is still a claim.
            if (!ledger::ParseEventJson(line, &event).ok()) break;
            if (event.has_claim()) {
              claim_at = at;
            } else if (ledger::IsLedgerEvent(event)) {
              r->ledger.push_back(std::move(event));
            } else if (event.has_claim_reversed()) {
              r->reversed.push_back(event.claim_reversed().claim_id());
            }
            break;
          case LineKind::kBlank:
            break;
        }
        r->claim_at.push_back(claim_at);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  for (Range& range : ranges) {
    for (const v1::Event& e : range.ledger) history->Apply(e);
    index->claim_at.insert(index->claim_at.end(), range.claim_at.begin(), range.claim_at.end());
    index->reversed.insert(range.reversed.begin(), range.reversed.end());
  }
}

struct Chunk {
  size_t from = 0, to = 0;  // byte range of the decisions file
  std::string out;          // its differing claims, rendered
  ReplayTally tally;
  std::atomic<bool> finished = false;  // out and tally are complete
};

void ReplayChunk(absl::string_view events, const EventsIndex& index, absl::string_view decisions,
                 const ledger::LedgerHistory& history, const ledger::ProfileSet& profiles,
                 const ledger::Profile& default_profile, const ReplayOptions& options,
                 std::atomic<int64_t>* done, Chunk* chunk) {
  Replayer replayer(&history, &profiles, &default_profile, options.against);
  replayer.set_reversed(&index.reversed);
  JsonLineReader reader;
  // Each decision is read into an arena reset per line: Clear() would free and reallocate every
  // sub-message (measured: 5% of the time in ~Decision alone).
  std::vector<char> first_block(64 << 10);
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = first_block.data();
  arena_options.initial_block_size = first_block.size();
  google::protobuf::Arena arena(arena_options);
  ClaimView claim;
  int64_t pending = 0;
  for (size_t at = chunk->from, next = 0; at < chunk->to; at = next) {
    const absl::string_view line = LineAt(decisions, at, &next);
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    if (++pending == 1000) {
      done->fetch_add(pending, std::memory_order_relaxed);
      pending = 0;
    }
    std::string error;
    arena.Reset();
    v1::Decision& decision = *google::protobuf::Arena::CreateMessage<v1::Decision>(&arena);
    if (!reader.ReadDecision(line, &decision, &error)) {
      ReplayError(decision.audit(), absl::StrCat("decisions line unreadable: ", error), options.csv,
                  &chunk->tally, &chunk->out);
      continue;
    }
    const v1::AuditRecord& audit = decision.audit();
    // A reversal's line decides no claim: it releases codes, which replay against now takes from
    // the events file (EventsIndex::reversed).
    if (decision.outcome() == v1::Decision::REVERSED) continue;
    const int64_t line_number = audit.source().offset();
    const bool found =
        line_number >= 1 && static_cast<uint64_t>(line_number) <= index.claim_at.size() &&
        index.claim_at[static_cast<size_t>(line_number - 1)] != EventsIndex::kNotAClaim;
    if (found) {
      size_t unused = 0;
      const absl::string_view claim_line =
          LineAt(events, index.claim_at[static_cast<size_t>(line_number - 1)], &unused);
      if (!reader.ReadClaim(claim_line, &claim, &error)) {
        error = absl::StrCat("the claim at line ", line_number, " does not parse: ", error);
      } else if (claim.claim_id != audit.claim_id()) {
        error = absl::StrCat("line ", line_number, " holds claim ", claim.claim_id, ", not ",
                             audit.claim_id());
      }
    } else {
      error = absl::StrCat("no claim at line ", line_number, " of the events file");
    }
    if (!error.empty()) {
      ReplayError(audit, std::move(error), options.csv, &chunk->tally, &chunk->out);
      continue;
    }
    ReplayOne(replayer, claim, audit, options.csv, &chunk->tally, &chunk->out);
  }
  done->fetch_add(pending, std::memory_order_relaxed);
}

}  // namespace

absl::StatusOr<ReplayTally> ReplayFiles(const std::string& events_path,
                                        const std::string& decisions_path,
                                        const ReplayOptions& options,
                                        const ledger::ProfileSet& profiles, std::ostream& out) {
  const auto started = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  absl::StatusOr<std::unique_ptr<MappedFile>> events = MappedFile::Open(events_path);
  if (!events.ok()) return events.status();
  absl::StatusOr<std::unique_ptr<MappedFile>> decisions = MappedFile::Open(decisions_path);
  if (!decisions.ok()) return decisions.status();
  absl::StatusOr<std::unique_ptr<ledger::LedgerHistory>> history =
      ledger::LedgerHistory::Create(&profiles, options.default_profile);
  if (!history.ok()) return history.status();

  EventsIndex index;
  const int threads = std::max(1, options.threads);
  IndexEvents((*events)->bytes(), threads, history->get(), &index);
  if (options.progress != nullptr) {
    *options.progress << JsonText({{"progress", "ledger"},
                                   {"lines", index.claim_at.size()},
                                   {"ledger_position", (*history)->position()},
                                   {"versions", (*history)->versions()},
                                   {"seconds", Fixed(seconds(), 1)}})
                      << "\n";
  }

  // Chunks of whole lines, many per thread: each worker takes the next one free, so none idles
  // while another finishes a slow chunk. This thread writes each chunk's lines as soon as it and
  // the chunks before it are finished, so the output keeps the decisions' order and memory holds
  // only the chunks in flight.
  const absl::string_view text = (*decisions)->bytes();
  const std::vector<std::pair<size_t, size_t>> ranges = SplitLines(text, threads * 32);
  std::vector<Chunk> chunks(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) std::tie(chunks[i].from, chunks[i].to) = ranges[i];
  const ledger::Profile* default_profile = profiles.Find(options.default_profile);
  if (default_profile == nullptr)
    return absl::NotFoundError(absl::StrCat("no profile '", options.default_profile, "'"));
  std::atomic<int64_t> done = 0;
  std::atomic<size_t> next_chunk = 0;
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&] {
      for (size_t c; (c = next_chunk.fetch_add(1)) < chunks.size();) {
        ReplayChunk((*events)->bytes(), index, text, **history, profiles, *default_profile, options,
                    &done, &chunks[c]);
        chunks[c].finished.store(true, std::memory_order_release);
      }
    });
  }
  ReplayTally tally;
  if (options.csv) out << DifferenceCsvHeader() << "\n";
  auto reported = std::chrono::steady_clock::now();
  for (Chunk& chunk : chunks) {
    while (!chunk.finished.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (options.progress != nullptr &&
          std::chrono::steady_clock::now() - reported >=
              std::chrono::duration<double>(options.progress_seconds)) {
        reported = std::chrono::steady_clock::now();
        *options.progress << JsonText({{"progress", "replay"},
                                       {"replayed", done.load()},
                                       {"seconds", Fixed(seconds(), 1)}})
                          << "\n";
      }
    }
    out << chunk.out;
    std::string().swap(chunk.out);
    tally.Merge(chunk.tally);
  }
  for (std::thread& w : workers) w.join();
  return tally;
}

}  // namespace claimgate::gate
