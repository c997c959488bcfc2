// claimgate: the one binary (SPEC §7, DEVELOPERS.md). The only code not linked into tests: it
// parses the command line and runs the one subcommand given (gate/app/*_command.cc).
//
// Exit status (docs/operations.md, "Exit status"): 0 success (and --help, --version); 1 what a
// subcommand reports as a finding (`audit verify` with a broken chain, `replay` with differences);
// 2 a usage error (an unknown subcommand or option, a bad value), unreadable input or a failed
// run; 128 + N after a second stop signal N.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "gate/app/command.h"
#include "ledger/kafka/logging.h"

extern const char kClaimgateGitCommit[];  // generated (cmake/GitCommit.cmake)

namespace {

// An unknown subcommand (`claimgate serv`, `claimgate audit verif`): says so, with the one it was
// likely meant to be; false when every subcommand word is known (the parse error is another one).
bool UnknownSubcommand(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  std::string path = "claimgate";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') {
      if (word == "--profiles-dir" || word == "--log-level" || word == "--log-format") ++i;
      continue;
    }
    std::vector<std::string> shown;  // not the hidden ones
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : current->get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == word) next = sub;
      if (!sub->get_group().empty()) shown.push_back(sub->get_name());
    }
    if (next == nullptr && current->get_subcommands({}).empty()) return false;  // an argument
    if (next == nullptr) {
      const std::string closest = claimgate::gate::ClosestName(word, shown);
      std::cerr << path << ": unknown subcommand '" << word << "'"
                << (closest.empty() ? "" : "; did you mean '" + closest + "'?") << "\nRun '"
                << path << " --help' for the subcommands.\n";
      return true;
    }
    current = next;
    path += " " + word;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using claimgate::gate::Command;
  CLI::App app{"claimgate: real-time claim gate for medical-insurance payment eligibility"};
  app.require_subcommand(1);
  app.fallthrough();  // top-level options (--profiles-dir) may follow the subcommand
  app.set_version_flag("--version", claimgate::gate::VersionText(kClaimgateGitCommit));

  claimgate::gate::Context context;
  app.add_option("--profiles-dir", context.profiles_dir, "extra policy profiles (*.textproto)")
      ->check(CLI::ExistingDirectory);
  std::string log_level = "info", log_format = "text";
  app.add_option("--log-level", log_level, "debug, info, warning or error (standard error)")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  app.add_option("--log-format", log_format, "text, or json (one object a line, for shippers)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  const std::vector<Command> commands = {
      claimgate::gate::AddCheckCommand(app),       claimgate::gate::AddDemoCommand(app),
      claimgate::gate::AddServeCommand(app),       claimgate::gate::AddMockBrokerCommand(app),
      claimgate::gate::AddAuditVerifyCommand(app), claimgate::gate::AddReplayCommand(app),
      claimgate::gate::AddTopicsCommand(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end here with 0; every other parse error is a usage error (2), not
    // CLI11's own codes (105, 106, 109, ...).
    if (e.get_exit_code() == 0) return app.exit(e);
    if (!UnknownSubcommand(app, argc, argv)) app.exit(e);
    return 2;
  }

  claimgate::logging::Options log;
  (void)claimgate::logging::ParseLevel(log_level, &log.level);  // checked by CLI11 above
  log.json = log_format == "json";
  claimgate::logging::Configure(log);

  for (const Command& command : commands) {
    if (command.cli->parsed()) return command.run(context);
  }
  return 0;
}
