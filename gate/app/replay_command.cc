// `claimgate replay`: recorded claims re-decided against the record or the ledger now, from files
// (gate/replay/replay_files.h) or the topics (gate/service/replay_kafka.h). Exit status 1 when a
// decision differs from the record or a claim cannot be replayed.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gate/app/command.h"
#include "gate/app/serve.h"
#include "gate/replay/replay_files.h"
#include "gate/service/replay_kafka.h"

namespace claimgate::gate {
namespace {

struct ReplayFlags {
  ReplayOptions options;
  std::string against = "recorded", format = "json", events, decisions;
  std::string bootstrap, from, to, config, input_format = "protobuf";
};

// What `replay --bootstrap-servers` reads: the topics and Kafka properties of serve's
// configuration file, and the time range. An error's message is the whole of what Fail says.
absl::StatusOr<KafkaReplayOptions> TopicReplayOptions(const ReplayFlags& flags) {
  ServeOptions config;
  if (!flags.config.empty()) {
    if (absl::Status s = LoadServeConfig(flags.config, &config); !s.ok()) return s;
  }
  KafkaReplayOptions ko;
  ko.kafka = config.gate.kafka;
  ko.kafka.bootstrap_servers = flags.bootstrap;
  ko.topics = config.gate.topics;
  ko.input_format = flags.input_format == "json" ? kafka::Format::kJson : kafka::Format::kProtobuf;
  std::string bad;
  if (!ParseTimeRange(flags.from, flags.to, &ko.from, &ko.to, &bad))
    return absl::InvalidArgumentError(absl::StrCat("replay: ", bad));
  return ko;
}

int RunReplayCommand(const ReplayFlags& flags, Context& context) {
  const ledger::ProfileSet* profiles = context.Profiles();
  if (profiles == nullptr) return 2;
  ReplayOptions options = flags.options;
  options.against = flags.against == "current" ? Against::kCurrent : Against::kRecorded;
  options.csv = flags.format == "csv";
  options.progress = &std::cerr;
  const bool files = !flags.events.empty() || !flags.decisions.empty();
  if (files == !flags.bootstrap.empty())
    return Fail("replay: give --events and --decisions, or --bootstrap-servers");
  if (files && (flags.events.empty() || flags.decisions.empty()))
    return Fail("replay: give both --events and --decisions");
  const auto started = std::chrono::steady_clock::now();
  std::ios::sync_with_stdio(false);
  absl::StatusOr<ReplayTally> tally;
  if (files) {
    tally = ReplayFiles(flags.events, flags.decisions, options, *profiles, std::cout);
  } else {
    absl::StatusOr<KafkaReplayOptions> ko = TopicReplayOptions(flags);
    if (!ko.ok()) return Fail(std::string(ko.status().message()));
    ko->replay = options;
    tally = ReplayKafka(*ko, *profiles, std::cout);
  }
  if (!tally.ok()) return Fail(absl::StrCat("replay: ", tally.status().ToString()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  (options.csv ? std::cerr : std::cout) << tally->SummaryJson(options.against, seconds)
                                        << std::endl;
  const bool failed = tally->errors() > 0 ||
                      (options.against == Against::kRecorded && tally->differ() > 0);
  return failed ? 1 : 0;
}

}  // namespace

Command AddReplayCommand(CLI::App& app) {
  auto flags = std::make_shared<ReplayFlags>();
  CLI::App* replay = app.add_subcommand(
      "replay", "re-decide recorded claims: against the record (integrity) or the ledger now");
  replay->add_option("--against", flags->against, "recorded or current")
      ->check(CLI::IsMember({"recorded", "current"}))
      ->required();
  replay->add_option("--events", flags->events, "ledger events and claims (SPEC §7) as decided");
  replay->add_option("--decisions", flags->decisions,
                     "decisions as `claimgate check` wrote them");
  replay->add_option("--format", flags->format, "json (lines) or csv (the recoupment list)")
      ->check(CLI::IsMember({"json", "csv"}))
      ->capture_default_str();
  replay
      ->add_option("--profile", flags->options.default_profile,
                   "profile of institutions that name none (as given to check)")
      ->capture_default_str();
  replay->add_option("--threads", flags->options.threads, "worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  replay
      ->add_option("--progress-seconds", flags->options.progress_seconds,
                   "a progress line on stderr this often")
      ->capture_default_str();
  replay->add_option("--bootstrap-servers", flags->bootstrap,
                     "instead of files: the audit records of a time range on claim-audit");
  replay->add_option("--from", flags->from, "audit records written at or after (RFC 3339)");
  replay->add_option("--to", flags->to, "audit records written before (RFC 3339)");
  replay->add_option("--config", flags->config,
                     "the serve YAML configuration (kafka properties, topic names)");
  replay->add_option("--input-format", flags->input_format, "ledger events and claims, as served")
      ->check(CLI::IsMember({"json", "protobuf"}))
      ->capture_default_str();
  return {replay, [flags](Context& context) { return RunReplayCommand(*flags, context); }};
}

}  // namespace claimgate::gate
