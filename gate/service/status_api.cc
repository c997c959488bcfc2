#include "gate/service/status_api.h"

#include "absl/strings/str_cat.h"
#include "ledger/calendar.h"
#include "ledger/codec.h"
#include "ledger/status_query.h"

namespace claimgate::gate {
namespace {

std::string TimeOrNull(absl::Time t) {
  return t == absl::InfinitePast() || t == absl::InfiniteFuture()
             ? "null"
             : ledger::JsonQuote(ledger::FormatRfc3339(t));
}

}  // namespace

bool ValidPersonId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string PersonStatusJson(const v1::PersonStatus& person, absl::Time at) {
  const ledger::StateAt state = ledger::PersonStateAt(person, at);
  const int year = ledger::Calendar().YearOf(at);
  std::string out = absl::StrCat(
      "{\"person_id\":", ledger::JsonQuote(person.person_id()), ",\"at\":", TimeOrNull(at),
      ",\"state\":", ledger::JsonQuote(v1::PersonStatus::State_Name(state.state)),
      ",\"since\":", TimeOrNull(state.since), ",\"until\":", TimeOrNull(state.until),
      ",\"year\":", year, ",\"year_points\":", ledger::YearTotalAt(person, year, at),
      ",\"registrations\":[");
  bool first = true;
  for (const auto& r : person.registrations()) {
    const ledger::Standing standing = ledger::StandingAt(&person, r.institution_id(), at);
    const std::string verdict = standing.registration != v1::REASON_CODE_UNSPECIFIED
                                    ? v1::ReasonCode_Name(standing.registration)
                                    : v1::PersonStatus::State_Name(standing.sanction.state);
    absl::StrAppend(
        &out, first ? "" : ",", "{\"institution_id\":", ledger::JsonQuote(r.institution_id()),
        ",\"role\":", ledger::JsonQuote(v1::PersonRegistered::Role_Name(r.role())),
        ",\"standing\":", ledger::JsonQuote(verdict),
        ",\"registered_since\":", r.has_since() ? TimeOrNull(ledger::FromProto(r.since())) : "null",
        ",\"registered_until\":", r.has_until() ? TimeOrNull(ledger::FromProto(r.until())) : "null",
        "}");
    first = false;
  }
  absl::StrAppend(&out, "],\"ledger_position\":", person.ledger_position(), "}");
  return out;
}

}  // namespace claimgate::gate
