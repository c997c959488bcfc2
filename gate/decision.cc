// SPEC §5: findings per practitioner, institution and item; outcome; shadow mode; the audit record.
#include "gate/decision.h"

#include <algorithm>
#include <vector>

#include "absl/container/inlined_vector.h"
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

void AddReason(v1::Decision& d, v1::ReasonCode code, absl::string_view person_id,
               absl::string_view item_code = {}) {
  for (const v1::Reason& r : d.reasons()) {
    if (r.code() == code && r.person_id() == person_id && r.item_code() == item_code) return;
  }
  v1::Reason* r = d.add_reasons();
  r->set_code(code);
  r->set_person_id(std::string(person_id));
  r->set_item_code(std::string(item_code));
}

}  // namespace

bool IsRejecting(v1::ReasonCode code) {
  switch (code) {
    case v1::PRACTITIONER_NOT_REGISTERED:
    case v1::NO_SERVICE_COMMITMENT:
    case v1::PRACTITIONER_SUSPENDED:
    case v1::PRACTITIONER_TERMINATED:
    case v1::INSTITUTION_AGREEMENT_SUSPENDED:
    case v1::INSTITUTION_AGREEMENT_TERMINATED:
    case v1::MISSING_TRACEABILITY_CODE:
      return true;
    case v1::REASON_CODE_UNSPECIFIED:
    case v1::EMERGENCY_EXEMPTION:
    case v1::STATUS_STALE:
    case v1::SHADOW_REJECT:
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

v1::Decision Decide(const v1::Claim& claim, const StatusLookup& status, const DecisionContext& ctx) {
  v1::Decision d;
  DecideInto(claim, status, ctx, &d);
  return d;
}

void DecideInto(const v1::Claim& claim, const StatusLookup& status, const DecisionContext& ctx,
                v1::Decision* out) {
  v1::Decision& d = *out;
  d.Clear();
  d.set_claim_id(claim.claim_id());
  v1::AuditRecord& audit = *d.mutable_audit();

  const v1::InstitutionStatus* inst = status.FindInstitution(claim.institution_id());
  const ledger::Profile& profile = ProfileFor(inst, ctx);
  const absl::Time t = FromProto(claim.service_time());
  const bool emergency = IsEmergency(claim.visit_type());
  const int year = profile.calendar().YearOf(t);

  // Practitioners, in claim order; a person listed twice is judged once.
  absl::InlinedVector<absl::string_view, 4> seen;
  for (const v1::Claim::Practitioner& pr : claim.practitioners()) {
    if (std::find(seen.begin(), seen.end(), pr.person_id()) != seen.end()) continue;
    seen.push_back(pr.person_id());
    const v1::PersonStatus* person = status.FindPerson(pr.person_id());
    const ledger::Standing standing = ledger::StandingAt(person, claim.institution_id(), t);

    v1::AuditRecord::PractitionerStatus* used = audit.add_practitioners();
    used->set_person_id(pr.person_id());
    used->set_role(pr.role());
    used->set_state(standing.sanction.state);
    if (standing.sanction.since != absl::InfinitePast()) {
      SetProto(standing.sanction.since, used->mutable_since());
    }
    if (standing.sanction.until != absl::InfiniteFuture()) {
      SetProto(standing.sanction.until, used->mutable_until());
    }
    used->set_year_points(person == nullptr ? 0 : ledger::YearTotalAt(*person, year, t));

    v1::ReasonCode finding = v1::REASON_CODE_UNSPECIFIED;
    auto find = [&](v1::ReasonCode code) {
      if (finding == v1::REASON_CODE_UNSPECIFIED) finding = code;
      AddReason(d, code, pr.person_id());
    };
    if (standing.registration == v1::PRACTITIONER_NOT_REGISTERED) {
      find(v1::PRACTITIONER_NOT_REGISTERED);
    } else {
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
    used->set_finding(finding);
  }

  // The institution's agreement.
  const v1::AgreementChanged::State agreement = ledger::AgreementAt(inst, t);
  audit.set_institution_agreement(agreement);
  const bool institution_exempt = emergency && profile.proto().institution_emergency_exempt();
  switch (agreement) {
    case v1::AgreementChanged::SUSPENDED:
      AddReason(d, institution_exempt ? v1::EMERGENCY_EXEMPTION : v1::INSTITUTION_AGREEMENT_SUSPENDED,
                "");
      break;
    case v1::AgreementChanged::TERMINATED:
      AddReason(d, institution_exempt ? v1::EMERGENCY_EXEMPTION : v1::INSTITUTION_AGREEMENT_TERMINATED,
                "");
      break;
    case v1::AgreementChanged::ACTIVE:
    case v1::AgreementChanged::STATE_UNSPECIFIED:
      break;
    case v1::AgreementChanged_State_AgreementChanged_State_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::AgreementChanged_State_AgreementChanged_State_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }

  // Traceability codes (无码不付).
  const bool kind_covered =
      claim.kind() != v1::Claim::PRESCRIPTION || profile.proto().traceability_applies_to_prescriptions();
  if (kind_covered && inst != nullptr && profile.TraceabilityMandated(inst->kind(), inst->level(), t)) {
    for (const v1::Claim::Item& item : claim.items()) {
      if (item.category() != v1::Claim::Item::DRUG) continue;
      const bool coded = std::any_of(item.traceability_codes().begin(), item.traceability_codes().end(),
                                     [](const std::string& c) { return IsValidTraceabilityCode(c); });
      if (!coded) AddReason(d, v1::MISSING_TRACEABILITY_CODE, "", item.item_code());
    }
  }

  if (ctx.status_stale) AddReason(d, v1::STATUS_STALE, "");

  bool reject = false, flag = false;
  for (const v1::Reason& r : d.reasons()) {
    if (IsRejecting(r.code())) {
      reject = true;
    } else {
      flag = true;
    }
  }
  const bool shadow = ctx.shadow || profile.proto().shadow();
  if (reject && shadow) {
    AddReason(d, v1::SHADOW_REJECT, "");
    d.set_outcome(v1::Decision::FLAG);
  } else {
    d.set_outcome(reject ? v1::Decision::REJECT : flag ? v1::Decision::FLAG : v1::Decision::ACCEPT);
  }

  audit.set_claim_id(claim.claim_id());
  audit.set_event_id(ctx.event_id);
  audit.set_outcome(d.outcome());
  *audit.mutable_reasons() = d.reasons();
  audit.set_ledger_position(ctx.ledger_position);
  audit.set_profile(profile.name());
  audit.set_profile_digest(profile.digest());
  audit.set_gate_version(ctx.gate_version);
  {
    // Canonical bytes into a reused buffer; the digest straight into the record: no allocation when warm.
    thread_local std::string canonical;
    ledger::DeterministicBytesInto(claim, &canonical);
    ledger::Sha256HexInto(canonical, audit.mutable_claim_digest());
  }
  *audit.mutable_source() = ctx.source;
  SetProto(ctx.processing_time, audit.mutable_processing_time());
  *audit.mutable_service_time() = claim.service_time();
  audit.set_mode(shadow ? v1::AuditRecord::SHADOW : v1::AuditRecord::ENFORCE);
}

}  // namespace claimgate::gate
