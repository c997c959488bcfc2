// What the subcommands share (command.h).
#include "gate/app/command.h"

#include <iostream>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

sigset_t BlockStopSignals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  return stop;
}

}  // namespace claimgate::gate
