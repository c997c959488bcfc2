#include "gate/json_lines.h"

#include <simdjson.h>

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gate/audit_file.h"
#include "google/protobuf/descriptor.h"
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

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 as Protobuf's JSON mapping writes Timestamps: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM).
// Anything else is left to Protobuf's parser.
bool ParseTime(std::string_view s, int64_t* seconds, int32_t* nanos) {
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || s[10] != 'T' || !Digits(s, 11, 2, &h) ||
      s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se)) {
    return false;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
      h > 23 || mi > 59 || se > 59) {
    return false;
  }
  size_t at = 19;
  int32_t frac = 0;
  if (s[at] == '.') {
    size_t n = 0;
    for (++at; at < s.size() && s[at] >= '0' && s[at] <= '9' && n < 9; ++at, ++n)
      frac = frac * 10 + (s[at] - '0');
    if (n == 0) return false;
    for (; n < 9; ++n) frac *= 10;
  }
  int offset = 0;
  if (at < s.size() && s[at] == 'Z') {
    ++at;
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    int oh, om;
    if (!Digits(s, at + 1, 2, &oh) || at + 3 >= s.size() || s[at + 3] != ':' ||
        !Digits(s, at + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return false;
  }
  if (at != s.size()) return false;
  *seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  *nanos = frac;
  return true;
}

// Whether `key` names one of Event's bodies (SPEC §7).
bool IsBody(absl::string_view key) {
  static const auto* bodies = [] {
    auto* names = new absl::flat_hash_set<std::string>();
    const google::protobuf::OneofDescriptor* body =
        v1::Event::descriptor()->FindOneofByName("body");
    for (int i = 0; i < body->field_count(); ++i) names->insert(body->field(i)->name());
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

bool Int(od::value v, int64_t* out) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return false;
  if (type == od::json_type::number) return v.get_int64().get(*out) == simdjson::SUCCESS;
  absl::string_view s;
  return type == od::json_type::string && Str(v, &s) && absl::SimpleAtoi(s, out);
}

bool Enum(od::value v, const EnumNames& names, int* out) {
  absl::string_view s;
  return Str(v, &s) && names.Find(s, out);
}

bool Time(od::value v, int64_t* seconds, int32_t* nanos) {
  absl::string_view s;
  return Str(v, &s) && ParseTime(std::string_view(s.data(), s.size()), seconds, nanos);
}

bool Time(od::value v, google::protobuf::Timestamp* ts) {
  int64_t seconds = 0;
  int32_t nanos = 0;
  if (!Time(v, &seconds, &nanos)) return false;
  ts->set_seconds(seconds);
  ts->set_nanos(nanos);
  return true;
}

// Calls `field(key, value)` for each member of an object value; false when it is not an object or
// `field` refuses a member.
template <typename Field>
bool Members(od::value v, Field&& field) {
  od::object object;
  if (v.get_object().get(object) != simdjson::SUCCESS) return false;
  for (auto member : object) {
    std::string_view key;
    od::value value;
    if (member.unescaped_key().get(key) != simdjson::SUCCESS ||
        member.value().get(value) != simdjson::SUCCESS || !field(key, value)) {
      return false;
    }
  }
  return true;
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
  return Members(v, [&](std::string_view key, od::value value) {
    int e = 0;
    absl::string_view s;
    if (key == "code") {
      if (!Enum(value, E().reason, &e)) return false;
      r->set_code(static_cast<v1::ReasonCode>(e));
    } else if (key == "person_id") {
      if (!Str(value, &s)) return false;
      r->set_person_id(std::string(s));
    } else if (key == "item_code") {
      if (!Str(value, &s)) return false;
      r->set_item_code(std::string(s));
    } else {
      return false;
    }
    return true;
  });
}

bool ReadPractitioner(od::value v, v1::AuditRecord::PractitionerStatus* p) {
  return Members(v, [&](std::string_view key, od::value value) {
    int e = 0;
    int64_t n = 0;
    absl::string_view s;
    if (key == "person_id") {
      if (!Str(value, &s)) return false;
      p->set_person_id(std::string(s));
    } else if (key == "role") {
      if (!Enum(value, E().role, &e)) return false;
      p->set_role(static_cast<v1::Claim::Practitioner::Role>(e));
    } else if (key == "state") {
      if (!Enum(value, E().state, &e)) return false;
      p->set_state(static_cast<v1::PersonStatus::State>(e));
    } else if (key == "since") {
      return Time(value, p->mutable_since());
    } else if (key == "until") {
      return Time(value, p->mutable_until());
    } else if (key == "year_points") {
      if (!Int(value, &n)) return false;
      p->set_year_points(static_cast<int32_t>(n));
    } else if (key == "finding") {
      if (!Enum(value, E().reason, &e)) return false;
      p->set_finding(static_cast<v1::ReasonCode>(e));
    } else if (key == "status_position") {
      if (!Int(value, &n)) return false;
      p->set_status_position(n);
    } else {
      return false;
    }
    return true;
  });
}

bool ReadSource(od::value v, v1::AuditRecord::Source* src) {
  return Members(v, [&](std::string_view key, od::value value) {
    int64_t n = 0;
    absl::string_view s;
    if (key == "topic" || key == "file") {
      if (!Str(value, &s)) return false;
      (key == "topic" ? src->mutable_topic() : src->mutable_file())->assign(s.data(), s.size());
    } else if (key == "partition") {
      if (!Int(value, &n)) return false;
      src->set_partition(static_cast<int32_t>(n));
    } else if (key == "offset") {
      if (!Int(value, &n)) return false;
      src->set_offset(n);
    } else {
      return false;
    }
    return true;
  });
}

bool ReadAudit(od::value v, v1::AuditRecord* a) {
  return Members(v, [&](std::string_view key, od::value value) {
    int e = 0;
    int64_t n = 0;
    absl::string_view s;
    auto string_field = [&](std::string* out) {
      if (!Str(value, &s)) return false;
      out->assign(s.data(), s.size());
      return true;
    };
    if (key == "claim_id") return string_field(a->mutable_claim_id());
    if (key == "event_id") return string_field(a->mutable_event_id());
    if (key == "profile") return string_field(a->mutable_profile());
    if (key == "profile_digest") return string_field(a->mutable_profile_digest());
    if (key == "gate_version") return string_field(a->mutable_gate_version());
    if (key == "claim_digest") return string_field(a->mutable_claim_digest());
    if (key == "prev_hash") return string_field(a->mutable_prev_hash());
    if (key == "outcome") {
      if (!Enum(value, E().outcome, &e)) return false;
      a->set_outcome(static_cast<v1::Decision::Outcome>(e));
    } else if (key == "reasons") {
      return Elements(value, [&](od::value r) { return ReadReason(r, a->add_reasons()); });
    } else if (key == "practitioners") {
      return Elements(value,
                      [&](od::value p) { return ReadPractitioner(p, a->add_practitioners()); });
    } else if (key == "institution_agreement") {
      if (!Enum(value, E().agreement, &e)) return false;
      a->set_institution_agreement(static_cast<v1::AgreementChanged::State>(e));
    } else if (key == "ledger_position" || key == "institution_position" || key == "chain_seq") {
      if (!Int(value, &n)) return false;
      if (key == "ledger_position") a->set_ledger_position(n);
      if (key == "institution_position") a->set_institution_position(n);
      if (key == "chain_seq") a->set_chain_seq(n);
    } else if (key == "source") {
      return ReadSource(value, a->mutable_source());
    } else if (key == "processing_time") {
      return Time(value, a->mutable_processing_time());
    } else if (key == "service_time") {
      return Time(value, a->mutable_service_time());
    } else if (key == "mode") {
      if (!Enum(value, E().mode, &e)) return false;
      a->set_mode(static_cast<v1::AuditRecord::Mode>(e));
    } else {
      return false;
    }
    return true;
  });
}

bool ReadClaimBody(od::value v, ClaimView* c) {
  return Members(v, [&](std::string_view key, od::value value) {
    absl::string_view s;
    if (key == "claim_id" || key == "institution_id" || key == "insured_id") {
      if (!Str(value, &s)) return false;
      (key == "claim_id"         ? c->claim_id
       : key == "institution_id" ? c->institution_id
                                 : c->insured_id) = s;
    } else if (key == "kind") {
      if (!Enum(value, E().kind, &c->kind)) return false;
    } else if (key == "visit_type") {
      if (!Enum(value, E().visit, &c->visit_type)) return false;
    } else if (key == "service_time") {
      int64_t seconds = 0;
      int32_t nanos = 0;
      if (!Time(value, &seconds, &nanos)) return false;
      c->service_time = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
      c->has_service_time = true;
    } else if (key == "practitioners") {
      return Elements(value, [&](od::value p) {
        ClaimView::Practitioner& pr = c->practitioners.emplace_back();
        return Members(p, [&](std::string_view k, od::value x) {
          if (k == "person_id") return Str(x, &s) && (pr.person_id = s, true);
          if (k == "role") return Enum(x, E().role, &pr.role);
          return false;
        });
      });
    } else if (key == "items") {
      return Elements(value, [&](od::value i) {
        ClaimView::Item& item = c->items.emplace_back();
        return Members(i, [&](std::string_view k, od::value x) {
          if (k == "item_code") return Str(x, &s) && (item.item_code = s, true);
          if (k == "category") return Enum(x, E().category, &item.category);
          if (k == "amount_fen") return Int(x, &item.amount_fen);
          if (k == "traceability_codes") {
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
  od::parser claims, decisions, classify;
  std::string buffer[3];  // padded copies, one a parser
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
  // included), brackets counted. The first key "claim" at depth 1 decides.
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
        if (escaped) break;  // an escaped key: let simdjson decide below
        const absl::string_view key = line.substr(start, i - start);
        if (key == "claim") return LineKind::kClaim;
        // The first body decides: a line with a second body is malformed either way.
        if (IsBody(key)) return LineKind::kOther;
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
  if (i >= line.size()) return LineKind::kOther;
  od::document doc;
  od::object object;
  if (!impl_->Iterate(impl_->classify, impl_->buffer[2], line, &doc) ||
      doc.get_object().get(object) != simdjson::SUCCESS) {
    return LineKind::kOther;
  }
  for (auto member : object) {
    std::string_view key;
    if (member.unescaped_key().get(key) != simdjson::SUCCESS) return LineKind::kOther;
    if (key == "claim") return LineKind::kClaim;
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
                    Members(root,
                            [&](std::string_view key, od::value value) {
                              absl::string_view s;
                              if (key == "event_id")
                                return Str(value, &s) && (claim->event_id = s, true);
                              if (key == "time") {
                                int64_t seconds = 0;
                                int32_t nanos = 0;
                                return (has_time = Time(value, &seconds, &nanos));
                              }
                              if (key == "claim" && !body)
                                return (body = true, ReadClaimBody(value, claim));
                              return false;
                            }) &&
                    body && ValidClaim(*claim, has_time);
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
  ViewClaim(event_.claim(), event_.event_id(), claim);
  return true;
}

bool JsonLineReader::ReadDecision(absl::string_view line, v1::Decision* decision,
                                  std::string* error) {
  decision->Clear();
  od::document doc;
  od::value root;
  bool audit = false;
  const bool fast =
      impl_->Iterate(impl_->decisions, impl_->buffer[1], line, &doc) &&
      doc.get_value().get(root) == simdjson::SUCCESS &&
      Members(root,
              [&](std::string_view key, od::value value) {
                int e = 0;
                absl::string_view s;
                if (key == "claim_id")
                  return Str(value, &s) && (decision->set_claim_id(std::string(s)), true);
                if (key == "outcome") {
                  if (!Enum(value, E().outcome, &e)) return false;
                  decision->set_outcome(static_cast<v1::Decision::Outcome>(e));
                  return true;
                }
                if (key == "reasons") {
                  return Elements(
                      value, [&](od::value r) { return ReadReason(r, decision->add_reasons()); });
                }
                if (key == "audit" && !audit) {
                  return (audit = true, ReadAudit(value, decision->mutable_audit()));
                }
                return false;
              }) &&
      audit;
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
