// The binding file: plain "key=value" lines, compared whole.
#include "gate/service/state_binding.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace claimgate::gate {
namespace {

constexpr char kBindingFile[] = "cluster-binding";

std::map<std::string, std::string> Fields(const StateIdentity& id) {
  const kafka::Topics& t = id.topics;
  return {{"cluster_id", id.cluster_id},
          {"topics.ledger_events", t.ledger_events},
          {"topics.claims", t.claims},
          {"topics.person_status", t.person_status},
          {"topics.institution_status", t.institution_status},
          {"topics.insured_status", t.insured_status},
          {"topics.decisions", t.decisions},
          {"topics.audit", t.audit},
          {"topics.notices", t.notices},
          {"topics.dlq", t.dlq},
          {"topics.code_checks", t.code_checks},
          {"topics.code_results", t.code_results}};
}

absl::StatusOr<std::map<std::string, std::string>> ParseBinding(const std::string& text,
                                                                const std::string& path) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::DataLossError(absl::StrCat(path, ": not a 'key=value' line: '", line, "'"));
    }
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written || rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// Whether the directory holds anything besides the binding file.
bool HoldsState(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().filename() != kBindingFile) return true;
  }
  return false;
}

}  // namespace

std::string RenderStateIdentity(const StateIdentity& identity) {
  std::string out;
  for (const auto& [key, value] : Fields(identity)) absl::StrAppend(&out, key, "=", value, "\n");
  return out;
}

std::string StateBindingPath(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / kBindingFile).string();
}

absl::Status BindStateDirectory(const std::string& state_dir, const StateIdentity& identity,
                                std::ostream& log) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("--state-dir ", state_dir, ": ", ec.message()));
  }
  const std::string path = StateBindingPath(state_dir);
  std::ifstream in(path);
  if (!in) {
    if (std::filesystem::exists(path)) {
      return absl::DataLossError(absl::StrCat("cannot read ", path));
    }
    if (HoldsState(state_dir)) {
      log << "claimgate serve: state directory " << state_dir
          << " has no cluster binding (an earlier version made it); binding it to cluster "
          << identity.cluster_id << "\n";
    }
    return WriteAtomically(path, RenderStateIdentity(identity));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::map<std::string, std::string>> bound = ParseBinding(text.str(), path);
  if (!bound.ok()) return bound.status();
  std::vector<std::string> differ, added;
  for (const auto& [key, value] : Fields(identity)) {
    auto it = bound->find(key);
    if (it == bound->end()) {
      added.push_back(key);  // a topic newer than the version that bound the directory
    } else if (it->second != value) {
      differ.push_back(absl::StrCat(key, " was '", it->second, "', is '", value, "'"));
    }
  }
  if (differ.empty() && !added.empty()) {
    log << "claimgate serve: state directory " << state_dir << " was bound before "
        << absl::StrJoin(added, ", ") << " existed; adding it to the binding\n";
    return WriteAtomically(path, RenderStateIdentity(identity));
  }
  if (differ.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "--state-dir ", state_dir, " was built from another cluster or other topics (",
      absl::StrJoin(differ, "; "),
      "): its ledger events and status records would pass for this cluster's and decide wrongly. "
      "Give an empty --state-dir, or delete this one to rebuild it from the topics "
      "(docs/operations.md, \"Resetting a state directory\")"));
}

absl::StatusOr<std::string> WaitForClusterId(const kafka::ClientConfig& config,
                                             const std::atomic<bool>& stop, std::ostream& log) {
  absl::StatusOr<std::unique_ptr<RdKafka::Producer>> client = kafka::MakeProducer(config, "");
  if (!client.ok()) return client.status();
  for (bool logged = false;; logged = true) {
    absl::StatusOr<std::string> id = kafka::ClusterId(client->get(), 1000);
    if (id.ok() && !id->empty()) return id;
    if (stop.load()) return absl::CancelledError("stopping while waiting for the cluster");
    if (!logged) log << "claimgate serve: waiting for the cluster to answer (its cluster id)\n";
  }
}

}  // namespace claimgate::gate
