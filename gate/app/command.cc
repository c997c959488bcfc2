// What the subcommands share (command.h).
#include "gate/app/command.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"
#include "ledger/kafka/logging.h"
#include "librdkafka/rdkafkacpp.h"
#include "rocksdb/version.h"
#include "ledger/calendar.h"

namespace claimgate::gate {

const ledger::ProfileSet* Context::Profiles() {
  if (profiles_ != nullptr) return profiles_.get();
  auto set = ledger::ProfileSet::Builtin();
  if (!set.ok()) {
    Fail(std::string(set.status().message()));
    return nullptr;
  }
  if (!profiles_dir.empty()) {
    if (absl::Status s = (*set)->AddDirectory(profiles_dir); !s.ok()) {
      Fail(std::string(s.message()));
      return nullptr;
    }
  }
  profiles_ = std::move(*set);
  return profiles_.get();
}

int Fail(const std::string& what) {
  std::cerr << "claimgate: " << what << "\n";
  return 2;
}

std::istream* OpenInput(const std::string& path, std::ifstream* file) {
  if (path == "-") return &std::cin;
  file->open(path);
  return *file ? file : nullptr;
}

bool ParseTimeRange(const std::string& from, const std::string& to,
                    std::optional<absl::Time>* from_time, std::optional<absl::Time>* to_time,
                    std::string* error) {
  for (auto [text, slot] : {std::pair{&from, from_time}, std::pair{&to, to_time}}) {
    if (text->empty()) continue;
    absl::StatusOr<absl::Time> t = ledger::ParseRfc3339(*text);
    if (!t.ok()) {
      *error = std::string(t.status().message());
      return false;
    }
    *slot = *t;
  }
  return true;
}

std::string VersionText(const std::string& git_commit) {
  return absl::StrCat(
      "claimgate ", CLAIMGATE_VERSION_STRING, " (commit ", git_commit, ")\nlibrdkafka ",
      RdKafka::version_str(), "\nRocksDB ", rocksdb::GetRocksVersionAsString(), "\nProtobuf ",
      google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
}

std::string ClosestName(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  size_t best_distance = std::min<size_t>(3, word.size());
  for (const std::string& name : names) {
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(name.size() + 1);
    for (size_t j = 0; j <= name.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= name.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                           diagonal + (word[i - 1] == name[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[name.size()] < best_distance) {
      best_distance = row[name.size()];
      best = name;
    }
  }
  return best;
}

StopOnSignal::StopOnSignal(std::function<void(int)> on_first) : signals_(BlockStopSignals()) {
  waiter_ = std::thread([this, on_first = std::move(on_first)] {
    int sig = 0;
    sigwait(&signals_, &sig);
    if (finished_.load()) return;  // released by the destructor
    stop_ = true;
    if (on_first) on_first(sig);
    const auto first = std::chrono::steady_clock::now();
    do {
      sigwait(&signals_, &sig);
      if (finished_.load()) return;
    } while (std::chrono::steady_clock::now() - first < std::chrono::milliseconds(500));
    logging::Write(logging::Level::kWarning, "claimgate",
                   absl::StrCat("second signal ", sig,
                                ", stopping now; the broker aborts any open transaction"));
    std::_Exit(128 + sig);
  });
}

StopOnSignal::~StopOnSignal() {
  finished_ = true;
  pthread_kill(waiter_.native_handle(), SIGTERM);  // release the waiter
  waiter_.join();
}

sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  // A shell starts background jobs with SIGINT ignored; taken with sigwait() it must not be.
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

}  // namespace claimgate::gate
