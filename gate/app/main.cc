// claimgate: the one binary (SPEC §7, DEVELOPERS.md). The only code not linked into tests: it
// parses the command line and runs the one subcommand given (gate/app/*_command.cc).
#include <vector>

#include "CLI/CLI.hpp"
#include "gate/app/command.h"
#include "gate/check/check.h"

int main(int argc, char** argv) {
  using claimgate::gate::Command;
  CLI::App app{"claimgate: real-time claim gate for medical-insurance payment eligibility"};
  app.require_subcommand(1);
  app.fallthrough();  // top-level options (--profiles-dir) may follow the subcommand
  app.set_version_flag("--version", claimgate::gate::GateVersion());

  claimgate::gate::Context context;
  app.add_option("--profiles-dir", context.profiles_dir, "extra policy profiles (*.textproto)")
      ->check(CLI::ExistingDirectory);
  const std::vector<Command> commands = {
      claimgate::gate::AddCheckCommand(app),       claimgate::gate::AddDemoCommand(app),
      claimgate::gate::AddServeCommand(app),       claimgate::gate::AddMockBrokerCommand(app),
      claimgate::gate::AddAuditVerifyCommand(app), claimgate::gate::AddReplayCommand(app),
      claimgate::gate::AddTopicsCommand(app),
  };
  CLI11_PARSE(app, argc, argv);

  for (const Command& command : commands) {
    if (command.cli->parsed()) return command.run(context);
  }
  return 0;
}
