// The direct decision writer (decision_json.h). Fields go in number order and a field holding its
// default value is left out, as Protobuf's printer does with preserve_proto_field_names and without
// always_print_primitive_fields (ledger::ToJson); int64 values are quoted, enums written by name.
#include "gate/decision_json.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "claimgate/v1/decision.pb.h"
#include "gate/byte_sink.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/calendar.h"
#include "ledger/proto_json.h"

namespace claimgate::gate {
namespace {

// One JSON object being written: its keys, each preceded by a comma but the first. `ok` turns
// false at the first value only Protobuf's printer may write.
class Object {
 public:
  Object(ByteSink* out, bool* ok) : out_(out), ok_(ok) {
    out_->Room(1);
    out_->Put('{');
  }
  void Close() {
    out_->Room(1);
    out_->Put('}');
  }

  void String(absl::string_view key, absl::string_view value) {
    if (value.empty()) return;
    Key(key, value.size() + 2);
    Quoted(value);
  }
  void Int32(absl::string_view key, int64_t value) {
    if (value == 0) return;
    Key(key, kNumberBytes);
    Number(value);
  }
  void Int64(absl::string_view key, int64_t value) {
    if (value == 0) return;
    Key(key, kNumberBytes + 2);
    out_->Put('"');
    Number(value);
    out_->Put('"');
  }
  void Bool(absl::string_view key, bool value) {
    if (!value) return;
    Key(key, 4);
    out_->Put("true");
  }
  // An enum's name from its generated _Name function (empty for a number without a name).
  void Enum(absl::string_view key, int number, const std::string& name) {
    if (number == 0) return;
    Key(key, name.size() + 2);
    if (name.empty()) *ok_ = false;
    Quoted(name);
  }
  // A Timestamp field that is set.
  void Time(absl::string_view key, absl::Time t) {
    Key(key, ledger::kJsonTimestampBytes);
    google::protobuf::Timestamp ts;
    ledger::SetProto(t, &ts);
    char* end = ledger::WriteJsonTimestamp(ts.seconds(), ts.nanos(), out_->end());
    if (end == nullptr) {
      *ok_ = false;
      return;
    }
    out_->Advance(end);
  }
  // A message or array field: its key, with room for `value_bytes` after it; the caller writes
  // the value.
  void Key(absl::string_view key, size_t value_bytes = 0) {
    out_->Room(key.size() + 4 + value_bytes);
    if (!first_) out_->Put(',');
    first_ = false;
    out_->Put('"');
    out_->Put(key);
    out_->Put("\":");
  }
  void Quoted(absl::string_view value) {
    if (!ledger::IsPlainJsonString(value)) *ok_ = false;
    PutQuoted(value, out_);
  }
  // A value known to be plain (a hex digest).
  void Hex(absl::string_view key, absl::string_view value) {
    if (value.empty()) return;
    Key(key, value.size() + 2);
    PutQuoted(value, out_);
  }
  // Room for the value made by the caller.
  static void PutQuoted(absl::string_view value, ByteSink* out) {
    out->Put('"');
    out->Put(value);
    out->Put('"');
  }

 private:
  static constexpr size_t kNumberBytes = absl::numbers_internal::kFastToBufferSize;

  void Number(int64_t value) {
    out_->Advance(absl::numbers_internal::FastIntToBuffer(value, out_->end()));
  }

  ByteSink* out_;
  bool* ok_;
  bool first_ = true;
};

// An enum number's name as the generated _Name function gives it (empty for a number without a
// name), looked up in the descriptor once per enum rather than a dozen times a line.
template <const google::protobuf::EnumDescriptor* (*Descriptor)()>
const std::string& NameOf(int number) {
  static const std::vector<std::string> kNames = [] {
    const google::protobuf::EnumDescriptor* d = Descriptor();
    int max = 0;
    for (int i = 0; i < d->value_count(); ++i) max = std::max(max, d->value(i)->number());
    std::vector<std::string> names(static_cast<size_t>(max) + 1);
    for (int i = 0; i < d->value_count(); ++i) {
      const google::protobuf::EnumValueDescriptor* v = d->value(i);
      // The first value of a number names it (allow_alias), as FindValueByNumber answers.
      if (v->number() >= 0 && d->FindValueByNumber(v->number()) == v)
        names[v->number()] = v->name();
    }
    return names;
  }();
  static const std::string kNone;
  return number >= 0 && static_cast<size_t>(number) < kNames.size() ? kNames[number] : kNone;
}

// A JSON array of `items`, each written by `write` (an object of its own).
template <typename Items, typename Write>
void Array(const Items& items, ByteSink* out, bool* ok, Write write) {
  out->Room(1);
  out->Put('[');
  bool first = true;
  for (const auto& item : items) {
    if (!first) {
      out->Room(1);
      out->Put(',');
    }
    first = false;
    Object o(out, ok);
    write(item, o);
    o.Close();
  }
  out->Room(1);
  out->Put(']');
}

void Reasons(const DecisionResult& r, ByteSink* out, bool* ok) {
  Array(r.reasons, out, ok, [](const DecisionResult::Reason& reason, Object& o) {
    o.Enum("code", reason.code, NameOf<v1::ReasonCode_descriptor>(reason.code));
    o.String("person_id", reason.person_id);
    o.String("item_code", reason.item_code);
    o.String("insured_id", reason.insured_id);
    o.String("traceability_code", reason.traceability_code);
  });
}

void Practitioners(const DecisionResult& r, ByteSink* out, bool* ok) {
  Array(r.practitioners, out, ok, [](const DecisionResult::PractitionerUsed& u, Object& o) {
    o.String("person_id", u.person_id);
    o.Enum("role", u.role,
           NameOf<v1::Claim_Practitioner_Role_descriptor>(u.role));
    o.Enum("state", u.state, NameOf<v1::PersonStatus_State_descriptor>(u.state));
    if (u.since != absl::InfinitePast()) o.Time("since", u.since);
    if (u.until != absl::InfiniteFuture()) o.Time("until", u.until);
    o.Int32("year_points", u.year_points);
    o.Enum("finding", u.finding, NameOf<v1::ReasonCode_descriptor>(u.finding));
    o.Int64("status_position", u.status_position);
  });
}

void Source(const v1::AuditRecord::Source& s, ByteSink* out, bool* ok) {
  Object o(out, ok);
  o.String("topic", s.topic());
  o.Int32("partition", s.partition());
  o.Int64("offset", s.offset());
  o.String("file", s.file());
  o.Close();
}

void Duplicates(const DecisionResult& r, ByteSink* out, bool* ok) {
  Array(r.duplicates, out, ok, [](const DecisionResult::Duplicate& dup, Object& o) {
    o.String("traceability_code", dup.code);
    o.String("first_claim_id", dup.first->claim_id);
    o.String("first_institution_id", dup.first->institution_id);
    o.Time("first_service_time", dup.first->service_time);
  });
}

// Repeated strings: each element written, even an empty one.
void SettledCodes(const DecisionResult& r, ByteSink* out, bool* ok) {
  out->Room(1);
  out->Put('[');
  for (size_t i = 0; i < r.settled_codes.size(); ++i) {
    out->Room(r.settled_codes[i].size() + 4);
    if (i > 0) out->Put(',');
    if (!ledger::IsPlainJsonString(r.settled_codes[i])) *ok = false;
    Object::PutQuoted(r.settled_codes[i], out);
  }
  out->Room(1);
  out->Put(']');
}

// The audit record (AuditRecord, fields 1 to 24; 21 and 22 are a reversal's).
void Audit(const ClaimView& claim, const DecisionResult& r, const DecisionContext& ctx,
           absl::string_view digest, int64_t chain_seq, absl::string_view prev_hash,
           ByteSink* out, bool* ok) {
  Object o(out, ok);
  o.String("claim_id", claim.claim_id);
  o.String("event_id", claim.event_id.empty() ? absl::string_view(ctx.event_id) : claim.event_id);
  o.Enum("outcome", r.outcome, NameOf<v1::Decision_Outcome_descriptor>(r.outcome));
  if (!r.reasons.empty()) {
    o.Key("reasons");
    Reasons(r, out, ok);
  }
  if (!r.practitioners.empty()) {
    o.Key("practitioners");
    Practitioners(r, out, ok);
  }
  o.Enum("institution_agreement", r.institution_agreement,
         NameOf<v1::AgreementChanged_State_descriptor>(r.institution_agreement));
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
  o.Enum("mode", mode, NameOf<v1::AuditRecord_Mode_descriptor>(mode));
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
  bool ok = true;
  ByteSink sink(out);
  Object o(&sink, &ok);
  o.String("claim_id", claim.claim_id);
  o.Enum("outcome", result.outcome, NameOf<v1::Decision_Outcome_descriptor>(result.outcome));
  if (!result.reasons.empty()) {
    o.Key("reasons");
    Reasons(result, &sink, &ok);
  }
  o.Key("audit");
  Audit(claim, result, ctx, claim_digest, chain_seq, prev_hash, &sink, &ok);
  o.Close();
  if (!ok) sink.Discard();  // Protobuf's printer writes this one
  sink.Finish();
  return ok;
}

}  // namespace claimgate::gate
