// Topic names (SPEC §2), configurable.
#ifndef CLAIMGATE_LEDGER_KAFKA_TOPICS_H_
#define CLAIMGATE_LEDGER_KAFKA_TOPICS_H_

#include <string>

namespace claimgate::kafka {

struct Topics {
  std::string ledger_events = "ledger-events";  // one partition: the ledger's total order
  std::string claims = "claims";
  std::string person_status = "person-status";            // compacted, keyed by person id
  std::string institution_status = "institution-status";  // compacted, keyed by institution id
  std::string decisions = "claim-decisions";
  std::string audit = "claim-audit";
  std::string notices = "ledger-notices";
  std::string dlq = "claims-dlq";
};

// Wire formats of message values.
enum class Format { kProtobuf, kJson };

}  // namespace claimgate::kafka

#endif  // CLAIMGATE_LEDGER_KAFKA_TOPICS_H_
