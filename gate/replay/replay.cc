#include "gate/replay/replay.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gate/audit/audit_chain.h"
#include "gate/json/json_writer.h"
#include "gate/wire.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/calendar.h"
#include "ledger/digest.h"

namespace claimgate::gate {
namespace {

bool Paid(v1::Decision::Outcome o) { return o == v1::Decision::ACCEPT || o == v1::Decision::FLAG; }

Action ActionFor(v1::Decision::Outcome recorded, v1::Decision::Outcome replayed) {
  if (Paid(recorded) && !Paid(replayed)) return Action::kRecoup;
  if (!Paid(recorded) && Paid(replayed)) return Action::kRefund;
  return Action::kNone;
}

bool SameReasons(const google::protobuf::RepeatedPtrField<v1::Reason>& recorded,
                 const DecisionResult& result) {
  if (recorded.size() != static_cast<int>(result.reasons.size())) return false;
  for (int i = 0; i < recorded.size(); ++i) {
    const DecisionResult::Reason& r = result.reasons[static_cast<size_t>(i)];
    if (recorded[i].code() != r.code || recorded[i].person_id() != r.person_id ||
        recorded[i].item_code() != r.item_code || recorded[i].insured_id() != r.insured_id ||
        recorded[i].traceability_code() != r.traceability_code) {
      return false;
    }
  }
  return true;
}

// The difference line's parts are built key by key into objects of known size: about a third
// cheaper than from initializer lists, which build a pair array per key (replay writes a line for
// every claim that differs, perhaps all of them).
Json ReasonsJson(const std::vector<v1::Reason>& reasons) {
  Json out = Json::array();
  for (const v1::Reason& r : reasons) {
    Json& reason = out.emplace_back(JsonObject(3));
    reason["code"] = v1::ReasonCode_Name(r.code());
    if (!r.person_id().empty()) reason["person_id"] = r.person_id();
    if (!r.item_code().empty()) reason["item_code"] = r.item_code();
    if (!r.insured_id().empty()) reason["insured_id"] = r.insured_id();
    if (!r.traceability_code().empty()) reason["traceability_code"] = r.traceability_code();
  }
  return out;
}

std::string ReasonsText(const std::vector<v1::Reason>& reasons) {
  std::vector<std::string> parts;
  for (const v1::Reason& r : reasons) {
    std::string part = v1::ReasonCode_Name(r.code());
    if (!r.person_id().empty()) absl::StrAppend(&part, ":", r.person_id());
    if (!r.item_code().empty()) absl::StrAppend(&part, ":", r.item_code());
    if (!r.insured_id().empty()) absl::StrAppend(&part, ":", r.insured_id());
    if (!r.traceability_code().empty()) absl::StrAppend(&part, ":", r.traceability_code());
    parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, ";");
}

Json SourceJson(const v1::AuditRecord::Source& s) {
  Json out = JsonObject(3);
  if (!s.topic().empty()) {
    out["topic"] = s.topic();
    out["partition"] = s.partition();
  } else {
    out["file"] = s.file();
  }
  out["offset"] = s.offset();
  return out;
}

Json OutcomeJson(v1::Decision::Outcome outcome, const std::vector<v1::Reason>& reasons) {
  Json out = JsonObject(2);
  out["outcome"] = v1::Decision::Outcome_Name(outcome);
  out["reasons"] = ReasonsJson(reasons);
  return out;
}

std::string SourceText(const v1::AuditRecord::Source& s) {
  if (!s.topic().empty()) return absl::StrCat(s.topic(), "/", s.partition(), "@", s.offset());
  return absl::StrCat(s.file(), ":", s.offset());
}

std::string CsvField(absl::string_view s) {
  if (s.find_first_of(",\"\n\r") == absl::string_view::npos) return std::string(s);
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

}  // namespace

absl::string_view ActionName(Action a) {
  switch (a) {
    case Action::kRecoup:
      return "RECOUP";
    case Action::kRefund:
      return "REFUND";
    case Action::kNone:
      break;
  }
  return "NONE";
}

// Status records as the audit record says the gate saw them (each at its recorded position), or
// as they stand now.
class Replayer::Lookup final : public StatusLookup {
 public:
  Lookup(const ledger::LedgerHistory* history, const v1::AuditRecord* recorded)
      : history_(history), recorded_(recorded) {}
  const ledger::PersonRecord* FindPerson(absl::string_view id) const override {
    if (recorded_ == nullptr) return history_->PersonAt(id, ledger::LedgerHistory::kNow);
    for (const v1::AuditRecord::PractitionerStatus& p : recorded_->practitioners()) {
      if (p.person_id() == id) return history_->PersonAt(id, p.status_position());
    }
    return nullptr;  // not judged when recorded
  }
  const v1::InstitutionStatus* FindInstitution(absl::string_view id) const override {
    return history_->InstitutionAt(
        id, recorded_ == nullptr ? ledger::LedgerHistory::kNow : recorded_->institution_position());
  }
  const v1::InsuredStatus* FindInsured(absl::string_view id) const override {
    return history_->InsuredAt(
        id, recorded_ == nullptr ? ledger::LedgerHistory::kNow : recorded_->insured_position());
  }

 private:
  const ledger::LedgerHistory* history_;
  const v1::AuditRecord* recorded_;  // null: now
};

// The codes a claim found settled before, as its audit record names them: against the record all
// of them, against now those whose first claim has not been reversed since (SPEC §8.3).
class Replayer::RecordedCodes final : public CodeLookup {
 public:
  RecordedCodes(const v1::AuditRecord& recorded,
                const absl::flat_hash_set<std::string>* reversed) {
    for (const v1::AuditRecord::DuplicateCode& d : recorded.duplicate_codes()) {
      if (reversed != nullptr && reversed->contains(d.first_claim_id())) continue;
      codes_.emplace(d.traceability_code(),
                     SettledCode{d.first_claim_id(), d.first_institution_id(),
                                 ledger::FromProto(d.first_service_time()),
                                 absl::InfiniteFuture()});
    }
  }
  const SettledCode* FindSettled(absl::string_view code) const override {
    auto it = codes_.find(code);
    return it == codes_.end() ? nullptr : &it->second;
  }

 private:
  absl::flat_hash_map<std::string, SettledCode> codes_;
};

Replayer::Replayer(const ledger::LedgerHistory* history, const ledger::ProfileSet* profiles,
                   const ledger::Profile* default_profile, Against against)
    : history_(history),
      profiles_(profiles),
      default_profile_(default_profile),
      against_(against) {}

bool Replayer::Replay(const ClaimView& claim, const v1::AuditRecord& recorded,
                      ReplayDifference* diff, bool* reasons_changed) {
  const bool as_recorded = against_ == Against::kRecorded;
  // One context reused claim to claim (its strings keep their capacity).
  DecisionContext& ctx = ctx_;
  ctx.profiles = profiles_;
  const ledger::Profile* named = profiles_->Find(recorded.profile());
  ctx.default_profile = named != nullptr ? named : default_profile_;
  ctx.shadow = recorded.mode() == v1::AuditRecord::SHADOW;
  ctx.status_stale = false;
  if (as_recorded) {
    for (const v1::Reason& r : recorded.reasons()) ctx.status_stale |= r.code() == v1::STATUS_STALE;
  }
  ctx.ledger_position = as_recorded ? recorded.ledger_position() : history_->position();
  ctx.gate_version.assign(recorded.gate_version());
  ctx.event_id.assign(recorded.event_id());
  ctx.source.CopyFrom(recorded.source());
  ctx.processing_time = ledger::FromProto(recorded.processing_time());
  const Lookup lookup(history_, as_recorded ? &recorded : nullptr);
  const RecordedCodes codes(recorded, as_recorded ? nullptr : reversed_);
  ctx.codes = recorded.codes_checked() ? &codes : nullptr;
  DecideView(claim, lookup, ctx, &result_);
  ctx.codes = nullptr;

  if (as_recorded) {
    EncodeAudit(claim, result_, ctx, &replayed_);
    InsertChainFields(&replayed_, recorded.chain_seq(), recorded.prev_hash());
    ledger::DeterministicBytesInto(recorded, &recorded_);
    if (replayed_ == recorded_) return true;
  } else if (result_.outcome == recorded.outcome()) {
    if (reasons_changed != nullptr) *reasons_changed = !SameReasons(recorded.reasons(), result_);
    return true;
  }

  ReplayDifference& d = *diff;
  d = ReplayDifference();
  d.claim_id = std::string(claim.claim_id);
  d.institution_id = std::string(claim.institution_id);
  d.service_time = claim.service_time;
  for (const ClaimView::Item& item : claim.items) d.amount_fen += item.amount_fen;
  d.source = recorded.source();
  d.recorded = recorded.outcome();
  d.replayed = result_.outcome;
  d.recorded_reasons.assign(recorded.reasons().begin(), recorded.reasons().end());
  for (const DecisionResult::Reason& r : result_.reasons) {
    v1::Reason& reason = d.replayed_reasons.emplace_back();
    reason.set_code(r.code);
    reason.set_person_id(std::string(r.person_id));
    reason.set_item_code(std::string(r.item_code));
    reason.set_insured_id(std::string(r.insured_id));
    reason.set_traceability_code(std::string(r.traceability_code));
  }
  d.action = ActionFor(d.recorded, d.replayed);
  if (as_recorded) {
    v1::AuditRecord replayed;
    replayed.ParseFromString(replayed_);
    google::protobuf::util::MessageDifferencer differ;
    std::string report;
    differ.ReportDifferencesToString(&report);
    differ.Compare(recorded, replayed);
    for (absl::string_view line : absl::StrSplit(report, '\n', absl::SkipEmpty()))
      d.fields.emplace_back(line);
  }
  return false;
}

void ReplayTally::Differ(const ReplayDifference& d) {
  ++replayed_;
  if (!d.error.empty()) {
    ++errors_;
    return;
  }
  ++differ_;
  if (d.recorded != d.replayed) {
    ++changes_[absl::StrCat(v1::Decision::Outcome_Name(d.recorded), "->",
                            v1::Decision::Outcome_Name(d.replayed))];
  }
  auto add = [&d](Money& m) {
    if (d.action == Action::kRecoup) {
      ++m.recoup_claims;
      m.recoup_fen += d.amount_fen;
    } else if (d.action == Action::kRefund) {
      ++m.refund_claims;
      m.refund_fen += d.amount_fen;
    }
  };
  add(total_);
  if (d.action != Action::kNone) add(institutions_[d.institution_id]);
}

void ReplayTally::Merge(const ReplayTally& o) {
  replayed_ += o.replayed_;
  same_ += o.same_;
  differ_ += o.differ_;
  errors_ += o.errors_;
  reasons_changed_ += o.reasons_changed_;
  auto add = [](Money& to, const Money& from) {
    to.recoup_claims += from.recoup_claims;
    to.recoup_fen += from.recoup_fen;
    to.refund_claims += from.refund_claims;
    to.refund_fen += from.refund_fen;
  };
  add(total_, o.total_);
  for (const auto& [id, m] : o.institutions_) add(institutions_[id], m);
  for (const auto& [k, n] : o.changes_) changes_[k] += n;
}

std::string ReplayTally::SummaryJson(Against against, double seconds) const {
  Json changes = Json::object();
  for (const auto& [k, n] : changes_) changes[k] = n;
  Json institutions = Json::array();
  for (const auto& [id, m] : institutions_) {
    institutions.push_back({{"institution_id", id},
                            {"recoup_claims", m.recoup_claims},
                            {"recoup_fen", m.recoup_fen},
                            {"refund_claims", m.refund_claims},
                            {"refund_fen", m.refund_fen}});
  }
  const auto money = [](int64_t claims, int64_t fen) {
    return Json{{"claims", claims}, {"amount_fen", fen}};
  };
  return JsonText({{"against", against == Against::kRecorded ? "recorded" : "current"},
                   {"replayed", replayed_},
                   {"same", same_},
                   {"differ", differ_},
                   {"errors", errors_},
                   {"reasons_changed", reasons_changed_},
                   {"recoup", money(total_.recoup_claims, total_.recoup_fen)},
                   {"refund", money(total_.refund_claims, total_.refund_fen)},
                   {"by_outcome_change", std::move(changes)},
                   {"institutions", std::move(institutions)},
                   {"seconds", Fixed(seconds, 3)}});
}

std::string DifferenceJson(const ReplayDifference& d) {
  Json out = JsonObject(10);
  out["claim_id"] = d.claim_id;
  if (!d.error.empty()) {
    out["source"] = SourceJson(d.source);
    out["error"] = d.error;
    return JsonText(out);
  }
  out["institution_id"] = d.institution_id;
  out["service_time"] = ledger::FormatRfc3339(d.service_time);
  out["source"] = SourceJson(d.source);
  out["recorded"] = OutcomeJson(d.recorded, d.recorded_reasons);
  out["replayed"] = OutcomeJson(d.replayed, d.replayed_reasons);
  out["action"] = std::string(ActionName(d.action));
  out["amount_fen"] = d.amount_fen;
  if (!d.fields.empty()) out["differences"] = d.fields;
  return JsonText(out);
}

void ReplayOne(Replayer& replayer, const ClaimView& claim, const v1::AuditRecord& recorded,
               bool csv, ReplayTally* tally, std::string* out) {
  thread_local ReplayDifference diff;
  bool reasons_changed = false;
  if (replayer.Replay(claim, recorded, &diff, &reasons_changed)) {
    tally->Same();
    if (reasons_changed) tally->ReasonsChanged();
    return;
  }
  tally->Differ(diff);
  absl::StrAppend(out, csv ? DifferenceCsv(diff) : DifferenceJson(diff), "\n");
}

void ReplayError(const v1::AuditRecord& recorded, std::string error, bool csv, ReplayTally* tally,
                 std::string* out) {
  ReplayDifference diff;
  diff.claim_id = recorded.claim_id();
  diff.source = recorded.source();
  diff.error = std::move(error);
  tally->Differ(diff);
  absl::StrAppend(out, csv ? DifferenceCsv(diff) : DifferenceJson(diff), "\n");
}

std::string DifferenceCsvHeader() {
  return "claim_id,institution_id,service_time,recorded_outcome,replayed_outcome,action,amount_fen,"
         "recorded_reasons,replayed_reasons,source,error";
}

std::string DifferenceCsv(const ReplayDifference& d) {
  return absl::StrJoin(
      {CsvField(d.claim_id), CsvField(d.institution_id),
       d.error.empty() ? ledger::FormatRfc3339(d.service_time) : std::string(),
       d.error.empty() ? v1::Decision::Outcome_Name(d.recorded) : std::string(),
       d.error.empty() ? v1::Decision::Outcome_Name(d.replayed) : std::string(),
       std::string(ActionName(d.action)), absl::StrCat(d.amount_fen),
       CsvField(ReasonsText(d.recorded_reasons)), CsvField(ReasonsText(d.replayed_reasons)),
       CsvField(SourceText(d.source)), CsvField(d.error)},
      ",");
}

}  // namespace claimgate::gate
