// `claimgate audit verify`: the hash chains of audit records, from a file (gate/audit/audit_file.h)
// or the audit topic (gate/service/audit_topic.h). Exit status 1 when a chain is broken.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gate/app/command.h"
#include "gate/app/serve_config.h"
#include "gate/audit/audit_file.h"
#include "gate/service/audit_topic.h"

namespace claimgate::gate {
namespace {

struct AuditVerifyFlags {
  std::string input, bootstrap, from, to, config;
  bool topic_given = false;  // --topic on the command line: it wins over the file's topics.audit
  AuditTopicOptions topic;
  bool partial = false;
  std::vector<std::string> heads;
};

int RunAuditVerifyCommand(const AuditVerifyFlags& flags) {
  if (flags.input.empty() == flags.bootstrap.empty())
    return Fail("audit verify: give a file or --bootstrap-servers (one of the two)");
  ChainVerifier verifier(flags.partial || !flags.bootstrap.empty());
  for (const std::string& head : flags.heads) {
    std::string chain, hash;
    int64_t seq = 0;
    if (absl::Status s = ParseKeptHead(head, &chain, &seq, &hash); !s.ok())
      return Fail(std::string(s.message()));
    verifier.ExpectHead(chain, seq, hash);
  }
  absl::Status s;
  if (!flags.config.empty() && flags.bootstrap.empty())
    return Fail("audit verify: --config is for reading the topic (--bootstrap-servers)");
  if (!flags.bootstrap.empty()) {
    AuditTopicOptions topic = flags.topic;
    if (!flags.config.empty()) {
      // serve's configuration file: its kafka: properties (SASL, TLS) and topics.audit.
      ServeOptions config;
      if (absl::Status c = LoadServeConfig(flags.config, &config); !c.ok())
        return Fail(std::string(c.message()));
      topic.kafka = config.gate.kafka;
      if (!flags.topic_given) topic.topic = config.gate.topics.audit;
    }
    topic.kafka.bootstrap_servers = flags.bootstrap;
    std::string bad;
    if (!ParseTimeRange(flags.from, flags.to, &topic.from, &topic.to, &bad))
      return Fail(absl::StrCat("audit verify: ", bad));
    s = VerifyAuditTopic(topic, &verifier);
  } else {
    std::ifstream file;
    std::istream* in = OpenInput(flags.input, &file);
    if (in == nullptr) return Fail("cannot read " + flags.input);
    s = VerifyAuditLines(*in, &verifier);
  }
  if (!s.ok()) return Fail(absl::StrCat("audit verify: ", s.ToString()));
  verifier.Finish();
  for (const auto& chain : verifier.chains()) std::cout << ChainVerifier::ChainJson(chain) << "\n";
  std::cout << verifier.SummaryJson() << std::endl;
  return verifier.breaks() == 0 ? 0 : 1;
}

}  // namespace

Command AddAuditVerifyCommand(CLI::App& app) {
  auto flags = std::make_shared<AuditVerifyFlags>();
  CLI::App* audit = app.add_subcommand("audit", "audit trail tools");
  audit->require_subcommand(1);
  CLI::App* verify =
      audit->add_subcommand("verify", "check the hash chains of audit records (file or topic)");
  verify->add_option("input", flags->input,
                     "decisions as `check` writes them, or audit records, one JSON a line ('-': "
                     "stdin)");
  verify->add_option("--bootstrap-servers", flags->bootstrap, "instead: read the topic");
  verify->add_option("--topic", flags->topic.topic, "audit topic (else --config's topics.audit)")
      ->capture_default_str();
  verify->add_option("--config", flags->config,
                     "serve's YAML configuration: its kafka: properties (SASL, TLS) and topics");
  verify->add_option("--partition", flags->topic.partition, "only this partition");
  verify->add_option("--from", flags->from, "records written at or after (RFC 3339)");
  verify->add_option("--to", flags->to, "records written before (RFC 3339)");
  verify->add_option(
      "--expect-head", flags->heads,
      "CHAIN=SEQ:HASH kept from an earlier run (repeatable): the chain must reach it");
  verify->add_flag("--partial", flags->partial,
                   "a file's chains may start after seq 1 (an excerpt of a longer trail)");
  return {verify, [flags, verify](Context&) {
            flags->topic_given = verify->count("--topic") > 0;
            return RunAuditVerifyCommand(*flags);
          }};
}

}  // namespace claimgate::gate
