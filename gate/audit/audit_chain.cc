#include "gate/audit/audit_chain.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gate/json/json_writer.h"
#include "gate/wire.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/digest.h"

namespace claimgate::gate {

namespace {
constexpr uint32_t kChainSeqField = 17;
constexpr uint32_t kPrevHashField = 18;
}  // namespace

std::string ChainHash(const v1::AuditRecord& record) {
  thread_local std::string bytes;
  ledger::DeterministicBytesInto(record, &bytes);
  return ledger::Sha256Hex(bytes);
}

ChainHead HeadAfter(const v1::AuditRecord& record) {
  return ChainHead{record.chain_seq(), ChainHash(record)};
}

void InsertChainFields(std::string* audit_bytes, int64_t seq, absl::string_view prev_hash) {
  // The fields are in number order: the chain's two go before the first numbered above them.
  wire::Reader r(*audit_bytes);
  size_t at = audit_bytes->size();
  while (!r.done()) {
    const char* here = r.position();
    uint32_t field = 0;
    wire::WireType type;
    if (!r.ReadTag(&field, &type)) break;
    if (field > kPrevHashField) {
      at = static_cast<size_t>(here - audit_bytes->data());
      break;
    }
    if (!r.Skip(type)) break;
  }
  thread_local std::string link;
  link.clear();
  wire::PutInt(&link, kChainSeqField, seq);
  wire::PutString(&link, kPrevHashField, prev_hash);
  audit_bytes->insert(at, link);
}

void ChainEncodedAudit(std::string* audit_bytes, ChainHead* head) {
  InsertChainFields(audit_bytes, head->seq + 1, head->hash);
  ++head->seq;
  ledger::Sha256HexInto(*audit_bytes, &head->hash);
}

void ChainAudit(v1::AuditRecord* record, ChainHead* head) {
  record->set_chain_seq(head->seq + 1);
  record->set_prev_hash(head->hash);
  *head = HeadAfter(*record);
}

std::string ChainKey(const v1::AuditRecord& record) {
  const v1::AuditRecord::Source& s = record.source();
  if (!s.topic().empty()) return absl::StrCat(s.topic(), "/", s.partition());
  return absl::StrCat("file:", s.file());
}

void ChainVerifier::Report(absl::string_view chain, absl::string_view where, int64_t seq,
                           std::string problem) {
  ++breaks_;
  const auto it = chains_.find(chain);
  if (it != chains_.end()) ++it->second.summary.breaks;
  if (!first_break_.has_value()) {
    first_break_ = Break{std::string(chain), std::string(where), seq, std::move(problem)};
  }
}

void ChainVerifier::Add(const v1::AuditRecord& record, absl::string_view where) {
  ++records_;
  const std::string key = ChainKey(record);
  State& chain = chains_[key];
  Chain& c = chain.summary;
  const int64_t seq = record.chain_seq();
  if (c.records == 0) {
    c.key = key;
    c.first_seq = seq;
    if (seq < 1) {
      Report(key, where, seq, "the record carries no chain_seq (not chained)");
    } else if (seq == 1 && !record.prev_hash().empty()) {
      Report(key, where, seq, "the first record of the chain cites a predecessor");
    } else if (seq > 1 && !partial_) {
      Report(
          key, where, seq,
          absl::StrCat("the chain starts at seq ", seq, ": records 1..", seq - 1, " are missing"));
    }
  } else if (seq == c.last_seq + 1) {
    if (record.prev_hash() != c.head_hash) {
      Report(key, where, seq,
             absl::StrCat("seq ", seq, " cites prev_hash ", record.prev_hash(), " but seq ",
                          c.last_seq, " (", chain.last_where, ") hashes to ", c.head_hash,
                          ": one of the two records was altered"));
    }
  } else if (seq > c.last_seq + 1) {
    Report(
        key, where, seq,
        absl::StrCat("missing: seq ", c.last_seq, " (", chain.last_where, ") is followed by seq ",
                     seq, "; ", seq - c.last_seq - 1, " record(s) missing"));
  } else {
    Report(key, where, seq,
           absl::StrCat("out of order: seq ", seq, " follows seq ", c.last_seq, " (",
                        chain.last_where, ")"));
  }
  ++c.records;
  c.last_seq = seq;
  c.head_hash = ChainHash(record);
  chain.last_where = std::string(where);
  const auto kept = expected_.find(key);
  if (kept != expected_.end() && kept->second.seq == seq) {
    kept->second.reached = true;
    if (kept->second.hash != c.head_hash) {
      Report(key, where, seq,
             absl::StrCat("seq ", seq, " hashes to ", c.head_hash, ", not to the kept head ",
                          kept->second.hash, ": the chain was rewritten up to here"));
    }
  }
}

void ChainVerifier::ExpectHead(absl::string_view chain, int64_t seq, absl::string_view hash) {
  expected_[std::string(chain)] = Expected{seq, std::string(hash), false};
}

void ChainVerifier::Finish() {
  for (auto& [key, kept] : expected_) {
    if (kept.reached) continue;
    kept.reached = true;  // reported once
    const auto it = chains_.find(key);
    const int64_t last = it == chains_.end() ? 0 : it->second.summary.last_seq;
    Report(key, "end", kept.seq,
           last < kept.seq
               ? absl::StrCat("truncated: chain ", key, " ends at seq ", last,
                              " but its kept head is seq ", kept.seq)
               : absl::StrCat("chain ", key, " has no record seq ", kept.seq, " (its kept head)"));
  }
}

absl::Status ParseKeptHead(absl::string_view text, std::string* chain, int64_t* seq,
                           std::string* hash) {
  // CHAIN=SEQ:HASH, e.g. claims/0=1650:9c41...
  const size_t eq = text.rfind('=');
  const size_t colon = text.rfind(':');
  if (eq == absl::string_view::npos || colon == absl::string_view::npos || colon < eq ||
      !absl::SimpleAtoi(text.substr(eq + 1, colon - eq - 1), seq) || *seq < 1 ||
      text.size() - colon - 1 != 64) {
    return absl::InvalidArgumentError(absl::StrCat("--expect-head '", text,
                                                   "': want CHAIN=SEQ:HASH (a chain line's chain, "
                                                   "last_seq and head_hash)"));
  }
  *chain = std::string(text.substr(0, eq));
  *hash = std::string(text.substr(colon + 1));
  return absl::OkStatus();
}

void ChainVerifier::AddBroken(absl::string_view chain, absl::string_view where,
                              absl::string_view problem) {
  Report(chain, where, 0, std::string(problem));
}

std::vector<ChainVerifier::Chain> ChainVerifier::chains() const {
  std::vector<Chain> out;
  for (const auto& [key, state] : chains_) out.push_back(state.summary);
  return out;
}

std::string ChainVerifier::ChainJson(const Chain& c) {
  return JsonText({{"chain", c.key},
                   {"records", c.records},
                   {"first_seq", c.first_seq},
                   {"last_seq", c.last_seq},
                   {"head_hash", c.head_hash},
                   {"breaks", c.breaks},
                   {"expect_head", absl::StrCat(c.key, "=", c.last_seq, ":", c.head_hash)}});
}

std::string ChainVerifier::SummaryJson() const {
  Json out = {{"verified", records_}, {"chains", chains_.size()}, {"breaks", breaks_},
              {"ok", breaks_ == 0}};
  if (first_break_.has_value()) {
    const Break& b = *first_break_;
    out["first_break"] = {
        {"chain", b.chain}, {"where", b.where}, {"seq", b.seq}, {"problem", b.problem}};
  }
  return JsonText(out);
}

std::optional<std::string> DecisionContradictsAudit(const v1::Decision& d) {
  const v1::AuditRecord& a = d.audit();
  if (d.claim_id() != a.claim_id()) {
    return absl::StrCat("the decision's claim_id '", d.claim_id(), "' is not its audit record's '",
                        a.claim_id(), "'");
  }
  if (d.outcome() != a.outcome()) {
    return absl::StrCat("the decision says ", v1::Decision::Outcome_Name(d.outcome()),
                        ", its audit record ", v1::Decision::Outcome_Name(a.outcome()));
  }
  bool same = d.reasons_size() == a.reasons_size();
  for (int i = 0; same && i < d.reasons_size(); ++i) {
    same = google::protobuf::util::MessageDifferencer::Equals(d.reasons(i), a.reasons(i));
  }
  if (!same) return std::string("the decision's reasons are not its audit record's");
  return std::nullopt;
}

}  // namespace claimgate::gate
