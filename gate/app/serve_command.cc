// `claimgate serve`: the ledger and/or gate services on Kafka (RunServe, serve.h) until SIGTERM or
// SIGINT, which finish the open transaction. Exit status 2 after a service error.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gate/app/command.h"
#include "gate/app/serve.h"

namespace claimgate::gate {
namespace {

// The options of the run, the state directory made. An error's message is the whole of what Fail
// says.
absl::StatusOr<ServeOptions> ResolveServeOptions(const ServeFlags& flags) {
  absl::StatusOr<ServeOptions> o = ApplyServeFlags(flags);
  if (!o.ok()) return o.status();
  std::error_code made;
  std::filesystem::create_directories(flags.state_dir, made);
  if (made) {
    return absl::InvalidArgumentError("--state-dir " + flags.state_dir + ": " + made.message());
  }
  if (absl::Status s = ValidateServeOptions(*o); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("serve: ", s.message()));
  }
  return o;
}

// RunServe until it ends by itself or a stop signal of `stop_signals` (blocked) asks it to finish.
// A second signal ends the process at once with status 128 + the signal: the open transaction is
// left to the broker (aborted when the next instance with the same transactional id starts, or at
// transaction.timeout.ms), so nothing is lost or decided twice.
absl::Status RunUntilSignal(const ServeOptions& o, const ledger::ProfileSet& profiles,
                            const sigset_t& stop_signals) {
  std::atomic<bool> stop = false, finished = false;
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (finished.load()) return;  // released below: the services ended by themselves
    std::cerr << "claimgate serve: signal " << sig
              << ", finishing the open transaction (a second signal stops at once)\n";
    stop = true;
    sigwait(&stop_signals, &sig);
    if (finished.load()) return;
    std::cerr << "claimgate serve: second signal " << sig
              << ", stopping now; the broker aborts the open transaction\n";
    std::_Exit(128 + sig);
  });
  const absl::Status s = RunServe(o, profiles, stop, std::cerr);
  finished = true;
  pthread_kill(waiter.native_handle(), SIGTERM);  // release the waiter (it waits on either signal)
  waiter.join();
  return s;
}

int RunServeCommand(ServeFlags flags, const CLI::App& serve, Context& context) {
  const ledger::ProfileSet* profiles = context.Profiles();
  if (profiles == nullptr) return 2;
  const sigset_t stop_signals = BlockStopSignals();  // librdkafka's threads inherit the mask
  for (const char* flag : {"--profile", "--mode", "--instance", "--http-token-file"}) {
    if (serve.count(flag) > 0) flags.given.insert(flag);
  }
  if (const char* token = std::getenv("CLAIMGATE_HTTP_TOKEN"); token != nullptr)
    flags.http_token_env = token;
  absl::StatusOr<ServeOptions> options = ResolveServeOptions(flags);
  if (!options.ok()) return Fail(std::string(options.status().message()));
  if (absl::Status s = RunUntilSignal(*options, *profiles, stop_signals); !s.ok()) {
    // RunServe has said which service failed; the supervisor sees a non-zero exit.
    std::cerr << "claimgate serve: exiting with status 2 after an error: " << s.ToString() << "\n";
    return 2;
  }
  return 0;
}

}  // namespace

Command AddServeCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  ServeFlags& f = *flags;
  CLI::App* serve = app.add_subcommand("serve", "run the ledger and/or gate services on Kafka");
  serve->add_option("--bootstrap-servers", f.bootstrap, "HOST:PORT[,...]")->required();
  serve->add_option("--role", f.options.role, "all, ledger or gate")
      ->check(CLI::IsMember({"all", "ledger", "gate"}))
      ->capture_default_str();
  serve
      ->add_option("--state-dir", f.state_dir,
                   "state directory: gate/ (the status store), ledger/ (the ledger's events)")
      ->capture_default_str();
  serve->add_option("--config", f.config_path,
                    "YAML configuration (kafka: librdkafka properties, topics: ...)");
  serve->add_option("--input-format", f.input_format, "json or protobuf")
      ->check(CLI::IsMember({"json", "protobuf"}))
      ->capture_default_str();
  serve->add_option("--output-format", f.output_format, "json or protobuf")
      ->check(CLI::IsMember({"json", "protobuf"}))
      ->capture_default_str();
  serve->add_option("--profile", f.profile, "profile of institutions that name none")
      ->capture_default_str();
  serve->add_option("--mode", f.mode, "enforce or shadow")
      ->check(CLI::IsMember({"enforce", "shadow"}))
      ->capture_default_str();
  serve->add_option("--instance", f.instance, "gate instance id (its transactional.id suffix)")
      ->capture_default_str();
  serve->add_flag("--no-create-topics", f.no_create_topics, "do not create missing topics");
  serve
      ->add_option("--http-address", f.options.http_address,
                   "HOST:PORT of /metrics, /livez, /readyz (empty: none)")
      ->capture_default_str();
  serve->add_option("--http-token-file", f.http_token_file,
                    "file holding the bearer token of GET /v1/persons/{id}/status (config "
                    "http.token_file); without a token or client CA that query is off");
  return {serve, [flags, serve](Context& context) {
            return RunServeCommand(*flags, *serve, context);
          }};
}

}  // namespace claimgate::gate
