// The topic table (topics.h). docs/operations.md "Topics" explains it to operators.
#include "ledger/kafka/topics.h"

#include <cstdlib>

namespace claimgate::kafka {

const std::vector<TopicDefinition>& TopicTable() {
  static const auto* table = new std::vector<TopicDefinition>{
      {&Topics::ledger_events, "ledger_events", "ledger-events", Partitions::kOne,
       // The ledger replays it from offset 0 at every start, and replay needs all of it.
       {{"retention.ms", "-1"}, {"retention.bytes", "-1"}},
       "in: ledger events; its order is the ledger's total order, kept for ever"},
      {&Topics::claims, "claims", "claims", Partitions::kClaims, {}, "in: claims, keyed by id"},
      {&Topics::person_status, "person_status", "person-status", Partitions::kStatus,
       {{"cleanup.policy", "compact"}},  // the newest record of each key is the status
       "ledger -> every gate: status timelines keyed by person id"},
      {&Topics::institution_status, "institution_status", "institution-status",
       Partitions::kStatus, {{"cleanup.policy", "compact"}},
       "ledger -> every gate: status timelines keyed by institution id"},
      {&Topics::insured_status, "insured_status", "insured-status", Partitions::kStatus,
       {{"cleanup.policy", "compact"}},
       "ledger -> every gate: settlement suspensions keyed by insured id (only those ever "
       "suspended)"},
      {&Topics::decisions, "decisions", "claim-decisions", Partitions::kClaims, {},
       "out: one decision a claim"},
      {&Topics::audit, "audit", "claim-audit", Partitions::kClaims, {},
       "out: the hash-chained audit records; keep as long as replay and recoupment need them"},
      {&Topics::notices, "notices", "ledger-notices", Partitions::kOne, {},
       "out: the ledger's notices"},
      {&Topics::dlq, "dlq", "claims-dlq", Partitions::kClaims, {},
       "out: malformed claims, kept whole with the error"},
      {&Topics::code_checks, "code_checks", "code-checks", Partitions::kClaims,
       // The owners' stores are rebuilt from it (docs/duplicate-codes.md): kept for ever, or at
       // least the longest code_retention_years and one year more.
       {{"retention.ms", "-1"}, {"retention.bytes", "-1"}},
       "gates -> code owners: duplicate-code checks keyed by code, claim records keyed by id"},
      {&Topics::code_results, "code_results", "code-results", Partitions::kClaims,
       {{"retention.ms", "86400000"}},  // read within the round trip that asked
       "code owners -> gates: answers, partition = the asking claim's claims partition"},
  };
  return *table;
}

int PartitionCount(Partitions partitions, int claims, int status) {
  switch (partitions) {
    case Partitions::kOne:
      return 1;
    case Partitions::kClaims:
      return claims;
    case Partitions::kStatus:
      return status;
  }
  std::abort();  // not a Partitions value: memory is corrupt
}

Topics::Topics() {
  for (const TopicDefinition& t : TopicTable()) this->*t.field = t.default_name;
}

}  // namespace claimgate::kafka
