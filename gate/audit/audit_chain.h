// The audit records' hash chain (docs/audit.md): tamper evidence for the audit trail.
//
// A chain is the audit records of one claims partition (the streaming path, whose outputs of claims
// partition p go to claim-audit partition p) or of one `claimgate check` run (one output file).
// Its records are numbered 1, 2, ... (`chain_seq`), and each holds in `prev_hash` the SHA-256 (hex)
// of its predecessor's deterministic Protobuf bytes, chain fields included; the first holds none.
// Editing, deleting, inserting or reordering a record breaks a link that ChainVerifier reports.
// Pure: no I/O.
#ifndef CLAIMGATE_GATE_AUDIT_AUDIT_CHAIN_H_
#define CLAIMGATE_GATE_AUDIT_AUDIT_CHAIN_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "claimgate/v1/decision.pb.h"

namespace claimgate::gate {

// The newest record of a chain: its number and hash. seq 0: the chain is empty.
struct ChainHead {
  int64_t seq = 0;
  std::string hash;
};

// The hash a successor cites: SHA-256 (hex) of the record's deterministic bytes.
std::string ChainHash(const v1::AuditRecord& record);
// The head after `record` (its seq and hash).
ChainHead HeadAfter(const v1::AuditRecord& record);

// Links the next record to `head` and advances `head` to it.
// On an encoded AuditRecord without chain fields, in field-number order (what EncodeAudit writes):
// inserts chain_seq and prev_hash in their place, which keeps the bytes deterministic.
void ChainEncodedAudit(std::string* audit_bytes, ChainHead* head);
// The same insertion with a given link (replay re-links a re-made record as recorded).
void InsertChainFields(std::string* audit_bytes, int64_t seq, absl::string_view prev_hash);
// On a message (the file path).
void ChainAudit(v1::AuditRecord* record, ChainHead* head);

// The chain a record belongs to: "claims/2" (topic/partition of its source) or "file:NAME".
std::string ChainKey(const v1::AuditRecord& record);

// Checks chains link by link. Records are added in stored order (file order, or offset order
// within one topic partition); each goes to the chain ChainKey names.
class ChainVerifier {
 public:
  struct Break {
    std::string chain;
    std::string where;  // "line 12", "claim-audit/0@345"
    int64_t seq = 0;
    std::string problem;
  };
  struct Chain {
    std::string key;
    int64_t records = 0;
    int64_t first_seq = 0;
    int64_t last_seq = 0;
    std::string head_hash;  // hash of the last record: compare with a head kept elsewhere
    int64_t breaks = 0;
  };

  // `partial`: chains may start after seq 1 (a topic read from a time or past retention).
  explicit ChainVerifier(bool partial = false) : partial_(partial) {}

  void Add(const v1::AuditRecord& record, absl::string_view where);
  // A head kept from an earlier verification (a chain line's `last_seq` and `head_hash`, stored
  // where the gate's operators cannot write): the chain must reach `seq`, and the record there must
  // hash to `hash`. This is what shows a chain whose newest records were cut off.
  void ExpectHead(absl::string_view chain, int64_t seq, absl::string_view hash);
  // After the last record: reports kept heads the chains did not reach.
  void Finish();

  // A record that could not be read (not counted), or a decision that contradicts its audit
  // record: a break.
  void AddBroken(absl::string_view chain, absl::string_view where, absl::string_view problem);

  int64_t records() const { return records_; }
  int64_t breaks() const { return breaks_; }
  // The first break in the order records were added; nullopt when every link holds.
  const std::optional<Break>& first_break() const { return first_break_; }
  std::vector<Chain> chains() const;

  // JSON renderings for `claimgate audit verify`.
  static std::string ChainJson(const Chain& chain);
  std::string SummaryJson() const;

 private:
  struct State {
    Chain summary;
    std::string last_where;
  };
  // Counts a break (against `chain` when it has records) and keeps the first.
  void Report(absl::string_view chain, absl::string_view where, int64_t seq, std::string problem);

  struct Expected {
    int64_t seq = 0;
    std::string hash;
    bool reached = false;
  };

  bool partial_;
  std::map<std::string, Expected> expected_;  // chain -> kept head
  int64_t records_ = 0;
  int64_t breaks_ = 0;
  std::optional<Break> first_break_;
  std::map<std::string, State, std::less<>> chains_;
};

// Parses `--expect-head CHAIN=SEQ:HASH`.
absl::Status ParseKeptHead(absl::string_view text, std::string* chain, int64_t* seq,
                           std::string* hash);

// Whether a decision says what its audit record says (claim id, outcome, reasons); the problem
// otherwise.
std::optional<std::string> DecisionContradictsAudit(const v1::Decision& decision);

}  // namespace claimgate::gate

#endif  // CLAIMGATE_GATE_AUDIT_AUDIT_CHAIN_H_
