// The direct decision writer (decision_json.h). Fields go in number order and a field holding its
// default value is left out, as Protobuf's printer does with preserve_proto_field_names and without
// always_print_primitive_fields (ledger::ToJson); int64 values are quoted, enums written by name.
#include "gate/decision_json.h"

#include "absl/strings/numbers.h"
#include "claimgate/v1/decision.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/calendar.h"
#include "ledger/proto_json.h"

namespace claimgate::gate {
namespace {

// One JSON object being written: its keys, each preceded by a comma but the first. `ok` turns
// false at the first value only Protobuf's printer may write.
class Object {
 public:
  Object(std::string* out, bool* ok) : out_(out), ok_(ok) { out_->push_back('{'); }
  void Close() { out_->push_back('}'); }

  void String(absl::string_view key, absl::string_view value) {
    if (value.empty()) return;
    Key(key);
    Quoted(value);
  }
  void Int32(absl::string_view key, int64_t value) {
    if (value == 0) return;
    Key(key);
    Number(value);
  }
  void Int64(absl::string_view key, int64_t value) {
    if (value == 0) return;
    Key(key);
    out_->push_back('"');
    Number(value);
    out_->push_back('"');
  }
  void Bool(absl::string_view key, bool value) {
    if (!value) return;
    Key(key);
    out_->append("true");
  }
  // An enum's name from its generated _Name function (empty for a number without a name).
  void Enum(absl::string_view key, int number, const std::string& name) {
    if (number == 0) return;
    Key(key);
    if (name.empty()) *ok_ = false;
    Quoted(name);
  }
  // A Timestamp field that is set.
  void Time(absl::string_view key, absl::Time t) {
    Key(key);
    google::protobuf::Timestamp ts;
    ledger::SetProto(t, &ts);
    if (!ledger::AppendJsonTimestamp(ts.seconds(), ts.nanos(), out_)) *ok_ = false;
  }
  // A message or array field: its key; the caller writes the value.
  void Key(absl::string_view key) {
    if (!first_) out_->push_back(',');
    first_ = false;
    out_->push_back('"');
    out_->append(key.data(), key.size());
    out_->append("\":", 2);
  }
  void Quoted(absl::string_view value) {
    if (!ledger::IsPlainJsonString(value)) *ok_ = false;
    AppendQuoted(value, out_);
  }
  // A value known to be plain (a hex digest).
  void Hex(absl::string_view key, absl::string_view value) {
    if (value.empty()) return;
    Key(key);
    AppendQuoted(value, out_);
  }
  static void AppendQuoted(absl::string_view value, std::string* out) {
    out->push_back('"');
    out->append(value.data(), value.size());
    out->push_back('"');
  }

 private:
  void Number(int64_t value) {
    char buf[absl::numbers_internal::kFastToBufferSize];
    const char* end = absl::numbers_internal::FastIntToBuffer(value, buf);
    out_->append(buf, static_cast<size_t>(end - buf));
  }

  std::string* out_;
  bool* ok_;
  bool first_ = true;
};

// A JSON array of `items`, each written by `write` (an object of its own).
template <typename Items, typename Write>
void Array(const Items& items, std::string* out, bool* ok, Write write) {
  out->push_back('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) out->push_back(',');
    first = false;
    Object o(out, ok);
    write(item, o);
    o.Close();
  }
  out->push_back(']');
}

void Reasons(const DecisionResult& r, std::string* out, bool* ok) {
  Array(r.reasons, out, ok, [](const DecisionResult::Reason& reason, Object& o) {
    o.Enum("code", reason.code, v1::ReasonCode_Name(reason.code));
    o.String("person_id", reason.person_id);
    o.String("item_code", reason.item_code);
    o.String("insured_id", reason.insured_id);
    o.String("traceability_code", reason.traceability_code);
  });
}

void Practitioners(const DecisionResult& r, std::string* out, bool* ok) {
  Array(r.practitioners, out, ok, [](const DecisionResult::PractitionerUsed& u, Object& o) {
    o.String("person_id", u.person_id);
    o.Enum("role", u.role,
           v1::Claim::Practitioner::Role_Name(static_cast<v1::Claim::Practitioner::Role>(u.role)));
    o.Enum("state", u.state, v1::PersonStatus::State_Name(u.state));
    if (u.since != absl::InfinitePast()) o.Time("since", u.since);
    if (u.until != absl::InfiniteFuture()) o.Time("until", u.until);
    o.Int32("year_points", u.year_points);
    o.Enum("finding", u.finding, v1::ReasonCode_Name(u.finding));
    o.Int64("status_position", u.status_position);
  });
}

void Source(const v1::AuditRecord::Source& s, std::string* out, bool* ok) {
  Object o(out, ok);
  o.String("topic", s.topic());
  o.Int32("partition", s.partition());
  o.Int64("offset", s.offset());
  o.String("file", s.file());
  o.Close();
}

void Duplicates(const DecisionResult& r, std::string* out, bool* ok) {
  Array(r.duplicates, out, ok, [](const DecisionResult::Duplicate& dup, Object& o) {
    o.String("traceability_code", dup.code);
    o.String("first_claim_id", dup.first->claim_id);
    o.String("first_institution_id", dup.first->institution_id);
    o.Time("first_service_time", dup.first->service_time);
  });
}

// Repeated strings: each element written, even an empty one.
void SettledCodes(const DecisionResult& r, std::string* out, bool* ok) {
  out->push_back('[');
  for (size_t i = 0; i < r.settled_codes.size(); ++i) {
    if (i > 0) out->push_back(',');
    if (!ledger::IsPlainJsonString(r.settled_codes[i])) *ok = false;
    Object::AppendQuoted(r.settled_codes[i], out);
  }
  out->push_back(']');
}

// The audit record (AuditRecord, fields 1 to 24; 21 and 22 are a reversal's).
void Audit(const ClaimView& claim, const DecisionResult& r, const DecisionContext& ctx,
           absl::string_view digest, int64_t chain_seq, absl::string_view prev_hash,
           std::string* out, bool* ok) {
  Object o(out, ok);
  o.String("claim_id", claim.claim_id);
  o.String("event_id", claim.event_id.empty() ? absl::string_view(ctx.event_id) : claim.event_id);
  o.Enum("outcome", r.outcome, v1::Decision::Outcome_Name(r.outcome));
  if (!r.reasons.empty()) {
    o.Key("reasons");
    Reasons(r, out, ok);
  }
  if (!r.practitioners.empty()) {
    o.Key("practitioners");
    Practitioners(r, out, ok);
  }
  o.Enum("institution_agreement", r.institution_agreement,
         v1::AgreementChanged::State_Name(r.institution_agreement));
  o.Int64("ledger_position", ctx.ledger_position);
  o.String("profile", r.profile->name());
  o.Hex("profile_digest", r.profile->digest());
  o.String("gate_version", ctx.gate_version);
  o.Hex("claim_digest", digest);
  o.Key("source");
  Source(ctx.source, out, ok);
  o.Time("processing_time", ctx.processing_time);
  if (claim.has_service_time) o.Time("service_time", claim.service_time);
  const v1::AuditRecord::Mode mode = r.shadow ? v1::AuditRecord::SHADOW : v1::AuditRecord::ENFORCE;
  o.Enum("mode", mode, v1::AuditRecord::Mode_Name(mode));
  o.Int64("institution_position", r.institution_position);
  o.Int64("chain_seq", chain_seq);
  o.Hex("prev_hash", prev_hash);
  o.Int64("insured_position", r.insured_position);
  if (!r.duplicates.empty()) {
    o.Key("duplicate_codes");
    Duplicates(r, out, ok);
  }
  if (!r.settled_codes.empty()) {
    o.Key("settled_codes");
    SettledCodes(r, out, ok);
  }
  o.Bool("codes_checked", r.codes_checked);
  o.Close();
}

}  // namespace

bool AppendDecisionJson(const ClaimView& claim, const DecisionResult& result,
                        const DecisionContext& ctx, absl::string_view claim_digest,
                        int64_t chain_seq, absl::string_view prev_hash, std::string* out) {
  const size_t size = out->size();
  bool ok = true;
  Object o(out, &ok);
  o.String("claim_id", claim.claim_id);
  o.Enum("outcome", result.outcome, v1::Decision::Outcome_Name(result.outcome));
  if (!result.reasons.empty()) {
    o.Key("reasons");
    Reasons(result, out, &ok);
  }
  o.Key("audit");
  Audit(claim, result, ctx, claim_digest, chain_seq, prev_hash, out, &ok);
  o.Close();
  if (!ok) out->resize(size);
  return ok;
}

}  // namespace claimgate::gate
