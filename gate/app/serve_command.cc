// `claimgate serve`: the ledger and/or gate services on Kafka (RunServe, serve.h) until SIGTERM or
// SIGINT, which finish the open transaction. Exit status 2 after a service error.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "gate/app/command.h"
#include "gate/app/serve.h"
#include "ledger/kafka/logging.h"

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

// RunServe until it ends by itself or a stop signal asks it to finish (a second one ends the
// process at once: the open transaction is left to the broker, aborted when the next instance with
// the same transactional id starts or at transaction.timeout.ms, so nothing is lost or decided
// twice).
absl::Status RunUntilSignal(const ServeOptions& o, const ledger::ProfileSet& profiles,
                            const StopOnSignal& signals) {
  logging::LineLog log;
  return RunServe(o, profiles, signals.stop(), log);
}

int RunServeCommand(ServeFlags flags, const CLI::App& serve, Context& context) {
  const ledger::ProfileSet* profiles = context.Profiles();
  if (profiles == nullptr) return 2;
  const StopOnSignal signals([](int sig) {  // before librdkafka starts a thread
    logging::Write(logging::Level::kInfo, "serve",
                   absl::StrCat("signal ", sig, ", finishing the open transaction (a second ",
                                "signal stops at once)"));
  });
  for (const char* flag : {"--profile", "--mode", "--instance", "--http-token-file"}) {
    if (serve.count(flag) > 0) flags.given.insert(flag);
  }
  if (const char* token = std::getenv("CLAIMGATE_HTTP_TOKEN"); token != nullptr)
    flags.http_token_env = token;
  absl::StatusOr<ServeOptions> options = ResolveServeOptions(flags);
  if (!options.ok()) return Fail(std::string(options.status().message()));
  if (absl::Status s = RunUntilSignal(*options, *profiles, signals); !s.ok()) {
    // RunServe has said which service failed; the supervisor sees a non-zero exit.
    logging::Write(logging::Level::kError, "serve",
                   "exiting with status 2 after an error: " + s.ToString());
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
  serve->add_option("--role", f.options.role, "all, ledger, gate (with its code owner) or codes")
      ->check(CLI::IsMember({"all", "ledger", "gate", "codes"}))
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
