// Calendar arithmetic in a fixed-offset zone.
#include "ledger/calendar.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace claimgate::ledger {
namespace {

int DaysInMonth(absl::CivilMonth m) {
  return static_cast<int>(absl::CivilDay(m + 1) - absl::CivilDay(m));
}

}  // namespace

Calendar::Calendar(int utc_offset_minutes)
    : offset_minutes_(utc_offset_minutes), zone_(absl::FixedTimeZone(utc_offset_minutes * 60)) {}

int Calendar::YearOf(absl::Time t) const {
  return static_cast<int>(absl::ToCivilYear(t, zone_).year());
}

absl::CivilDay Calendar::DayOf(absl::Time t) const { return absl::ToCivilDay(t, zone_); }

absl::Time Calendar::StartOf(absl::CivilDay day) const { return absl::FromCivil(day, zone_); }

absl::Time Calendar::AddMonths(absl::Time t, int months) const {
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) return t;
  const absl::CivilSecond cs = absl::ToCivilSecond(t, zone_);
  const absl::Duration subsecond = t - absl::FromCivil(cs, zone_);
  const absl::CivilMonth target = absl::CivilMonth(cs) + months;
  const int day = std::min(cs.day(), DaysInMonth(target));
  const absl::CivilSecond moved(target.year(), target.month(), day, cs.hour(), cs.minute(),
                                cs.second());
  return absl::FromCivil(moved, zone_) + subsecond;
}

absl::Time Calendar::AddWorkingDays(absl::Time t, int n) const {
  absl::Time out = t;
  int left = n;
  while (left > 0) {
    out += absl::Hours(24);  // fixed offset: a civil day is always 24 h
    const absl::Weekday wd = absl::GetWeekday(DayOf(out));
    if (wd != absl::Weekday::saturday && wd != absl::Weekday::sunday) --left;
  }
  return out;
}

absl::StatusOr<absl::CivilDay> ParseCivilDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) {
    return absl::InvalidArgumentError(absl::StrCat("not a date (YYYY-MM-DD): '", text, "'"));
  }
  return day;
}

absl::StatusOr<absl::Time> ParseRfc3339(absl::string_view text) {
  absl::Time t;
  std::string err;
  // %Ez requires an offset (or Z); %E*S takes fractional seconds.
  if (!absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", std::string(text), &t, &err)) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an RFC 3339 time with offset: '", text, "' (", err, ")"));
  }
  return t;
}

std::string FormatRfc3339(absl::Time t, int utc_offset_minutes) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", t,
                          absl::FixedTimeZone(utc_offset_minutes * 60));
}

absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

void SetProto(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>((t - absl::FromUnixSeconds(seconds)) / absl::Nanoseconds(1)));
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  SetProto(t, &ts);
  return ts;
}

}  // namespace claimgate::ledger
