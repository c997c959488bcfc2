// SPEC §5: findings per practitioner, institution and item; outcome; shadow mode; the audit record.
#include "gate/decision.h"

#include <algorithm>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "gate/wire.h"
#include "ledger/calendar.h"
#include "ledger/digest.h"
#include "ledger/status_query.h"

namespace claimgate::gate {
namespace {

using ledger::FromProto;
using ledger::SetProto;

bool IsEmergency(v1::Claim::VisitType v) {
  switch (v) {
    case v1::Claim::EMERGENCY:
    case v1::Claim::RESCUE:
      return true;
    case v1::Claim::VISIT_TYPE_UNSPECIFIED:
    case v1::Claim::OUTPATIENT:
    case v1::Claim::INPATIENT:
    case v1::Claim::RETAIL:
      return false;
    case v1::Claim_VisitType_Claim_VisitType_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::Claim_VisitType_Claim_VisitType_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return false;
}

// A set for de-duplication, linear in the claim's size: a scan of an inline array while small (no
// allocation on the hot path), a hash set once past kInline entries (a claim of 100,000 items).
template <typename Key>
class SeenSet {
 public:
  // True when `key` was not in the set (and is now).
  bool Insert(const Key& key) {
    if (hashed_.empty()) {
      if (std::find(inline_.begin(), inline_.end(), key) != inline_.end()) return false;
      if (inline_.size() < kInline) {
        inline_.push_back(key);
        return true;
      }
      hashed_.insert(inline_.begin(), inline_.end());
    }
    return hashed_.insert(key).second;
  }

 private:
  static constexpr size_t kInline = 16;
  absl::InlinedVector<Key, kInline> inline_;
  absl::flat_hash_set<Key> hashed_;
};

// The reasons of one decision, each (code, person, item, insured, traceability code) once, in the
// order first found.
class Reasons {
 public:
  explicit Reasons(DecisionResult& d) : d_(d) {}
  void Add(v1::ReasonCode code, absl::string_view person_id, absl::string_view item_code = {}) {
    Add({code, person_id, item_code, {}, {}});
  }
  void Add(const DecisionResult::Reason& r) {
    // An insured id and a traceability code never share a reason: one key column holds either.
    if (seen_.Insert({r.code, r.person_id, r.item_code,
                      r.insured_id.empty() ? r.traceability_code : r.insured_id})) {
      d_.reasons.push_back(r);
    }
  }

 private:
  DecisionResult& d_;
  SeenSet<std::tuple<int, absl::string_view, absl::string_view, absl::string_view>> seen_;
};

bool HasValidCode(const ClaimView::Item& item) {
  for (absl::string_view c : item.traceability_codes) {
    if (IsValidTraceabilityCode(c)) return true;
  }
  return false;
}

}  // namespace

bool IsRejecting(v1::ReasonCode code, const ledger::Profile& profile) {
  switch (code) {
    case v1::PRACTITIONER_NOT_REGISTERED:
    case v1::NO_SERVICE_COMMITMENT:
    case v1::PRACTITIONER_SUSPENDED:
    case v1::PRACTITIONER_TERMINATED:
    case v1::INSTITUTION_AGREEMENT_SUSPENDED:
    case v1::INSTITUTION_AGREEMENT_TERMINATED:
    case v1::MISSING_TRACEABILITY_CODE:
    case v1::INSURED_SETTLEMENT_SUSPENDED:
    case v1::INSTITUTION_SETTLEMENT_SUSPENDED:
      return true;
    case v1::DUPLICATE_TRACEABILITY_CODE:
      return profile.duplicate_code_rejects();
    case v1::REASON_CODE_UNSPECIFIED:
    case v1::EMERGENCY_EXEMPTION:
    case v1::STATUS_STALE:
    case v1::SHADOW_REJECT:
    case v1::SERVICE_TIME_AFTER_SUBMISSION:
      return false;
    case v1::ReasonCode_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::ReasonCode_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  return false;
}

bool IsValidTraceabilityCode(absl::string_view code) {
  return code.size() == 20 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const ledger::Profile& ProfileFor(const v1::InstitutionStatus* institution,
                                  const DecisionContext& ctx) {
  if (institution != nullptr && !institution->profile().empty()) {
    if (const ledger::Profile* p = ctx.profiles->Find(institution->profile())) return *p;
  }
  return *ctx.default_profile;
}

namespace {

// The phases of DecideView, in its order; each adds its reasons.

// Practitioners, in claim order; a person listed twice is judged once.
void JudgePractitioners(const ClaimView& claim, const StatusLookup& status, int year,
                        bool emergency, Reasons& reasons, DecisionResult& d) {
  const absl::Time t = claim.service_time;
  SeenSet<absl::string_view> judged;
  for (const ClaimView::Practitioner& pr : claim.practitioners) {
    if (!judged.Insert(pr.person_id)) continue;
    const ledger::PersonRecord* person = status.FindPerson(pr.person_id);
    const ledger::Standing standing = ledger::StandingAt(person, claim.institution_id, t);

    DecisionResult::PractitionerUsed& used = d.practitioners.emplace_back();
    used.person_id = pr.person_id;
    used.role = pr.role;
    used.state = standing.sanction.state;
    used.since = standing.sanction.since;
    used.until = standing.sanction.until;
    used.year_points = person == nullptr ? 0 : ledger::YearTotalAt(*person, year, t);
    used.status_position = person == nullptr ? 0 : person->ledger_position();

    auto find = [&](v1::ReasonCode code) {
      if (used.finding == v1::REASON_CODE_UNSPECIFIED) used.finding = code;
      reasons.Add(code, pr.person_id);
    };
    if (standing.registration == v1::PRACTITIONER_NOT_REGISTERED) {
      find(v1::PRACTITIONER_NOT_REGISTERED);
      continue;
    }
    if (standing.registration == v1::NO_SERVICE_COMMITMENT) find(v1::NO_SERVICE_COMMITMENT);
    switch (standing.sanction.state) {
      case v1::PersonStatus::SUSPENDED:
        find(emergency ? v1::EMERGENCY_EXEMPTION : v1::PRACTITIONER_SUSPENDED);
        break;
      case v1::PersonStatus::TERMINATED:
        find(emergency ? v1::EMERGENCY_EXEMPTION : v1::PRACTITIONER_TERMINATED);
        break;
      case v1::PersonStatus::NORMAL:
      case v1::PersonStatus::STATE_UNSPECIFIED:
        break;
      case v1::PersonStatus_State_PersonStatus_State_INT_MIN_SENTINEL_DO_NOT_USE_:
      case v1::PersonStatus_State_PersonStatus_State_INT_MAX_SENTINEL_DO_NOT_USE_:
        break;
    }
  }
}

// The institution's agreement.
void JudgeInstitution(const v1::InstitutionStatus* inst, const ledger::Profile& profile,
                      absl::Time t, bool emergency, Reasons& reasons, DecisionResult& d) {
  d.institution_agreement = ledger::AgreementAt(inst, t);
  d.institution_position = inst == nullptr ? 0 : inst->ledger_position();
  const bool institution_exempt = emergency && profile.proto().institution_emergency_exempt();
  switch (d.institution_agreement) {
    case v1::AgreementChanged::SUSPENDED:
      reasons.Add(
          institution_exempt ? v1::EMERGENCY_EXEMPTION : v1::INSTITUTION_AGREEMENT_SUSPENDED, "");
      break;
    case v1::AgreementChanged::TERMINATED:
      reasons.Add(
          institution_exempt ? v1::EMERGENCY_EXEMPTION : v1::INSTITUTION_AGREEMENT_TERMINATED, "");
      break;
    case v1::AgreementChanged::ACTIVE:
    case v1::AgreementChanged::STATE_UNSPECIFIED:
      break;
    case v1::AgreementChanged_State_AgreementChanged_State_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::AgreementChanged_State_AgreementChanged_State_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
}

// Traceability codes (无码不付).
void CheckTraceability(const ClaimView& claim, const v1::InstitutionStatus* inst,
                       const ledger::Profile& profile, Reasons& reasons) {
  const bool kind_covered = claim.kind != v1::Claim::PRESCRIPTION ||
                            profile.proto().traceability_applies_to_prescriptions();
  if (kind_covered && inst != nullptr &&
      profile.TraceabilityMandated(inst->kind(), inst->level(), claim.service_time)) {
    for (const ClaimView::Item& item : claim.items) {
      if (item.category == v1::Claim::Item::DRUG && !HasValidCode(item)) {
        reasons.Add(v1::MISSING_TRACEABILITY_CODE, "", item.item_code);
      }
    }
  }
}

// The institution's settlement suspensions (SPEC §8.2): one finding however many apply.
void JudgeSettlement(const ClaimView& claim, const v1::InstitutionStatus* inst,
                     const ledger::Profile& profile, bool emergency, Reasons& reasons) {
  if (inst == nullptr) return;
  const absl::Time t = claim.service_time;
  for (const v1::InstitutionStatus::SettlementSuspension& s : inst->settlement_suspensions()) {
    if (t < FromProto(s.since()) || (s.has_until() && t >= FromProto(s.until()))) continue;
    const bool affected = s.scope() != v1::SettlementSuspended::NONLOCAL ||
                          (!claim.insured_region.empty() && claim.insured_region != inst->region());
    if (!affected) continue;
    reasons.Add(emergency && profile.settlement_suspension_emergency_exempt()
                    ? v1::EMERGENCY_EXEMPTION
                    : v1::INSTITUTION_SETTLEMENT_SUSPENDED,
                "");
    return;
  }
}

// The insured person's settlement suspensions (SPEC §8.1).
void JudgeInsured(const ClaimView& claim, const StatusLookup& status,
                  const ledger::Profile& profile, bool emergency, Reasons& reasons,
                  DecisionResult& d) {
  d.insured_position = 0;
  if (claim.insured_id.empty()) return;
  const v1::InsuredStatus* insured = status.FindInsured(claim.insured_id);
  if (insured == nullptr) return;
  d.insured_position = insured->ledger_position();
  const absl::Time t = claim.service_time;
  for (const v1::InsuredStatus::Suspension& s : insured->suspensions()) {
    if (t < FromProto(s.since()) || t >= FromProto(s.until())) continue;
    reasons.Add({emergency && profile.insured_emergency_exempt() ? v1::EMERGENCY_EXEMPTION
                                                                 : v1::INSURED_SETTLEMENT_SUSPENDED,
                 {}, {}, claim.insured_id, {}});
    return;
  }
}

// Codes another claim settled before (SPEC §8.3): each code once, however often presented.
// The claim that settled `code` first, when it is another claim and the code is still remembered
// at this claim's service time; else null.
const SettledCode* HeldByAnother(const CodeLookup& codes, const ClaimView& claim,
                                 absl::string_view code) {
  const SettledCode* held = codes.FindSettled(code);
  if (held == nullptr || held->claim_id == claim.claim_id ||
      !Remembered(*held, claim.service_time)) {
    return nullptr;
  }
  return held;
}

void CheckDuplicateCodes(const ClaimView& claim, const CodeLookup* codes,
                         const ledger::Profile& profile, Reasons& reasons, DecisionResult& d) {
  d.duplicates.clear();
  d.codes_checked = false;
  if (codes == nullptr || claim.kind != v1::Claim::SETTLEMENT) return;
  for (const ClaimView::Item& item : claim.items) {
    for (absl::string_view code : item.traceability_codes) {
      if (!CodeSettles(claim, item, code, profile)) continue;
      d.codes_checked = true;
      const SettledCode* first = HeldByAnother(*codes, claim, code);
      if (first == nullptr) continue;
      const size_t before = d.reasons.size();
      reasons.Add({v1::DUPLICATE_TRACEABILITY_CODE, {}, {}, {}, code});
      if (d.reasons.size() != before) d.duplicates.push_back({code, first});
    }
  }
}

// The codes a paid SETTLEMENT claim settles: those no other claim holds (SPEC §8.3).
void SettledBy(const ClaimView& claim, const CodeLookup* codes, const ledger::Profile& profile,
               DecisionResult& d) {
  d.settled_codes.clear();
  if (codes == nullptr || claim.kind != v1::Claim::SETTLEMENT ||
      !IsPaid(d.outcome)) {
    return;
  }
  SeenSet<absl::string_view> seen;
  for (const ClaimView::Item& item : claim.items) {
    for (absl::string_view code : item.traceability_codes) {
      if (!CodeSettles(claim, item, code, profile) || !seen.Insert(code)) continue;
      if (HeldByAnother(*codes, claim, code) == nullptr) d.settled_codes.push_back(code);
    }
  }
}

// A service time later than the submission allows (SPEC §8.4).
void CheckSubmission(const ClaimView& claim, const ledger::Profile& profile, Reasons& reasons) {
  if (claim.has_submitted && claim.has_service_time &&
      claim.service_time > claim.submitted + profile.future_service_tolerance()) {
    reasons.Add(v1::SERVICE_TIME_AFTER_SUBMISSION, "");
  }
}

// The outcome from the reasons found; in shadow mode a rejection is a flag, said so.
void Conclude(const DecisionContext& ctx, const ledger::Profile& profile, Reasons& reasons,
              DecisionResult& d) {
  bool reject = false, flag = false;
  for (const DecisionResult::Reason& r : d.reasons) {
    if (IsRejecting(r.code, profile)) {
      reject = true;
    } else {
      flag = true;
    }
  }
  d.shadow = ctx.shadow || profile.proto().shadow();
  if (reject && d.shadow) {
    reasons.Add(v1::SHADOW_REJECT, "");
    d.outcome = v1::Decision::FLAG;
  } else {
    d.outcome = reject ? v1::Decision::REJECT : flag ? v1::Decision::FLAG : v1::Decision::ACCEPT;
  }
}

}  // namespace

void DecideView(const ClaimView& claim, const StatusLookup& status, const DecisionContext& ctx,
                DecisionResult* out) {
  DecisionResult& d = *out;
  d.reasons.clear();
  d.practitioners.clear();

  const v1::InstitutionStatus* inst = status.FindInstitution(claim.institution_id);
  const ledger::Profile& profile = ProfileFor(inst, ctx);
  d.profile = &profile;
  const bool emergency = IsEmergency(static_cast<v1::Claim::VisitType>(claim.visit_type));
  const int year = profile.calendar().YearOf(claim.service_time);

  Reasons reasons(d);
  JudgePractitioners(claim, status, year, emergency, reasons, d);
  JudgeInstitution(inst, profile, claim.service_time, emergency, reasons, d);
  JudgeSettlement(claim, inst, profile, emergency, reasons);
  JudgeInsured(claim, status, profile, emergency, reasons, d);
  CheckTraceability(claim, inst, profile, reasons);
  CheckDuplicateCodes(claim, ctx.codes, profile, reasons, d);
  CheckSubmission(claim, profile, reasons);
  if (ctx.status_stale) reasons.Add(v1::STATUS_STALE, "");
  Conclude(ctx, profile, reasons, d);
  SettledBy(claim, ctx.codes, profile, d);
}

void ClaimDigestHex(const ClaimView& claim, std::string* hex) {
  thread_local std::string canonical;
  CanonicalClaimBytes(claim, &canonical);
  ledger::Sha256HexInto(canonical, hex);
}

void ToDecisionProto(const ClaimView& claim, const DecisionResult& r, const DecisionContext& ctx,
                     v1::Decision* out) {
  v1::Decision& d = *out;
  d.Clear();
  d.set_claim_id(std::string(claim.claim_id));
  d.set_outcome(r.outcome);
  for (const DecisionResult::Reason& reason : r.reasons) {
    v1::Reason* p = d.add_reasons();
    p->set_code(reason.code);
    p->set_person_id(std::string(reason.person_id));
    p->set_item_code(std::string(reason.item_code));
    p->set_insured_id(std::string(reason.insured_id));
    p->set_traceability_code(std::string(reason.traceability_code));
  }
  v1::AuditRecord& audit = *d.mutable_audit();
  audit.set_claim_id(std::string(claim.claim_id));
  audit.set_event_id(
      std::string(claim.event_id.empty() ? absl::string_view(ctx.event_id) : claim.event_id));
  audit.set_outcome(r.outcome);
  *audit.mutable_reasons() = d.reasons();
  for (const DecisionResult::PractitionerUsed& u : r.practitioners) {
    v1::AuditRecord::PractitionerStatus* used = audit.add_practitioners();
    used->set_person_id(std::string(u.person_id));
    used->set_role(static_cast<v1::Claim::Practitioner::Role>(u.role));
    used->set_state(u.state);
    if (u.since != absl::InfinitePast()) SetProto(u.since, used->mutable_since());
    if (u.until != absl::InfiniteFuture()) SetProto(u.until, used->mutable_until());
    used->set_year_points(u.year_points);
    used->set_finding(u.finding);
    used->set_status_position(u.status_position);
  }
  audit.set_institution_agreement(r.institution_agreement);
  audit.set_ledger_position(ctx.ledger_position);
  audit.set_profile(r.profile->name());
  audit.set_profile_digest(r.profile->digest());
  audit.set_gate_version(ctx.gate_version);
  ClaimDigestHex(claim, audit.mutable_claim_digest());
  *audit.mutable_source() = ctx.source;
  SetProto(ctx.processing_time, audit.mutable_processing_time());
  if (claim.has_service_time) SetProto(claim.service_time, audit.mutable_service_time());
  audit.set_mode(r.shadow ? v1::AuditRecord::SHADOW : v1::AuditRecord::ENFORCE);
  audit.set_institution_position(r.institution_position);
  audit.set_insured_position(r.insured_position);
  for (const DecisionResult::Duplicate& dup : r.duplicates) {
    v1::AuditRecord::DuplicateCode* p = audit.add_duplicate_codes();
    p->set_traceability_code(std::string(dup.code));
    p->set_first_claim_id(dup.first->claim_id);
    p->set_first_institution_id(dup.first->institution_id);
    SetProto(dup.first->service_time, p->mutable_first_service_time());
  }
  for (absl::string_view code : r.settled_codes) audit.add_settled_codes(std::string(code));
  audit.set_codes_checked(r.codes_checked);
}

namespace {

void EncodeReason(const DecisionResult::Reason& reason, wire::Out& o, uint32_t field) {
  const size_t m = o.Begin(field);
  o.Int(1, reason.code);
  o.String(2, reason.person_id);
  o.String(3, reason.item_code);
  o.String(4, reason.insured_id);
  o.String(5, reason.traceability_code);
  o.End(m);
}

}  // namespace

void EncodeDecision(const ClaimView& claim, const DecisionResult& r, std::string* out) {
  out->clear();
  wire::Out o(out);
  o.String(1, claim.claim_id);
  o.Int(2, r.outcome);
  for (const DecisionResult::Reason& reason : r.reasons) EncodeReason(reason, o, 3);
}

void EncodeAudit(const ClaimView& claim, const DecisionResult& r, const DecisionContext& ctx,
                 std::string* out) {
  thread_local std::string digest;
  ClaimDigestHex(claim, &digest);
  EncodeAudit(claim, r, ctx, digest, out);
}

void EncodeAudit(const ClaimView& claim, const DecisionResult& r, const DecisionContext& ctx,
                 absl::string_view digest, std::string* out) {
  out->clear();
  wire::Out o(out);
  o.String(1, claim.claim_id);
  o.String(2, claim.event_id.empty() ? absl::string_view(ctx.event_id) : claim.event_id);
  o.Int(3, r.outcome);
  for (const DecisionResult::Reason& reason : r.reasons) EncodeReason(reason, o, 4);
  for (const DecisionResult::PractitionerUsed& u : r.practitioners) {
    const size_t m = o.Begin(5);
    o.String(1, u.person_id);
    o.Int(2, u.role);
    o.Int(3, u.state);
    if (u.since != absl::InfinitePast()) o.Timestamp(4, u.since);
    if (u.until != absl::InfiniteFuture()) o.Timestamp(5, u.until);
    o.Int(6, u.year_points);
    o.Int(7, u.finding);
    o.Int(8, u.status_position);
    o.End(m);
  }
  o.Int(6, r.institution_agreement);
  o.Int(7, ctx.ledger_position);
  o.String(8, r.profile->name());
  o.String(9, r.profile->digest());
  o.String(10, ctx.gate_version);
  o.String(11, digest);
  const size_t source = o.Begin(12);
  o.String(1, ctx.source.topic());
  o.Int(2, ctx.source.partition());
  o.Int(3, ctx.source.offset());
  o.String(4, ctx.source.file());
  o.End(source);
  o.Timestamp(13, ctx.processing_time);
  if (claim.has_service_time) o.Timestamp(14, claim.service_time);
  o.Int(15, r.shadow ? v1::AuditRecord::SHADOW : v1::AuditRecord::ENFORCE);
  o.Int(16, r.institution_position);
  // 17 and 18 (the chain) are the chain's to write.
  o.Int(19, r.insured_position);
  for (const DecisionResult::Duplicate& dup : r.duplicates) {
    const size_t m = o.Begin(20);
    o.String(1, dup.code);
    o.String(2, dup.first->claim_id);
    o.String(3, dup.first->institution_id);
    o.Timestamp(4, dup.first->service_time);
    o.End(m);
  }
  // Repeated strings are written even when empty.
  for (absl::string_view code : r.settled_codes) o.Len(23, code);
  o.Int(24, r.codes_checked ? 1 : 0);
}

v1::Decision Decide(const v1::Event& event, const StatusLookup& status,
                    const DecisionContext& ctx) {
  ClaimView view;
  ViewEvent(event, &view);
  DecisionResult result;
  DecideView(view, status, ctx, &result);
  v1::Decision d;
  ToDecisionProto(view, result, ctx, &d);
  return d;
}

v1::Decision Decide(const v1::Claim& claim, const StatusLookup& status,
                    const DecisionContext& ctx) {
  ClaimView view;
  ViewClaim(claim, ctx.event_id, &view);
  DecisionResult result;
  DecideView(view, status, ctx, &result);
  v1::Decision d;
  ToDecisionProto(view, result, ctx, &d);
  return d;
}

void ToReversalProto(const v1::Event& event, absl::Span<const std::string> released,
                     const DecisionContext& ctx, v1::Decision* out) {
  const v1::ClaimReversed& body = event.claim_reversed();
  out->Clear();
  out->set_claim_id(body.claim_id());
  out->set_outcome(v1::Decision::REVERSED);
  v1::AuditRecord& audit = *out->mutable_audit();
  audit.set_claim_id(body.claim_id());
  audit.set_event_id(event.event_id());
  audit.set_outcome(v1::Decision::REVERSED);
  audit.set_ledger_position(ctx.ledger_position);
  audit.set_gate_version(ctx.gate_version);
  audit.set_claim_digest(ledger::Sha256Hex(ledger::DeterministicBytes(event)));
  *audit.mutable_source() = ctx.source;
  ledger::SetProto(ctx.processing_time, audit.mutable_processing_time());
  audit.set_mode(ctx.shadow ? v1::AuditRecord::SHADOW : v1::AuditRecord::ENFORCE);
  audit.set_reversal_reason(body.reason());
  for (const std::string& code : released) audit.add_released_codes(code);
}

}  // namespace claimgate::gate
