#include "gate/replay/json_lines.h"

#include <simdjson.h>

#include <cstdint>
#include <iterator>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gate/audit/audit_file.h"
#include "google/protobuf/descriptor.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"

namespace claimgate::gate {
namespace {

namespace od = simdjson::ondemand;

// Enum value names -> numbers of one enum type (Protobuf's JSON mapping writes enums by name).
class EnumNames {
 public:
  explicit EnumNames(const google::protobuf::EnumDescriptor* d) {
    for (int i = 0; i < d->value_count(); ++i) names_[d->value(i)->name()] = d->value(i)->number();
  }
  bool Find(absl::string_view name, int* out) const {
    const auto it = names_.find(name);
    if (it == names_.end()) return false;
    *out = it->second;
    return true;
  }

 private:
  absl::flat_hash_map<std::string, int> names_;
};

// The enum types the fast path reads, built once (thread-safe static initialisation).
struct Enums {
  EnumNames reason{v1::ReasonCode_descriptor()};
  EnumNames role{v1::Claim::Practitioner::Role_descriptor()};
  EnumNames state{v1::PersonStatus::State_descriptor()};
  EnumNames outcome{v1::Decision::Outcome_descriptor()};
  EnumNames agreement{v1::AgreementChanged::State_descriptor()};
  EnumNames mode{v1::AuditRecord::Mode_descriptor()};
  EnumNames kind{v1::Claim::Kind_descriptor()};
  EnumNames visit{v1::Claim::VisitType_descriptor()};
  EnumNames category{v1::Claim::Item::Category_descriptor()};
};
const Enums& E() {
  static const Enums* enums = new Enums();  // never destroyed: used until exit
  return *enums;
}

// Whether `key` names one of Event's bodies (SPEC §7) under either name Protobuf's parser takes.
bool IsBody(absl::string_view key) {
  static const auto* bodies = [] {
    auto* names = new absl::flat_hash_set<std::string>();
    const google::protobuf::OneofDescriptor* body =
        v1::Event::descriptor()->FindOneofByName("body");
    for (int i = 0; i < body->field_count(); ++i) {
      names->insert(body->field(i)->name());
      names->insert(body->field(i)->json_name());
    }
    return names;
  }();
  return bodies->contains(key);
}

// Readers of one JSON value; false for anything the fast path does not take.
bool Str(od::value v, absl::string_view* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return false;
  *out = absl::string_view(s.data(), s.size());
  return true;
}

// A string into a message's string field.
bool StrInto(od::value v, std::string* out) {
  absl::string_view s;
  if (!Str(v, &s)) return false;
  out->assign(s.data(), s.size());
  return true;
}

// An integer as a JSON integer or a string of decimal digits (Protobuf's JSON form of int64).
// Other strings Protobuf may or may not take (" 1250", "+1250", "1e3") go to it.
bool Int(od::value v, int64_t* out) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  if (type == od::json_type::number) return v.get_int64().get(*out) == simdjson::SUCCESS;
  absl::string_view s;
  if (type != od::json_type::string || !Str(v, &s)) return false;
  const size_t first = !s.empty() && s[0] == '-' ? 1 : 0;
  if (s.size() == first) return false;
  for (size_t i = first; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return absl::SimpleAtoi(s, out);
}

bool Int32(od::value v, int32_t* out) {
  int64_t n = 0;
  if (!Int(v, &n) || n < std::numeric_limits<int32_t>::min() ||
      n > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  *out = static_cast<int32_t>(n);
  return true;
}

bool Enum(od::value v, const EnumNames& names, int* out) {
  absl::string_view s;
  return Str(v, &s) && names.Find(s, out);
}

bool Time(od::value v, int64_t* seconds, int32_t* nanos) {
  absl::string_view s;
  return Str(v, &s) && ledger::ParseRfc3339Parts(s, seconds, nanos);
}

bool Time(od::value v, google::protobuf::Timestamp* ts) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  if (!Time(v, &seconds, &nanos)) return false;
  ts->set_seconds(seconds);
  ts->set_nanos(nanos);
  return true;
}

// The keys an object has shown, by a number its reader gives each: a key that comes twice makes
// the line the strict reader's, which refuses it. One bit test a key, where comparing keys would
// cost 20% of the fast path (measured on decision lines of 18 keys).
class KeySet {
 public:
  bool Add(int bit) {
    const uint32_t b = uint32_t{1} << bit;
    const bool fresh = (seen_ & b) == 0;
    seen_ |= b;
    return fresh;
  }

 private:
  uint32_t seen_ = 0;
};

// Calls `field(key, value, keys)` for each member of an object value; false when it is not an
// object or `field` refuses a member (an unknown key, a bad value, KeySet::Add false).
template <typename Field>
bool Members(od::value v, Field&& field) {
  od::object object;
  if (v.get_object().get(object) != simdjson::SUCCESS) return false;
  KeySet keys;
  for (auto member : object) {
    std::string_view key;
    od::value value;
    if (member.unescaped_key().get(key) != simdjson::SUCCESS ||
        member.value().get(value) != simdjson::SUCCESS || !field(key, value, keys)) {
      return false;
    }
  }
  return true;
}

// Whether the document holds nothing after its root value (simdjson reads one value and leaves
// the rest: "{...} trailing", "{...}{...}").
bool AtEnd(od::document& doc) {
  const char* at = nullptr;
  return doc.current_location().get(at) == simdjson::OUT_OF_BOUNDS;
}

template <typename Element>
bool Elements(od::value v, Element&& element) {
  od::array array;
  if (v.get_array().get(array) != simdjson::SUCCESS) return false;
  for (auto e : array) {
    od::value value;
    if (e.get(value) != simdjson::SUCCESS || !element(value)) return false;
  }
  return true;
}

bool ReadReason(od::value v, v1::Reason* r) {
  return Members(v, [&](std::string_view key, od::value value, KeySet& keys) {
    int e = 0;
    if (key == "code") {
      if (!keys.Add(0)) return false;
      if (!Enum(value, E().reason, &e)) return false;
      r->set_code(static_cast<v1::ReasonCode>(e));
      return true;
    }
    if (key == "person_id") return keys.Add(1) && StrInto(value, r->mutable_person_id());
    if (key == "item_code") return keys.Add(2) && StrInto(value, r->mutable_item_code());
    if (key == "insured_id") return keys.Add(3) && StrInto(value, r->mutable_insured_id());
    if (key == "traceability_code") {
      return keys.Add(4) && StrInto(value, r->mutable_traceability_code());
    }
    return false;
  });
}

bool ReadDuplicateCode(od::value v, v1::AuditRecord::DuplicateCode* d) {
  return Members(v, [&](std::string_view key, od::value value, KeySet& keys) {
    if (key == "traceability_code") {
      return keys.Add(0) && StrInto(value, d->mutable_traceability_code());
    }
    if (key == "first_claim_id") return keys.Add(1) && StrInto(value, d->mutable_first_claim_id());
    if (key == "first_institution_id") {
      return keys.Add(2) && StrInto(value, d->mutable_first_institution_id());
    }
    if (key == "first_service_time") {
      return keys.Add(3) && Time(value, d->mutable_first_service_time());
    }
    return false;
  });
}

bool ReadPractitioner(od::value v, v1::AuditRecord::PractitionerStatus* p) {
  return Members(v, [&](std::string_view key, od::value value, KeySet& keys) {
    int e = 0;
    int64_t n = 0;
    absl::string_view s;
    if (key == "person_id") {
      if (!keys.Add(0)) return false;
      if (!Str(value, &s)) return false;
      p->set_person_id(std::string(s));
    } else if (key == "role") {
      if (!keys.Add(1)) return false;
      if (!Enum(value, E().role, &e)) return false;
      p->set_role(static_cast<v1::Claim::Practitioner::Role>(e));
    } else if (key == "state") {
      if (!keys.Add(2)) return false;
      if (!Enum(value, E().state, &e)) return false;
      p->set_state(static_cast<v1::PersonStatus::State>(e));
    } else if (key == "since") {
      if (!keys.Add(3)) return false;
      return Time(value, p->mutable_since());
    } else if (key == "until") {
      if (!keys.Add(4)) return false;
      return Time(value, p->mutable_until());
    } else if (key == "year_points") {
      if (!keys.Add(5)) return false;
      int32_t points = 0;
      if (!Int32(value, &points)) return false;
      p->set_year_points(points);
    } else if (key == "finding") {
      if (!keys.Add(6)) return false;
      if (!Enum(value, E().reason, &e)) return false;
      p->set_finding(static_cast<v1::ReasonCode>(e));
    } else if (key == "status_position") {
      if (!keys.Add(7)) return false;
      if (!Int(value, &n)) return false;
      p->set_status_position(n);
    } else {
      return false;
    }
    return true;
  });
}

bool ReadSource(od::value v, v1::AuditRecord::Source* src) {
  return Members(v, [&](std::string_view key, od::value value, KeySet& keys) {
    int64_t n = 0;
    absl::string_view s;
    if (key == "topic" || key == "file") {
      if (!keys.Add(key == "topic" ? 0 : 1)) return false;
      if (!Str(value, &s)) return false;
      (key == "topic" ? src->mutable_topic() : src->mutable_file())->assign(s.data(), s.size());
    } else if (key == "partition") {
      if (!keys.Add(2)) return false;
      int32_t partition = 0;
      if (!Int32(value, &partition)) return false;
      src->set_partition(partition);
    } else if (key == "offset") {
      if (!keys.Add(3)) return false;
      if (!Int(value, &n)) return false;
      src->set_offset(n);
    } else {
      return false;
    }
    return true;
  });
}

bool ReadAudit(od::value v, v1::AuditRecord* a) {
  return Members(v, [&](std::string_view key, od::value value, KeySet& keys) {
    int e = 0;
    int64_t n = 0;
    auto string_field = [&](std::string* out) { return StrInto(value, out); };
    if (key == "claim_id") return keys.Add(0) && string_field(a->mutable_claim_id());
    if (key == "event_id") return keys.Add(1) && string_field(a->mutable_event_id());
    if (key == "profile") return keys.Add(2) && string_field(a->mutable_profile());
    if (key == "profile_digest") {
      return keys.Add(3) && string_field(a->mutable_profile_digest());
    }
    if (key == "gate_version") return keys.Add(4) && string_field(a->mutable_gate_version());
    if (key == "claim_digest") return keys.Add(5) && string_field(a->mutable_claim_digest());
    if (key == "prev_hash") return keys.Add(6) && string_field(a->mutable_prev_hash());
    if (key == "outcome") {
      if (!keys.Add(7)) return false;
      if (!Enum(value, E().outcome, &e)) return false;
      a->set_outcome(static_cast<v1::Decision::Outcome>(e));
    } else if (key == "reasons") {
      if (!keys.Add(8)) return false;
      return Elements(value, [&](od::value r) { return ReadReason(r, a->add_reasons()); });
    } else if (key == "practitioners") {
      if (!keys.Add(9)) return false;
      return Elements(value,
                      [&](od::value p) { return ReadPractitioner(p, a->add_practitioners()); });
    } else if (key == "institution_agreement") {
      if (!keys.Add(10)) return false;
      if (!Enum(value, E().agreement, &e)) return false;
      a->set_institution_agreement(static_cast<v1::AgreementChanged::State>(e));
    } else if (key == "ledger_position" || key == "institution_position" || key == "chain_seq" ||
               key == "insured_position") {
      if (!keys.Add(key == "ledger_position"        ? 11
                    : key == "chain_seq"            ? 12
                    : key == "institution_position" ? 13
                                                    : 18)) {
        return false;
      }
      if (!Int(value, &n)) return false;
      if (key == "ledger_position") a->set_ledger_position(n);
      if (key == "institution_position") a->set_institution_position(n);
      if (key == "chain_seq") a->set_chain_seq(n);
      if (key == "insured_position") a->set_insured_position(n);
    } else if (key == "duplicate_codes") {
      if (!keys.Add(19)) return false;
      return Elements(value,
                      [&](od::value d) { return ReadDuplicateCode(d, a->add_duplicate_codes()); });
    } else if (key == "codes_checked") {
      bool b = false;
      if (!keys.Add(23) || value.get_bool().get(b) != simdjson::SUCCESS) return false;
      a->set_codes_checked(b);
    } else if (key == "reversal_reason") {
      return keys.Add(20) && string_field(a->mutable_reversal_reason());
    } else if (key == "released_codes" || key == "settled_codes") {
      const bool released = key == "released_codes";
      if (!keys.Add(released ? 21 : 22)) return false;
      return Elements(value, [&](od::value c) {
        return StrInto(c, released ? a->add_released_codes() : a->add_settled_codes());
      });
    } else if (key == "source") {
      if (!keys.Add(14)) return false;
      return ReadSource(value, a->mutable_source());
    } else if (key == "processing_time") {
      if (!keys.Add(15)) return false;
      return Time(value, a->mutable_processing_time());
    } else if (key == "service_time") {
      if (!keys.Add(16)) return false;
      return Time(value, a->mutable_service_time());
    } else if (key == "mode") {
      if (!keys.Add(17)) return false;
      if (!Enum(value, E().mode, &e)) return false;
      a->set_mode(static_cast<v1::AuditRecord::Mode>(e));
    } else {
      return false;
    }
    return true;
  });
}

bool ReadClaimBody(od::value v, ClaimView* c) {
  return Members(v, [&](std::string_view key, od::value value, KeySet& keys) {
    absl::string_view s;
    if (key == "claim_id" || key == "institution_id" || key == "insured_id" ||
        key == "insured_region") {
      if (!keys.Add(key == "claim_id"     ? 0
                    : key == "insured_id" ? 1
                    : key == "institution_id" ? 2
                                              : 8)) {
        return false;
      }
      if (!Str(value, &s)) return false;
      (key == "claim_id"         ? c->claim_id
       : key == "institution_id" ? c->institution_id
       : key == "insured_id"     ? c->insured_id
                                 : c->insured_region) = s;
    } else if (key == "kind") {
      if (!keys.Add(3)) return false;
      if (!Enum(value, E().kind, &c->kind)) return false;
    } else if (key == "visit_type") {
      if (!keys.Add(4)) return false;
      if (!Enum(value, E().visit, &c->visit_type)) return false;
    } else if (key == "service_time") {
      if (!keys.Add(5)) return false;
      int64_t seconds = 0;
      int32_t nanos = 0;
      if (!Time(value, &seconds, &nanos)) return false;
      c->service_time = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
      c->has_service_time = true;
    } else if (key == "practitioners") {
      if (!keys.Add(6)) return false;
      return Elements(value, [&](od::value p) {
        ClaimView::Practitioner& pr = c->practitioners.emplace_back();
        return Members(p, [&](std::string_view k, od::value x, KeySet& inner) {
          if (k == "person_id") return inner.Add(0) && Str(x, &s) && (pr.person_id = s, true);
          if (k == "role") return inner.Add(1) && Enum(x, E().role, &pr.role);
          return false;
        });
      });
    } else if (key == "items") {
      if (!keys.Add(7)) return false;
      return Elements(value, [&](od::value i) {
        ClaimView::Item& item = c->items.emplace_back();
        return Members(i, [&](std::string_view k, od::value x, KeySet& inner) {
          if (k == "item_code") return inner.Add(0) && Str(x, &s) && (item.item_code = s, true);
          if (k == "category") return inner.Add(1) && Enum(x, E().category, &item.category);
          if (k == "amount_fen") return inner.Add(2) && Int(x, &item.amount_fen);
          if (k == "traceability_codes") {
            if (!inner.Add(3)) return false;
            return Elements(x, [&](od::value code) {
              return Str(code, &s) && (item.traceability_codes.push_back(s), true);
            });
          }
          return false;
        });
      });
    } else {
      return false;
    }
    return true;
  });
}

// An Event's members on the fast path: event_id, time and the claim, nothing else.
bool ReadClaimEvent(od::value root, ClaimView* claim, bool* has_time, bool* body) {
  return Members(root, [&](std::string_view key, od::value value, KeySet& keys) {
    absl::string_view s;
    if (key == "event_id") return keys.Add(0) && Str(value, &s) && (claim->event_id = s, true);
    if (key == "time") {
      int64_t seconds = 0;
      int32_t nanos = 0;
      if (!keys.Add(1) || !(*has_time = Time(value, &seconds, &nanos))) return false;
      claim->submitted = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
      claim->has_submitted = true;
      return true;
    }
    if (key == "claim") return keys.Add(2) && (*body = true, ReadClaimBody(value, claim));
    return false;
  });
}

// A Decision's members on the fast path.
bool ReadDecisionFields(od::value root, v1::Decision* decision, bool* audit) {
  return Members(root, [&](std::string_view key, od::value value, KeySet& keys) {
    int e = 0;
    absl::string_view s;
    if (key == "claim_id") {
      return keys.Add(0) && Str(value, &s) && (decision->set_claim_id(std::string(s)), true);
    }
    if (key == "outcome") {
      if (!keys.Add(1) || !Enum(value, E().outcome, &e)) return false;
      decision->set_outcome(static_cast<v1::Decision::Outcome>(e));
      return true;
    }
    if (key == "reasons") {
      return keys.Add(2) &&
             Elements(value, [&](od::value r) { return ReadReason(r, decision->add_reasons()); });
    }
    if (key == "audit") {
      return keys.Add(3) && (*audit = true, ReadAudit(value, decision->mutable_audit()));
    }
    return false;
  });
}

// ValidateEvent's checks for a claim event.
bool ValidClaim(const ClaimView& c, bool has_time) {
  if (c.event_id.empty() || !has_time || c.claim_id.empty() || c.institution_id.empty() ||
      !c.has_service_time || c.visit_type == 0 || c.practitioners.empty()) {
    return false;
  }
  for (const ClaimView::Practitioner& p : c.practitioners) {
    if (p.person_id.empty()) return false;
  }
  return true;
}

}  // namespace

struct JsonLineReader::Impl {
  od::parser claims, decisions;
  std::string buffer[2];  // padded copies, one a parser
  bool Iterate(od::parser& parser, std::string& buf, absl::string_view line, od::document* doc) {
    buf.assign(line.data(), line.size());
    buf.append(simdjson::SIMDJSON_PADDING, '\0');
    return parser.iterate(buf.data(), line.size(), buf.size()).get(*doc) == simdjson::SUCCESS;
  }
};

JsonLineReader::JsonLineReader() : impl_(std::make_unique<Impl>()) {}
JsonLineReader::~JsonLineReader() = default;

LineKind JsonLineReader::Classify(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
  if (i == line.size()) return LineKind::kBlank;
  if (line[i] != '{') return LineKind::kOther;
  // A scan of the top level's keys, without parsing values: strings are skipped (escapes
  // included), brackets counted. The first body key decides: "claim" with an object value is a
  // claim, for Protobuf then reads a claim or refuses the line (a second body set is an error, a
  // second "claim" a duplicate key). Anything else ("claim":null, which sets nothing, an escaped
  // key before the body) is for Protobuf's parser to say.
  int depth = 0;
  bool expect_key = false;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      const size_t start = ++i;
      bool escaped = false;
      for (; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\') {
          escaped = true;
          ++i;
        }
      }
      if (depth == 1 && expect_key) {
        if (escaped) return LineKind::kOther;
        const absl::string_view key = line.substr(start, i - start);
        if (IsBody(key)) {
          size_t v = i + 1;
          while (v < line.size() && (line[v] == ' ' || line[v] == '\t' || line[v] == ':')) ++v;
          return key == "claim" && v < line.size() && line[v] == '{' ? LineKind::kClaim
                                                                      : LineKind::kOther;
        }
      }
      expect_key = false;
    } else if (c == '{' || c == '[') {
      ++depth;
      expect_key = c == '{' && depth == 1;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',') {
      expect_key = depth == 1;
    }
  }
  return LineKind::kOther;
}

bool JsonLineReader::ReadClaim(absl::string_view line, ClaimView* claim, std::string* error) {
  claim->Clear();
  od::document doc;
  od::value root;
  bool has_time = false, body = false;
  const bool fast = impl_->Iterate(impl_->claims, impl_->buffer[0], line, &doc) &&
                    doc.get_value().get(root) == simdjson::SUCCESS &&
                    ReadClaimEvent(root, claim, &has_time, &body) && AtEnd(doc) && body &&
                    ValidClaim(*claim, has_time);
  if (fast) {
    ++fast_;
    return true;
  }
  ++slow_;
  claim->Clear();
  if (absl::Status s = ledger::ParseEventJson(line, &event_); !s.ok()) {
    *error = std::string(s.message());
    return false;
  }
  if (!event_.has_claim()) {
    *error = "not a claim";
    return false;
  }
  ViewEvent(event_, claim);
  return true;
}

bool JsonLineReader::ReadDecision(absl::string_view line, v1::Decision* decision,
                                  std::string* error) {
  decision->Clear();
  od::document doc;
  od::value root;
  bool audit = false;
  const bool fast = impl_->Iterate(impl_->decisions, impl_->buffer[1], line, &doc) &&
                    doc.get_value().get(root) == simdjson::SUCCESS &&
                    ReadDecisionFields(root, decision, &audit) && AtEnd(doc) && audit;
  if (fast) {
    ++fast_;
    return true;
  }
  ++slow_;
  bool bare = false;
  if (absl::Status s = ParseAuditLine(line, decision, &bare); !s.ok()) {
    *error = std::string(s.message());
    return false;
  }
  return true;
}

}  // namespace claimgate::gate
