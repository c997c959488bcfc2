// JSON Lines and Protobuf decoding of events, and their structural validation.
#include "ledger/codec.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "ledger/calendar.h"
#include "ledger/proto_json.h"
#include "ledger/strict_json.h"

namespace claimgate::ledger {
namespace {

absl::Status Missing(absl::string_view body, absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(body, ": missing ", field));
}

absl::Status OutOfRange(absl::string_view field) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": outside years 1-9999 in UTC"));
}

// Binary input can hold any seconds; JSON input is refused earlier (ParseRfc3339Parts). A time
// outside Timestamp's range cannot be written back as JSON (issue 12 item 5).
absl::Status ValidateTimes(const v1::Event& e) {
  if (!InTimestampRange(e.time())) return OutOfRange("time");
  if (e.has_claim() && e.claim().has_service_time() && !InTimestampRange(e.claim().service_time()))
    return OutOfRange("claim: service_time");
  if (e.has_score_assessed() && e.score_assessed().has_decision_time() &&
      !InTimestampRange(e.score_assessed().decision_time())) {
    return OutOfRange("score_assessed: decision_time");
  }
  return absl::OkStatus();
}

absl::Status ValidateClaim(const v1::Claim& c, absl::string_view body) {
  if (c.claim_id().empty()) return Missing(body, "claim_id");
  if (c.institution_id().empty()) return Missing(body, "institution_id");
  if (!c.has_service_time()) return Missing(body, "service_time");
  if (c.visit_type() == v1::Claim::VISIT_TYPE_UNSPECIFIED) return Missing(body, "visit_type");
  if (c.practitioners_size() == 0) return Missing(body, "practitioners");
  for (const v1::Claim::Practitioner& p : c.practitioners()) {
    if (p.person_id().empty()) return Missing(body, "practitioners[].person_id");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseEventJson(absl::string_view line, v1::Event* event) {
  if (absl::Status s = ParseStrictJson(line, event, /*ignore_unknown_fields=*/true); !s.ok()) {
    if (event->event_id().empty()) {
      // Best effort, for the refusal's event_id only: what Protobuf's lax parser reads of it.
      google::protobuf::util::JsonParseOptions options;
      options.ignore_unknown_fields = true;
      (void)google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(line.data(), line.size()), event, options);
    }
    return absl::InvalidArgumentError(absl::StrCat("not a valid event: ", s.message()));
  }
  return ValidateEvent(*event);
}

absl::StatusOr<v1::Event> ParseEventBinary(absl::string_view bytes) {
  v1::Event event;
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("not a valid claimgate.v1.Event");
  }
  if (absl::Status s = ValidateEvent(event); !s.ok()) return s;
  return event;
}

absl::Status ValidateEvent(const v1::Event& e) {
  if (e.event_id().empty()) return absl::InvalidArgumentError("missing event_id");
  if (!e.has_time()) return absl::InvalidArgumentError("missing time");
  if (absl::Status s = ValidateTimes(e); !s.ok()) return s;
  const absl::string_view body = BodyName(e);
  switch (e.body_case()) {
    case v1::Event::kInstitutionRegistered:
      if (e.institution_registered().institution_id().empty())
        return Missing(body, "institution_id");
      return absl::OkStatus();
    case v1::Event::kPersonRegistered:
      if (e.person_registered().person_id().empty()) return Missing(body, "person_id");
      if (e.person_registered().institution_id().empty()) return Missing(body, "institution_id");
      return absl::OkStatus();
    case v1::Event::kPersonDeregistered:
      if (e.person_deregistered().person_id().empty()) return Missing(body, "person_id");
      if (e.person_deregistered().institution_id().empty()) return Missing(body, "institution_id");
      return absl::OkStatus();
    case v1::Event::kCommitmentSigned:
      if (e.commitment_signed().person_id().empty()) return Missing(body, "person_id");
      if (e.commitment_signed().institution_id().empty()) return Missing(body, "institution_id");
      return absl::OkStatus();
    case v1::Event::kScoreAssessed:
      if (e.score_assessed().assessment_id().empty()) return Missing(body, "assessment_id");
      if (e.score_assessed().person_id().empty()) return Missing(body, "person_id");
      return absl::OkStatus();
    case v1::Event::kAssessmentConfirmed:
      if (e.assessment_confirmed().assessment_id().empty()) return Missing(body, "assessment_id");
      return absl::OkStatus();
    case v1::Event::kAssessmentRevoked:
      if (e.assessment_revoked().assessment_id().empty()) return Missing(body, "assessment_id");
      return absl::OkStatus();
    case v1::Event::kAssessmentAdjusted:
      if (e.assessment_adjusted().assessment_id().empty()) return Missing(body, "assessment_id");
      return absl::OkStatus();
    case v1::Event::kRestorationCredited:
      if (e.restoration_credited().person_id().empty()) return Missing(body, "person_id");
      if (e.restoration_credited().kind() == v1::RestorationCredited::KIND_UNSPECIFIED) {
        return Missing(body, "kind");
      }
      return absl::OkStatus();
    case v1::Event::kSanctionShortened:
      if (e.sanction_shortened().person_id().empty()) return Missing(body, "person_id");
      if (e.sanction_shortened().days() <= 0) {
        return absl::InvalidArgumentError("sanction_shortened: days must be positive");
      }
      return absl::OkStatus();
    case v1::Event::kAgreementChanged:
      if (e.agreement_changed().institution_id().empty()) return Missing(body, "institution_id");
      if (e.agreement_changed().state() == v1::AgreementChanged::STATE_UNSPECIFIED) {
        return Missing(body, "state");
      }
      return absl::OkStatus();
    case v1::Event::kInsuredSettlementSuspended:
      if (e.insured_settlement_suspended().insured_id().empty()) return Missing(body, "insured_id");
      if (e.insured_settlement_suspended().decision_id().empty()) {
        return Missing(body, "decision_id");
      }
      return absl::OkStatus();
    case v1::Event::kInsuredSuspensionRevoked:
      if (e.insured_suspension_revoked().decision_id().empty()) return Missing(body, "decision_id");
      return absl::OkStatus();
    case v1::Event::kSettlementSuspended:
      if (e.settlement_suspended().institution_id().empty()) return Missing(body, "institution_id");
      if (e.settlement_suspended().scope() == v1::SettlementSuspended::SCOPE_UNSPECIFIED) {
        return Missing(body, "scope");
      }
      if (e.settlement_suspended().decision_id().empty()) return Missing(body, "decision_id");
      return absl::OkStatus();
    case v1::Event::kSettlementResumed:
      if (e.settlement_resumed().decision_id().empty()) return Missing(body, "decision_id");
      return absl::OkStatus();
    case v1::Event::kClaimReversed:
      if (e.claim_reversed().claim_id().empty()) return Missing(body, "claim_id");
      return absl::OkStatus();
    case v1::Event::kClaim:
      return ValidateClaim(e.claim(), body);
    case v1::Event::BODY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("no known body");
}

bool IsLedgerEvent(const v1::Event& e) {
  return e.body_case() != v1::Event::kClaim && e.body_case() != v1::Event::kClaimReversed &&
         e.body_case() != v1::Event::BODY_NOT_SET;
}

absl::string_view BodyName(const v1::Event& e) {
  if (e.body_case() == v1::Event::BODY_NOT_SET) return "none";
  return v1::Event::descriptor()->FindFieldByNumber(e.body_case())->name();
}

std::string ToJson(const google::protobuf::Message& message, bool print_defaults) {
  std::string out;
  if (!print_defaults && AppendProtoJson(message, &out)) return out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = print_defaults;
  // Cannot fail for a message of a compiled-in type.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace claimgate::ledger
